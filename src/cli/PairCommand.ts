import { Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { loadOrCreateSecret } from "../pairing/Secret.ts"
import { pairPayload, printPairing } from "../pairing/PairingCode.ts"

export const relayOption = Options.text("relay").pipe(Options.withDescription("the relay's URL as the phone reaches it, e.g. https://push.example.com"))
export const openCodeOption = Options.text("opencode").pipe(
  Options.withDefault("http://127.0.0.1:4096"),
  Options.withDescription("the OpenCode server's URL (its port goes into the hosts the phone tries)")
)

export const pairCommand = Command.make("pair", { relay: relayOption, opencode: openCodeOption }, ({ opencode, relay }) =>
  Effect.gen(function*() {
    const { created, secret } = yield* loadOrCreateSecret()
    if (created) yield* Console.log("Created a new pairing secret in the data dir (PUSHLINE_DATA_DIR, default ./.pushline).")
    yield* printPairing(pairPayload(secret, relay, opencode))
  })
).pipe(Command.withDescription("Print the QR code and link that pair the phone app with this machine and the relay (creates the secret if needed)"))
