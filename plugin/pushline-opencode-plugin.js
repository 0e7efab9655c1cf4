// Pushline plugin for OpenCode: forwards this directory's OpenCode events to a
// Pushline relay (POST /v1/opencode/events), in batches, through a durable spool,
// so the relay can push Live Activity updates and alerts to your phone.
//
// Install: copy this one file into `.opencode/plugins/` of a project (or
// `~/.config/opencode/plugins/`), or name it in opencode.json:
//   "plugin": [["file:///abs/path/pushline-opencode-plugin.js", {"relayURL": "...", "secret": "..."}]]
// Configure by plugin options or environment:
//   relayURL  / PUSHLINE_RELAY_URL   the relay, e.g. https://push.example.com   (required)
//   secret    / PUSHLINE_SECRET      the pairing secret (default: <dataDir>/secret)
//   dataDir   / PUSHLINE_DATA_DIR    where the secret and the spool live (default: ~/.pushline)
//   serverID  / PUSHLINE_SERVER_ID   the id the phone knows this OpenCode server by (default: derived, as OpenCode's poster does)
//   redact    / PUSHLINE_REDACT=1    forward statuses only (no message text)
//   maxSpoolEvents / PUSHLINE_MAX_SPOOL_EVENTS   spool bound (default 50000)
// A plugin sees the events of its own directory only; to cover every project of
// an OpenCode server, run `pushline bridge` instead.
//
// Plain JavaScript with Node built-ins only, so it can be dropped in as is. The
// spool format is the bridge's (src/bridge/SpoolFile.ts): segment-<n>.jsonl plus
// state.json {segment, offset}.
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const MAX_BATCH = 200
const LINGER_MS = 25
const BACKOFF_BASE_MS = 200
const BACKOFF_MAX_MS = 10_000
const COMPACT_BYTES = 1024 * 1024
const STATUS_TYPES = new Set(["session.created", "session.updated", "session.deleted", "session.status", "session.idle", "session.error", "permission.asked", "permission.replied", "question.asked", "question.replied", "question.rejected"])

const log = (level, message) => console[level](`[pushline] ${message}`)

const settingsFrom = (options, env) => {
  const dataDir = options.dataDir ?? env.PUSHLINE_DATA_DIR ?? path.join(os.homedir(), ".pushline")
  let secret = options.secret ?? env.PUSHLINE_SECRET
  if (!secret) {
    try {
      secret = fs.readFileSync(path.join(dataDir, "secret"), "utf8").trim()
    } catch {
      // none
    }
  }
  const relayURL = options.relayURL ?? env.PUSHLINE_RELAY_URL
  // As OpenCode's own poster derives it (src/pairing/ServerId.ts), so both paths name one server.
  const derivedServerID = relayURL && secret
    ? crypto.createHash("sha256").update(`${String(relayURL).trim().replace(/\/+$/, "")}|${String(secret).trim()}`).digest("hex").slice(0, 16)
    : undefined
  return {
    relayURL,
    secret,
    dataDir,
    serverID: options.serverID ?? env.PUSHLINE_SERVER_ID ?? derivedServerID,
    redact: options.redact === true || env.PUSHLINE_REDACT === "1" || env.PUSHLINE_REDACT === "true",
    maxEvents: Number(options.maxSpoolEvents ?? env.PUSHLINE_MAX_SPOOL_EVENTS ?? 50_000),
    maxBytes: 64 * 1024 * 1024
  }
}

// --- spool ---------------------------------------------------------------

const writeState = (dir, state) => {
  const tmp = path.join(dir, "state.json.tmp")
  const fd = fs.openSync(tmp, "w")
  fs.writeSync(fd, JSON.stringify(state))
  fs.fsyncSync(fd)
  fs.closeSync(fd)
  fs.renameSync(tmp, path.join(dir, "state.json"))
}

/** One process per spool directory: a second OpenCode on the same directory gets its own. */
const lockSpool = (base) => {
  const tryLock = (dir) => {
    fs.mkdirSync(dir, { recursive: true })
    const lock = path.join(dir, "owner.pid")
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: "wx" })
      return dir
    } catch {
      const owner = Number(fs.readFileSync(lock, "utf8"))
      let alive = false
      try {
        process.kill(owner, 0)
        alive = owner !== process.pid
      } catch {
        alive = false
      }
      if (alive) return undefined
      fs.writeFileSync(lock, String(process.pid))
      return dir
    }
  }
  return tryLock(base) ?? tryLock(`${base}-${process.pid}`)
}

