/**
 * The OpenCode plugin: forwards its directory's OpenCode events to a Pushline relay
 * through the bridge's own spool, redaction and forwarder (src/bridge/), bundled by
 * `npm run build:plugin` into plugin/pushline-opencode-plugin.js, one file with no
 * imports beyond Node's built-ins. Options (or environment):
 *   relayURL  / PUSHLINE_RELAY_URL   the relay, e.g. https://push.example.com (required)
 *   secret    / PUSHLINE_SECRET      the pairing secret (default: <dataDir>/secret)
 *   dataDir   / PUSHLINE_DATA_DIR    where the secret and the spool live (default: ~/.pushline)
 *   serverID  / PUSHLINE_SERVER_ID   the id the phone knows this server by (default: derived, as OpenCode's poster does)
 *   redact    / PUSHLINE_REDACT=1    forward statuses only (no message text)
 *   maxSpoolEvents / PUSHLINE_MAX_SPOOL_EVENTS   spool bound (default 50000)
 */
import { Clock, Effect, Layer, Logger, ManagedRuntime } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { DEFAULT_FORWARDER, forward } from "../bridge/Forwarder.ts"
import { type ForwardedFrame, isForwarded, type OpenCodePayload } from "../bridge/Frames.ts"
import { redact } from "../bridge/Redaction.ts"
import { DEFAULT_LIMITS, Spool } from "../bridge/Spool.ts"
import { envVar } from "../config/Environment.ts"
import { serverIdFor } from "../pairing/ServerId.ts"
import { lockSpool } from "./lockSpool.ts"

export interface PluginOptions {
  readonly relayURL?: string
  readonly secret?: string
  readonly dataDir?: string
  readonly serverID?: string
  readonly redact?: boolean
  readonly maxSpoolEvents?: number
}

const settingsFrom = (options: PluginOptions, env: NodeJS.ProcessEnv) => {
  const dataDir = options.dataDir ?? envVar("PUSHLINE_DATA_DIR", env) ?? path.join(os.homedir(), ".pushline")
  let secret = options.secret ?? envVar("PUSHLINE_SECRET", env)
  if (secret === undefined) {
    try {
      secret = fs.readFileSync(path.join(dataDir, "secret"), "utf8").trim()
    } catch {
      // none
    }
  }
  const relayURL = options.relayURL ?? envVar("PUSHLINE_RELAY_URL", env)
  return {
    relayURL,
    secret,
    dataDir,
    serverID: options.serverID ?? envVar("PUSHLINE_SERVER_ID", env) ?? (relayURL !== undefined && secret !== undefined ? serverIdFor(relayURL, secret) : undefined),
    redact: options.redact === true || env.PUSHLINE_REDACT === "1" || env.PUSHLINE_REDACT === "true",
    maxEvents: Number(options.maxSpoolEvents ?? envVar("PUSHLINE_MAX_SPOOL_EVENTS", env) ?? DEFAULT_LIMITS.maxEvents)
  }
}

/** Log lines as OpenCode's other plugins write them: `[pushline] …` on the console. */
const PluginLogger = Logger.replace(
  Logger.defaultLogger,
  Logger.make(({ logLevel, message }) => {
    const text = `[pushline] ${Array.isArray(message) ? message.join(" ") : String(message)}`
    if (logLevel._tag === "Error" || logLevel._tag === "Fatal") console.error(text)
    else if (logLevel._tag === "Warning") console.warn(text)
    else console.info(text)
  })
)

export const PushlinePlugin = async (input: { readonly directory?: string } | undefined, options: PluginOptions = {}) => {
  const settings = settingsFrom(options ?? {}, process.env)
  if (settings.relayURL === undefined || settings.secret === undefined) {
    console.warn("[pushline] not forwarding: set PUSHLINE_RELAY_URL and PUSHLINE_SECRET (or the plugin options relayURL and secret)")
    return {}
  }
  if (settings.secret.length < 16) {
    console.error("[pushline] not forwarding: the secret must be at least 16 characters")
    return {}
  }
  const directory = input?.directory ?? process.cwd()
  const key = crypto.createHash("sha256").update(`${directory}|${settings.relayURL}`).digest("hex").slice(0, 16)
  const spoolDir = lockSpool(path.join(settings.dataDir, "plugin-spool", key))
  const runtime = ManagedRuntime.make(Layer.merge(Spool.layer(spoolDir, { ...DEFAULT_LIMITS, maxEvents: settings.maxEvents }), PluginLogger))
  const relay = { url: settings.relayURL, secret: settings.secret, ...(settings.serverID === undefined ? {} : { serverID: settings.serverID }) }
  runtime.runFork(forward({ relay, ...DEFAULT_FORWARDER }))

  // Events come one call at a time and the hook is not awaited: gather what arrives in
  // one tick, then write it with one fsync.
  let pending: Array<ForwardedFrame> = []
  const flush = () => {
    const frames = pending
    pending = []
    runtime.runFork(
      Effect.flatMap(Spool, (spool) => spool.append(frames)).pipe(
        Effect.catchAll((error) => Effect.logError(`cannot write the spool ${spoolDir}, ${frames.length} events lost: ${error.reason}`))
      )
    )
  }
  console.info(`[pushline] forwarding ${directory} to ${settings.relayURL}${settings.redact ? " (statuses only)" : ""}`)
  return {
    event: async ({ event }: { readonly event?: OpenCodePayload }) => {
      if (event === undefined || event === null || typeof event.type !== "string") return
      const seen: ForwardedFrame = { directory, payload: event, seenAt: runtime.runSync(Clock.currentTimeMillis) }
      if (!isForwarded(seen)) return
      const frame = settings.redact ? redact(seen) : seen
      if (frame === undefined) return
      if (pending.length === 0) setImmediate(flush)
      pending.push(frame)
    }
  }
}
