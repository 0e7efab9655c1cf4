import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { DEFAULT_LIMITS } from "../bridge/Spool.ts"
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

const config = { opencode: openCodeOption, password, username, relay: relayOption, secret, serverID, redact, spool, maxSpool, noPairing }
export type BridgeOptions = Command.Command.ParseConfig<typeof config>

export const bridgeCommand = Command.make("bridge", config, (options) =>
  Effect.promise(() => import("./run/bridge.ts")).pipe(Effect.flatMap((m) => m.run(options)))
).pipe(Command.withDescription("Forward an OpenCode server's events (/global/event) to the relay, through a durable spool"))