const openSpool = (dir, limits) => {
  let state = { segment: 0, offset: 0 }
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(dir, "state.json"), "utf8"))
    if (Number.isInteger(parsed.segment) && Number.isInteger(parsed.offset)) state = parsed
  } catch {
    // fresh
  }
  const segmentPath = (n) => path.join(dir, `segment-${n}.jsonl`)
  let segment = state.segment
  let offset = state.offset
  const file = segmentPath(segment)
  const content = fs.existsSync(file) ? fs.readFileSync(file) : Buffer.alloc(0)
  const end = content.lastIndexOf(0x0a) + 1
  if (end < content.length) fs.truncateSync(file, end)
  if (offset > end) offset = end
  const entries = []
  let nextSeq = 0
  let bytes = 0
  const hold = (line) => {
    const size = Buffer.byteLength(line) + 1
    entries.push({ seq: nextSeq++, line, bytes: size })
    bytes += size
  }
  for (const line of content.subarray(offset, end).toString("utf8").split("\n")) if (line !== "") hold(line)
  for (const name of fs.readdirSync(dir)) {
    if (/^segment-\d+\.jsonl$/.test(name) && name !== path.basename(file)) fs.rmSync(path.join(dir, name), { force: true })
  }
  let fd = fs.openSync(file, "a")
  let droppedTotal = 0
  let lastWarned = 0

  const release = (count) => {
    for (const entry of entries.splice(0, count)) {
      offset += entry.bytes
      bytes -= entry.bytes
    }
  }
  const compact = () => {
    const next = segment + 1
    const nfd = fs.openSync(segmentPath(next), "w")
    fs.writeSync(nfd, entries.map((e) => e.line + "\n").join(""))
    fs.fsyncSync(nfd)
    fs.closeSync(nfd)
    writeState(dir, { segment: next, offset: 0 })
    fs.closeSync(fd)
    fs.rmSync(segmentPath(segment), { force: true })
    fd = fs.openSync(segmentPath(next), "a")
    segment = next
    offset = 0
  }
  const persist = () => (offset >= COMPACT_BYTES ? compact() : writeState(dir, { segment, offset }))

  return {
    get size() {
      return entries.length
    },
    append(items) {
      if (items.length === 0) return
      const lines = items.map((item) => JSON.stringify(item))
      fs.writeSync(fd, lines.map((l) => l + "\n").join(""))
      fs.fsyncSync(fd)
      for (const line of lines) hold(line)
      let drop = 0
      let left = bytes
      while (drop < entries.length && (entries.length - drop > limits.maxEvents || left > limits.maxBytes)) left -= entries[drop++].bytes
      if (drop > 0) {
        release(drop)
        persist()
        droppedTotal += drop
        if (Date.now() - lastWarned > 5000) {
          lastWarned = Date.now()
          log("error", `SPOOL FULL (${limits.maxEvents} events in ${dir}): dropped the oldest events the relay has not acknowledged (${droppedTotal} so far). Is the relay reachable?`)
        }
      }
    },
    peek: (max) => entries.slice(0, max),
    ack(seq) {
      let count = 0
      while (count < entries.length && entries[count].seq <= seq) count++
      if (count === 0) return
      release(count)
      persist()
    },
    discard(seq) {
      const index = entries.findIndex((e) => e.seq === seq)
      if (index < 0) return
      const [removed] = entries.splice(index, 1)
      bytes -= removed.bytes
      compact()
    },
    close() {
      try {
        fs.closeSync(fd)
      } catch {
        // closed
      }
    }
  }
}

// --- redaction (statuses only), as the bridge's --redact ------------------

const redactEvent = (event) => {
  if (!STATUS_TYPES.has(event.type)) return undefined
  const p = event.properties ?? {}
  let properties = p
  if (event.type.startsWith("session.") && p.info) {
    properties = { sessionID: p.sessionID ?? p.info.id, info: { id: p.info.id, ...(p.info.parentID ? { parentID: p.info.parentID } : {}), ...(p.info.time ? { time: p.info.time } : {}) } }
  } else if (event.type === "session.status" && p.status?.type === "retry") {
    properties = { sessionID: p.sessionID, status: { type: "retry", attempt: p.status.attempt, next: p.status.next, message: "" } }
  } else if (event.type === "session.error") {
    properties = { ...(p.sessionID ? { sessionID: p.sessionID } : {}), ...(p.error ? { error: { name: p.error.name, data: { message: "" } } } : {}) }
  } else if (event.type === "permission.asked") {
    properties = { id: p.id, sessionID: p.sessionID, permission: p.permission, patterns: [], metadata: {}, always: [] }
  } else if (event.type === "question.asked") {
    properties = { id: p.id, sessionID: p.sessionID, questions: [] }
  } else if (event.type === "question.replied" || event.type === "question.rejected") {
    properties = { sessionID: p.sessionID, requestID: p.requestID }
  }
  return { ...event, properties }
}

