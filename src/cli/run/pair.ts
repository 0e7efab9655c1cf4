/**
 * `pushline pair`: prints the pairing QR code and link.
 * Loaded only when the command runs, so `pushline --help` stays quick.
 */
import type { PairOptions } from "../PairCommand.ts"
import { Console, Effect } from "effect"
import { loadOrCreateSecret } from "../../pairing/Secret.ts"
import { pairPayload, printPairing } from "../../pairing/PairingCode.ts"

export const run = ({ opencode, relay }: PairOptions) =>
  Effect.gen(function*() {
    const { created, secret } = yield* loadOrCreateSecret()
    if (created) yield* Console.log("Created a new pairing secret in the data dir (PUSHLINE_DATA_DIR, default ./.pushline).")
    yield* printPairing(pairPayload(secret, relay, opencode))
  })
