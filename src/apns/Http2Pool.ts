import * as http2 from "node:http2"
import { Connection, type ConnectionOptions, type ConnectionOwner } from "./Http2Connection.ts"

/**
 * A small pool of long-lived HTTP/2 connections to one APNs host. Requests are
 * spread over the connections, each connection's SETTINGS_MAX_CONCURRENT_STREAMS
 * is respected (the rest wait in a queue), idle connections are PINGed, a
 * connection that gets GOAWAY is drained and replaced, and failed connects back
 * off. Opening a connection per push looks like abuse to Apple; this never does.
 */
export interface Http2PoolOptions extends ConnectionOptions {
  readonly connections: number
  readonly requestTimeoutMs: number
}

export interface PoolResponse {
  readonly status: number
  readonly headers: http2.IncomingHttpHeaders
  readonly body: string
}

export class PoolRequestFailed extends Error {
  readonly reason: string
  constructor(reason: string) {
    super(reason)
    this.reason = reason
  }
}

/** Called once per request, synchronously if the pool is closed. */
export type PoolCallback = (outcome: PoolResponse | PoolRequestFailed) => void

/** A request and, while a stream carries it, that stream's answer so far. */
interface Pending {
  readonly headers: http2.OutgoingHttpHeaders
  readonly body: string
  readonly done: PoolCallback
  readonly deadline: number
  attempts: number
  settled: boolean
  connection: Connection | undefined
  stream: http2.ClientHttp2Stream | undefined
  response: http2.IncomingHttpHeaders | undefined
  chunks: Array<Buffer> | undefined
  error: NodeJS.ErrnoException | undefined
  /** Neighbours in the pool's list of unanswered requests. */
  older: Pending | undefined
  newer: Pending | undefined
}

const RETRYABLE_BEFORE_RESPONSE = new Set(["ERR_HTTP2_GOAWAY_SESSION", "ERR_HTTP2_INVALID_SESSION", "ERR_HTTP2_STREAM_CANCEL"])

// Stream listeners shared by all requests (no closures per push): the stream carries its request.
const kPending = Symbol("pushline.pending")
const kPool = Symbol("pushline.pool")
type PoolStream = http2.ClientHttp2Stream & { [kPending]: Pending; [kPool]: Http2Pool }
function onResponse(this: PoolStream, headers: http2.IncomingHttpHeaders) {
  this[kPending].response = headers
}
function onData(this: PoolStream, chunk: Buffer) {
  const pending = this[kPending]
  if (pending.chunks === undefined) pending.chunks = [chunk]
  else pending.chunks.push(chunk)
}
function onError(this: PoolStream, error: NodeJS.ErrnoException) {
  this[kPending].error = error
}
// "close" comes after "end" (all data read) or after "error": one place decides.
function onClose(this: PoolStream) {
  this[kPool].streamClosed(this[kPending], this)
}

export class Http2Pool implements ConnectionOwner {
  private readonly connections: Array<Connection> = []
  private readonly queue: Array<Pending> = []
  /** Unanswered requests, a list from oldest to newest: all share one timeout, so they expire in this order. */
  private oldest: Pending | undefined
  private newest: Pending | undefined
  private deadlineTimer: NodeJS.Timeout | undefined
  private nextId = 1
  private failedConnects = 0
  private nextConnectAt = 0
  private connectTimer: NodeJS.Timeout | undefined
  private closing = false

  private readonly options: Http2PoolOptions

  constructor(options: Http2PoolOptions) {
    this.options = options
  }

  /** `headers` is the whole header block, pseudo-headers included. */
  request(headers: http2.OutgoingHttpHeaders, body: string, done: PoolCallback): void {
    if (this.closing) return done(new PoolRequestFailed("client is closed"))
    const pending: Pending = {
      headers,
      body,
      done,
      deadline: Date.now() + this.options.requestTimeoutMs,
      attempts: 0,
      settled: false,
      connection: undefined,
      stream: undefined,
      response: undefined,
      chunks: undefined,
      error: undefined,
      older: this.newest,
      newer: undefined
    }
    if (this.newest === undefined) this.oldest = pending
    else this.newest.newer = pending
    this.newest = pending
    if (this.deadlineTimer === undefined) this.armDeadline()
    const connection = this.queue.length === 0 ? this.pick() : undefined
    if (connection !== undefined && connection.hasCapacity) this.dispatch(connection, pending)
    else {
      this.queue.push(pending)
      this.pump()
    }
  }

  /** Current connections and their state, for tests and diagnostics. */
  stats() {
    return this.connections.map((c) => ({ id: c.id, active: c.active, maxStreams: c.maxStreams, draining: c.draining, ready: c.ready }))
  }

  close(): Promise<void> {
    this.closing = true
    if (this.connectTimer !== undefined) clearTimeout(this.connectTimer)
    for (const pending of this.queue.splice(0)) this.fail(pending, "client is closed")
    return Promise.all(
      this.connections.map((c) =>
        new Promise<void>((resolve) => {
          if (c.closed || c.session.destroyed) return resolve()
          c.session.once("close", () => resolve())
          if (!c.session.closed) c.session.close()
          // In-flight streams get a moment to finish, then the connection is dropped.
          setTimeout(() => c.session.destroy(), 1000).unref()
        })
      )
    ).then(() => undefined)
  }