// --- forwarding ----------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const startForwarder = (settings, spool) => {
  let wake = () => {}
  let failures = 0
  let failingSince = 0
  let lastReported = 0
  let limit = MAX_BATCH
  const waitForItems = () => (spool.size > 0 ? Promise.resolve() : new Promise((resolve) => (wake = resolve)))
  const failed = async (message, loud) => {
    const now = Date.now()
    if (failures === 0) failingSince = now
    failures++
    if (failures === 1 || now - lastReported >= 30_000) {
      lastReported = now
      log(loud ? "error" : "warn", `relay ${settings.relayURL}: ${message} (${spool.size} events waiting, failing for ${Math.round((now - failingSince) / 1000)} s); retrying`)
    }
    const capped = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 30))
    await sleep(Math.round(capped * (0.5 + Math.random() / 2)))
  }
  const post = async (batch) => {
    const body = `{${settings.serverID ? `"serverID":${JSON.stringify(settings.serverID)},` : ""}"events":[${batch.map((e) => e.line).join(",")}]}`
    try {
      const response = await fetch(new URL("/v1/opencode/events", settings.relayURL), {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${settings.secret}` },
        body,
        signal: AbortSignal.timeout(10_000)
      })
      const text = await response.text()
      let parsed
      try {
        parsed = JSON.parse(text)
      } catch {
        parsed = undefined
      }
      return { status: response.status, ok: response.status === 202 || (response.ok && parsed?.ok === true), error: parsed?.error ?? `HTTP ${response.status}` }
    } catch (error) {
      return { status: 0, ok: false, error: error?.cause?.message ?? error?.message ?? String(error) }
    }
  }
  const loop = async () => {
    while (true) {
      await waitForItems()
      if (spool.size < limit) await sleep(LINGER_MS)
      const batch = spool.peek(limit)
      const result = await post(batch)
      if (result.ok) {
        spool.ack(batch[batch.length - 1].seq)
        if (failures > 0) log("info", `relay ${settings.relayURL} reachable again after ${failures} failed attempts`)
        failures = 0
        limit = MAX_BATCH
      } else if (result.status === 401 || result.status === 403) {
        await failed(`the relay refuses the secret (${result.error})`, true)
      } else if (result.status === 413) {
        if (batch.length > 1) limit = Math.max(1, Math.floor(batch.length / 2))
        else {
          log("error", `relay refused an event as too large; dropped it: ${batch[0].line.slice(0, 200)}`)
          spool.discard(batch[0].seq)
        }
      } else if (result.status === 400) {
        const match = /events\[(\d+)\]/.exec(result.error)
        const bad = match && Number(match[1]) < batch.length ? [batch[Number(match[1])]] : batch
        log("error", `relay refused ${bad.length} event(s) as invalid (${result.error}); dropped them`)
        for (const entry of bad) spool.discard(entry.seq)
      } else {
        await failed(result.error, false)
      }
    }
  }
  loop().catch((error) => log("error", `forwarder stopped: ${error?.stack ?? error}`))
  return { wake: () => wake() }
}

export const PushlinePlugin = async (input, options = {}) => {
  const settings = settingsFrom(options ?? {}, process.env)
  if (!settings.relayURL || !settings.secret) {
    log("warn", "not forwarding: set PUSHLINE_RELAY_URL and PUSHLINE_SECRET (or the plugin options relayURL and secret)")
    return {}
  }
  if (settings.secret.length < 16) {
    log("error", "not forwarding: the secret must be at least 16 characters")
    return {}
  }
  const directory = input?.directory ?? process.cwd()
  const key = crypto.createHash("sha256").update(`${directory}|${settings.relayURL}`).digest("hex").slice(0, 16)
  const spoolDir = lockSpool(path.join(settings.dataDir, "plugin-spool", key))
  const spool = openSpool(spoolDir, { maxEvents: settings.maxEvents, maxBytes: settings.maxBytes })
  if (spool.size > 0) log("info", `${spool.size} events from before are delivered first`)
  const forwarder = startForwarder(settings, spool)
  // Events come one call at a time and the hook is not awaited: gather what
  // arrives in one tick, then write it with one fsync.
  let pending = []
  const flush = () => {
    const items = pending
    pending = []
    try {
      spool.append(items)
    } catch (error) {
      log("error", `cannot write the spool ${spoolDir}, ${items.length} events lost: ${error?.message ?? error}`)
    }
    forwarder.wake()
  }
  log("info", `forwarding ${directory} to ${settings.relayURL}${settings.redact ? " (statuses only)" : ""}`)
  return {
    event: async ({ event }) => {
      if (!event || typeof event.type !== "string") return
      if (event.type === "sync" || event.type.startsWith("server.")) return
      const payload = settings.redact ? redactEvent(event) : event
      if (payload === undefined) return
      if (pending.length === 0) setImmediate(flush)
      pending.push({ directory, payload, seenAt: Date.now() })
    }
  }
}
