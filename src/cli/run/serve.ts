/**
 * `pushline serve`: the relay itself, once its configuration has been checked.
 * Loaded only when the command runs, so `pushline --help` stays quick.
 */
import { Effect, Layer } from "effect"
import { preflight } from "../../config/Preflight.ts"
import { RelayLive } from "../../server/RelayLive.ts"

export const run = preflight.pipe(Effect.zipRight(Layer.launch(RelayLive)))