  connected(_connection: Connection) {
    this.failedConnects = 0
    this.pump()
  }

  draining(_connection: Connection) {
    this.pump()
  }

  removed(connection: Connection) {
    const index = this.connections.indexOf(connection)
    if (index >= 0) this.connections.splice(index, 1)
    if (!connection.ready) {
      // Never got SETTINGS: the connect failed. Back off before the next one.
      this.failedConnects++
      const delay = Math.min(5_000, 100 * 2 ** (this.failedConnects - 1))
      this.nextConnectAt = Date.now() + delay
    }
    this.pump()
  }

  private open(): Connection | undefined {
    const now = Date.now()
    if (now < this.nextConnectAt) {
      if (this.connectTimer === undefined) {
        this.connectTimer = setTimeout(() => {
          this.connectTimer = undefined
          this.pump()
        }, this.nextConnectAt - now)
      }
      return undefined
    }
    const connection = new Connection(this.nextId++, this, this.options)
    this.connections.push(connection)
    return connection
  }

  /** The least busy connection with a free stream; opens one while fewer than configured are live. */
  private pick(): Connection | undefined {
    let best: Connection | undefined
    let live = 0
    for (const connection of this.connections) {
      if (connection.draining || connection.closed) continue
      live++
      if (connection.active < connection.maxStreams && (best === undefined || connection.active < best.active)) best = connection
    }
    // Grow to the configured number before doubling up on one connection.
    if (live < this.options.connections && (best === undefined || best.active > 0)) return this.open() ?? best
    return best
  }

  private pump() {
    while (this.queue.length > 0 && !this.closing) {
      const connection = this.pick()
      if (connection === undefined || !connection.hasCapacity) return
      this.dispatch(connection, this.queue.shift()!)
    }
  }

  private settle(pending: Pending, outcome: PoolResponse | PoolRequestFailed) {
    if (pending.settled) return
    pending.settled = true
    pending.stream = undefined
    // Unlink: the list holds only unanswered requests.
    if (pending.older === undefined) this.oldest = pending.newer
    else pending.older.newer = pending.newer
    if (pending.newer === undefined) this.newest = pending.older
    else pending.newer.older = pending.older
    if (this.oldest === undefined && this.deadlineTimer !== undefined) {
      clearTimeout(this.deadlineTimer)
      this.deadlineTimer = undefined
    }
    pending.done(outcome)
  }

  private fail(pending: Pending, reason: string) {
    this.settle(pending, new PoolRequestFailed(reason))
  }

  /** One timer, for the oldest unanswered request (not one per request). */
  private armDeadline() {
    this.deadlineTimer = this.oldest === undefined ? undefined : setTimeout(this.expire, Math.max(0, this.oldest.deadline - Date.now()))
  }

  private readonly expire = () => {
    const now = Date.now()
    while (this.oldest !== undefined && this.oldest.deadline <= now) {
      const pending = this.oldest
      const index = this.queue.indexOf(pending)
      if (index >= 0) this.queue.splice(index, 1)
      pending.stream?.close(http2.constants.NGHTTP2_CANCEL)
      this.fail(pending, `no answer within ${this.options.requestTimeoutMs} ms`)
    }
    this.armDeadline()
  }

  private dispatch(connection: Connection, pending: Pending) {
    pending.attempts++
    connection.active++
    let stream: http2.ClientHttp2Stream
    try {
      stream = connection.session.request(pending.headers)
    } catch (error) {
      connection.released()
      connection.drain()
      this.retryOrFail(pending, error instanceof Error ? error.message : String(error), true)
      return
    }
    pending.connection = connection
    pending.stream = stream
    pending.response = undefined
    pending.chunks = undefined
    pending.error = undefined
    const carried = stream as PoolStream
    carried[kPending] = pending
    carried[kPool] = this
    stream.on("response", onResponse)
    stream.on("data", onData)
    stream.on("error", onError)
    stream.on("close", onClose)
    stream.end(pending.body)
  }

  /** The stream is done: an answer, a refusal to resend, or a failure. */
  streamClosed(pending: Pending, stream: http2.ClientHttp2Stream) {
    pending.connection!.released()
    this.pump()
    if (pending.settled) return
    const { chunks, error, response } = pending
    const status = response === undefined ? 0 : Number(response[":status"] ?? 0)
    if (status !== 0 && error === undefined) {
      const body = chunks === undefined ? "" : chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")
      return this.settle(pending, { status, headers: response!, body })
    }
    const refused = status === 0 &&
      (stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM || RETRYABLE_BEFORE_RESPONSE.has(error?.code ?? ""))
    const reason = error !== undefined
      ? `${error.code ?? "stream error"}: ${error.message}`
      : Date.now() >= pending.deadline
      ? `no answer within ${this.options.requestTimeoutMs} ms`
      : `stream closed without an answer (code ${stream.rstCode ?? "none"})`
    this.retryOrFail(pending, reason, refused)
  }

  /** A stream the server refused was never processed: safe to send again, once. */
  private retryOrFail(pending: Pending, reason: string, refused: boolean) {
    if (pending.settled) return
    if (refused && !this.closing && pending.attempts < 3 && Date.now() < pending.deadline) {
      this.queue.unshift(pending)
      this.pump()
      return
    }
    this.fail(pending, reason)
  }
}
