/**
 * `pushline bridge`: forwards one OpenCode server's events to the relay.
 * Loaded only when the command runs, so `pushline --help` stays quick.
 */
import type { BridgeOptions } from "../BridgeCommand.ts"
import { Duration, Effect, Option } from "effect"
import * as path from "node:path"
import { envVar } from "../../config/Environment.ts"
import { bridgeProgram, bridgeSettings } from "../../bridge/Bridge.ts"
import { basicAuthorization } from "../../bridge/GlobalEventStream.ts"
import { DEFAULT_LIMITS } from "../../bridge/Spool.ts"
import { pairPayload, printPairing } from "../../pairing/PairingCode.ts"
import { serverIdFor } from "../../pairing/ServerId.ts"
import { dataDir, loadOrCreateSecret } from "../../pairing/Secret.ts"

export const run = (options: BridgeOptions) =>
  Effect.gen(function*() {
    const given = Option.getOrUndefined(options.secret)
    if (given !== undefined && given.length < 16) return yield* Effect.dieMessage("--secret must be at least 16 characters")
    const pairingSecret = given ?? (yield* loadOrCreateSecret()).secret
    if (!options.noPairing) yield* printPairing(pairPayload(pairingSecret, options.relay, options.opencode))
    const pass = Option.getOrUndefined(options.password) ?? envVar("OPENCODE_SERVER_PASSWORD")
    const idleTimeoutMs = envVar("PUSHLINE_BRIDGE_IDLE_TIMEOUT_MS")
    const settings = bridgeSettings(
      {
        opencode: { url: options.opencode, authorization: pass === undefined || pass === "" ? undefined : basicAuthorization(options.username, pass) },
        relay: { url: options.relay, secret: pairingSecret, serverID: Option.getOrElse(options.serverID, () => serverIdFor(options.relay, pairingSecret)) },
        spoolDir: path.resolve(Option.getOrElse(options.spool, () => path.join(dataDir(), "bridge-spool")))
      },
      {
        redact: options.redact,
        limits: { ...DEFAULT_LIMITS, maxEvents: options.maxSpool },
        ...(idleTimeoutMs === undefined ? {} : { idleTimeout: Duration.millis(Number(idleTimeoutMs)) })
      }
    )
    yield* Effect.logInfo(`bridge: ${settings.opencode.url} → ${settings.relay.url}${settings.redact ? " (statuses only)" : ""}, spool ${settings.spoolDir}`)
    return yield* bridgeProgram(settings)
  })
