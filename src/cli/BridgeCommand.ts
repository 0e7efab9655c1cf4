import { Command, Options } from "@effect/cli"
import { Duration, Effect, Option } from "effect"
import * as path from "node:path"
import { bridgeProgram, bridgeSettings } from "../bridge/Bridge.ts"
import { basicAuthorization } from "../bridge/GlobalEventStream.ts"
import { DEFAULT_LIMITS } from "../bridge/Spool.ts"
import { pairPayload, printPairing } from "../pairing/PairingCode.ts"
import { serverIdFor } from "../pairing/ServerId.ts"
import { dataDir, loadOrCreateSecret } from "../pairing/Secret.ts"
import { openCodeOption, relayOption } from "./PairCommand.ts"

const password = Options.text("opencode-password").pipe(
  Options.optional,
  Options.withDescription("OpenCode's server password (OPENCODE_SERVER_PASSWORD), when it has one")
)
const username = Options.text("opencode-username").pipe(
  Options.withDefault("opencode"),
  Options.withDescription("user name for OpenCode's basic auth (OPENCODE_SERVER_USERNAME)")
)
const secret = Options.text("secret").pipe(
  Options.optional,
  Options.withDescription("the pairing secret (default: the one in the data dir, created on first use)")
)
const serverID = Options.text("server-id").pipe(
  Options.optional,
  Options.withDescription("the id the phone knows this OpenCode server by (default: derived from the relay URL and secret, as OpenCode's own poster does)")
)
const redact = Options.boolean("redact").pipe(Options.withDescription("forward statuses only: no message text, tool input or output, titles"))
const spool = Options.text("spool").pipe(
  Options.optional,
  Options.withDescription("directory of the durable spool (default: <data dir>/bridge-spool)")
)
const maxSpool = Options.integer("max-spool-events").pipe(
  Options.withDefault(DEFAULT_LIMITS.maxEvents),
  Options.withDescription("how many undelivered events the spool keeps before dropping the oldest (loudly)")
)
const noPairing = Options.boolean("no-pairing").pipe(Options.withDescription("do not print the pairing QR code at start"))

export const bridgeCommand = Command.make(
  "bridge",
  { opencode: openCodeOption, password, username, relay: relayOption, secret, serverID, redact, spool, maxSpool, noPairing },
  (options) =>
    Effect.gen(function*() {
      const given = Option.getOrUndefined(options.secret)
      if (given !== undefined && given.length < 16) return yield* Effect.dieMessage("--secret must be at least 16 characters")
      const pairingSecret = given ?? (yield* loadOrCreateSecret()).secret
      if (!options.noPairing) yield* printPairing(pairPayload(pairingSecret, options.relay, options.opencode))
      const pass = Option.getOrUndefined(options.password) ?? process.env.OPENCODE_SERVER_PASSWORD
      const settings = bridgeSettings(
        {
          opencode: { url: options.opencode, authorization: pass === undefined || pass === "" ? undefined : basicAuthorization(options.username, pass) },
          relay: { url: options.relay, secret: pairingSecret, serverID: Option.getOrElse(options.serverID, () => serverIdFor(options.relay, pairingSecret)) },
          spoolDir: path.resolve(Option.getOrElse(options.spool, () => path.join(dataDir(), "bridge-spool")))
        },
        {
          redact: options.redact,
          limits: { ...DEFAULT_LIMITS, maxEvents: options.maxSpool },
          ...(process.env.PUSHLINE_BRIDGE_IDLE_TIMEOUT_MS === undefined ? {} : { idleTimeout: Duration.millis(Number(process.env.PUSHLINE_BRIDGE_IDLE_TIMEOUT_MS)) })
        }
      )
      yield* Effect.logInfo(`bridge: ${settings.opencode.url} → ${settings.relay.url}${settings.redact ? " (statuses only)" : ""}, spool ${settings.spoolDir}`)
      return yield* bridgeProgram(settings)
    })
).pipe(Command.withDescription("Forward an OpenCode server's events (/global/event) to the relay, through a durable spool"))
