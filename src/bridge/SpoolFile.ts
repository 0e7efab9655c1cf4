import * as fs from "node:fs"
import * as path from "node:path"

/**
 * The durable queue of events the relay has not acknowledged yet.
 *
 * On disk, in its directory: `segment-<n>.jsonl` (one JSON item a line, only
 * ever appended to, fsynced before `append` returns) and `state.json`
 * `{"segment": n, "offset": bytes}` saying where the unacknowledged part of the
 * current segment starts (replaced atomically by rename). Acknowledging moves the
 * offset; once the acknowledged part is large, the rest is copied into segment
 * n+1 and the state switched to it, so a crash at any point leaves either the old
 * or the new, complete, view. A line cut short by a crash is dropped on open.
 * The plugin (plugin/pushline-opencode-plugin.js) writes the same format.
 *
 * Bounded by count and bytes: when full, the oldest items are dropped (the
 * newest say most about the sessions' state now) and `onOverflow` is told.
 */
export interface SpoolLimits {
  readonly maxEvents: number
  readonly maxBytes: number
}

export interface SpoolEntry {
  readonly seq: number
  readonly line: string
}

interface Held extends SpoolEntry {
  readonly bytes: number
}

const COMPACT_BYTES = 1024 * 1024

export class SpoolFile {
  private readonly entries: Array<Held> = []
  private bytes = 0
  private nextSeq = 0
  private fd: number
  private segment: number
  private offset: number
  private droppedTotal = 0

  readonly dir: string
  private readonly limits: SpoolLimits
  private readonly onOverflow: (dropped: number, droppedTotal: number) => void

  private constructor(dir: string, limits: SpoolLimits, onOverflow: (dropped: number, droppedTotal: number) => void) {
    this.dir = dir
    this.limits = limits
    this.onOverflow = onOverflow
    fs.mkdirSync(dir, { recursive: true })
    const state = readState(dir)
    this.segment = state.segment
    this.offset = state.offset
    const file = this.segmentPath(this.segment)
    const content = fs.existsSync(file) ? fs.readFileSync(file) : Buffer.alloc(0)
    // Keep only whole lines; a crash may have cut the last one short.
    const end = content.lastIndexOf(0x0a) + 1
    if (end < content.length) fs.truncateSync(file, end)
    if (this.offset > end) this.offset = end
    for (const line of content.subarray(this.offset, end).toString("utf8").split("\n")) {
      if (line === "") continue
      this.hold(line)
    }
    this.fd = fs.openSync(file, "a")
    for (const name of fs.readdirSync(dir)) {
      if (/^segment-\d+\.jsonl$/.test(name) && name !== path.basename(file)) fs.rmSync(path.join(dir, name), { force: true })
    }
  }

  static open(dir: string, limits: SpoolLimits, onOverflow: (dropped: number, droppedTotal: number) => void): SpoolFile {
    return new SpoolFile(dir, limits, onOverflow)
  }

  get size(): number {
    return this.entries.length
  }

  get sizeBytes(): number {
    return this.bytes
  }

  /** Appends items durably (one write and one fsync for the lot). */
  append(items: ReadonlyArray<unknown>): void {
    if (items.length === 0) return
    const lines = items.map((item) => JSON.stringify(item))
    const text = lines.map((line) => line + "\n").join("")
    fs.writeSync(this.fd, text)
    fs.fsyncSync(this.fd)
    for (const line of lines) this.hold(line)
    this.enforceLimits()
  }

  /** The oldest `max` unacknowledged items. */
  peek(max: number): ReadonlyArray<SpoolEntry> {
    return this.entries.slice(0, max)
  }

  /** Everything up to and including `seq` reached the relay. */
  ack(seq: number): void {
    let count = 0
    while (count < this.entries.length && this.entries[count]!.seq <= seq) count++
    if (count === 0) return
    this.release(count)
    this.persist()
  }

  /** Drops one entry (the relay refused it for good); the caller says why. */
  discard(seq: number): void {
    const index = this.entries.findIndex((entry) => entry.seq === seq)
    if (index < 0) return
    if (index === 0) {
      this.release(1)
      this.persist()
      return
    }
    // Not at the head: rewrite the unacknowledged part without it.
    const [removed] = this.entries.splice(index, 1)
    this.bytes -= removed!.bytes
    this.compact()
  }

  close(): void {
    try {
      fs.closeSync(this.fd)
    } catch {
      // already closed
    }
  }

  private segmentPath(n: number) {
    return path.join(this.dir, `segment-${n}.jsonl`)
  }

  private hold(line: string) {
    const bytes = Buffer.byteLength(line) + 1
    this.entries.push({ seq: this.nextSeq++, line, bytes })
    this.bytes += bytes
  }

  private release(count: number) {
    for (const entry of this.entries.splice(0, count)) {
      this.offset += entry.bytes
      this.bytes -= entry.bytes
    }
  }

  private enforceLimits() {
    let drop = 0
    let bytes = this.bytes
    while (drop < this.entries.length && (this.entries.length - drop > this.limits.maxEvents || bytes > this.limits.maxBytes)) {
      bytes -= this.entries[drop]!.bytes
      drop++
    }
    if (drop === 0) return
    this.release(drop)
    this.persist()
    this.droppedTotal += drop
    this.onOverflow(drop, this.droppedTotal)
  }

  private persist() {
    if (this.offset >= COMPACT_BYTES) return this.compact()
    writeState(this.dir, { segment: this.segment, offset: this.offset })
  }

  /** Copies the unacknowledged part into a new segment and switches to it. */
  private compact() {
    const next = this.segment + 1
    const file = this.segmentPath(next)
    const fd = fs.openSync(file, "w")
    fs.writeSync(fd, this.entries.map((entry) => entry.line + "\n").join(""))
    fs.fsyncSync(fd)
    writeState(this.dir, { segment: next, offset: 0 })
    fs.closeSync(this.fd)
    fs.rmSync(this.segmentPath(this.segment), { force: true })
    this.fd = fs.openSync(file, "a")
    fs.closeSync(fd)
    this.segment = next
    this.offset = 0
  }
}

interface SpoolState {
  readonly segment: number
  readonly offset: number
}

const readState = (dir: string): SpoolState => {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(dir, "state.json"), "utf8"))
    if (Number.isInteger(parsed.segment) && Number.isInteger(parsed.offset)) return parsed
  } catch {
    // no state yet
  }
  return { segment: 0, offset: 0 }
}

const writeState = (dir: string, state: SpoolState) => {
  const tmp = path.join(dir, "state.json.tmp")
  const fd = fs.openSync(tmp, "w")
  fs.writeSync(fd, JSON.stringify(state))
  fs.fsyncSync(fd)
  fs.closeSync(fd)
  fs.renameSync(tmp, path.join(dir, "state.json"))
}
