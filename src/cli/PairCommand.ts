import { Command, Options } from "@effect/cli"
import { Effect } from "effect"

export const relayOption = Options.text("relay").pipe(Options.withDescription("the relay's URL as the phone reaches it, e.g. https://push.example.com"))
export const openCodeOption = Options.text("opencode").pipe(
  Options.withDefault("http://127.0.0.1:4096"),
  Options.withDescription("the OpenCode server's URL (its port goes into the hosts the phone tries)")
)

const config = { relay: relayOption, opencode: openCodeOption }
export type PairOptions = Command.Command.ParseConfig<typeof config>

export const pairCommand = Command.make("pair", config, (options) =>
  Effect.promise(() => import("./run/pair.ts")).pipe(Effect.flatMap((m) => m.run(options)))
).pipe(Command.withDescription("Print the QR code and link that pair the phone app with this machine and the relay (creates the secret if needed)"))
