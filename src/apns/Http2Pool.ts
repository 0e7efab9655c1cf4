import * as http2 from "node:http2"
import * as tls from "node:tls"

/**
 * A small pool of long-lived HTTP/2 connections to one APNs host. Requests are
 * spread over the connections, each connection's SETTINGS_MAX_CONCURRENT_STREAMS
 * is respected (the rest wait in a queue), idle connections are PINGed, a
 * connection that gets GOAWAY is drained and replaced, and failed connects back
 * off. Opening a connection per push looks like abuse to Apple; this never does.
 */
export interface Http2PoolOptions {
  /** `https://host:port` */
  readonly origin: string
  /** Extra CA to trust besides the system roots (a simulator's certificate). */
  readonly ca?: string | undefined
  readonly connections: number
  readonly requestTimeoutMs: number
  readonly pingIntervalMs?: number | undefined
  readonly log?: ((message: string) => void) | undefined
}

export interface PoolRequest {
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

export interface PoolResponse {
  readonly status: number
  readonly headers: http2.IncomingHttpHeaders
  readonly body: string
}

export class PoolRequestFailed extends Error {
  constructor(readonly reason: string) {
    super(reason)
  }
}

interface Pending {
  readonly request: PoolRequest
  readonly resolve: (response: PoolResponse) => void
  readonly reject: (error: PoolRequestFailed) => void
  readonly deadline: number
  timer: NodeJS.Timeout | undefined
  stream: http2.ClientHttp2Stream | undefined
  attempts: number
  settled: boolean
}

/** Until the peer's SETTINGS arrive only one stream is safe (APNs allows one before a valid JWT). */
const INITIAL_STREAM_LIMIT = 1
const MAX_STREAMS_CAP = 1000
const RETRYABLE_BEFORE_RESPONSE = new Set(["ERR_HTTP2_GOAWAY_SESSION", "ERR_HTTP2_INVALID_SESSION", "ERR_HTTP2_STREAM_CANCEL"])

class Connection {
  readonly session: http2.ClientHttp2Session
  active = 0
  maxStreams = INITIAL_STREAM_LIMIT
  draining = false
  closed = false
  ready = false
  lastActivity = Date.now()
  private pingTimer: NodeJS.Timeout | undefined

  constructor(readonly id: number, private readonly pool: Http2Pool, options: Http2PoolOptions) {
    const ca = options.ca === undefined ? undefined : [...tls.rootCertificates, options.ca]
    this.session = http2.connect(options.origin, {
      ...(ca === undefined ? {} : { ca }),
      settings: { enablePush: false }
    })
    this.session.on("remoteSettings", (settings) => {
      this.ready = true
      const limit = settings.maxConcurrentStreams
      this.maxStreams = limit === undefined || limit > MAX_STREAMS_CAP ? MAX_STREAMS_CAP : Math.max(1, limit)
      this.pool.connected(this)
    })
    this.session.on("goaway", (code, lastStreamID, data) => {
      let reason = ""
      try {
        reason = data !== undefined && data.length > 0 ? String((JSON.parse(data.toString()) as { reason?: string }).reason ?? "") : ""
      } catch {
        reason = data?.toString() ?? ""
      }
      options.log?.(`APNs connection ${this.id}: GOAWAY (code ${code}, last stream ${lastStreamID}${reason === "" ? "" : `, ${reason}`}); draining and replacing it`)
      this.drain()
    })
    this.session.on("error", (error) => options.log?.(`APNs connection ${this.id}: ${error.message}`))
    this.session.on("close", () => {
      this.closed = true
      this.draining = true
      if (this.pingTimer !== undefined) clearInterval(this.pingTimer)
      this.pool.removed(this)
    })
    const pingEvery = options.pingIntervalMs ?? 60_000
    this.pingTimer = setInterval(() => {
      if (this.closed || this.active > 0 || Date.now() - this.lastActivity < pingEvery) return
      this.session.ping((error) => {
        if (error !== null && !this.closed) {
          options.log?.(`APNs connection ${this.id}: PING failed (${error.message}); replacing it`)
          this.session.destroy()
        }
      })
    }, pingEvery)
    this.pingTimer.unref()
  }

  get hasCapacity() {
    return !this.draining && !this.closed && this.active < this.maxStreams
  }

  drain() {
    if (this.draining) return
    this.draining = true
    this.pool.draining(this)
    if (this.active === 0) this.session.close()
  }

  released() {
    this.active--
    this.lastActivity = Date.now()
    if (this.draining && this.active === 0 && !this.closed) this.session.close()
  }
}

export class Http2Pool {
  private readonly connections: Array<Connection> = []
  private readonly queue: Array<Pending> = []
  private nextId = 1
  private failedConnects = 0
  private nextConnectAt = 0
  private connectTimer: NodeJS.Timeout | undefined
  private closing = false

  constructor(private readonly options: Http2PoolOptions) {}

  request(request: PoolRequest): Promise<PoolResponse> {
    return new Promise((resolve, reject) => {
      if (this.closing) return reject(new PoolRequestFailed("client is closed"))
      const pending: Pending = {
        request,
        resolve,
        reject,
        deadline: Date.now() + this.options.requestTimeoutMs,
        timer: undefined,
        stream: undefined,
        attempts: 0,
        settled: false
      }
      // One timer per request covers both the wait in the queue and the stream.
      pending.timer = setTimeout(() => {
        const index = this.queue.indexOf(pending)
        if (index >= 0) this.queue.splice(index, 1)
        pending.stream?.close(http2.constants.NGHTTP2_CANCEL)
        this.fail(pending, `no answer within ${this.options.requestTimeoutMs} ms`)
      }, this.options.requestTimeoutMs)
      this.queue.push(pending)
      this.pump()
    })
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

  private pick(): Connection | undefined {
    let best: Connection | undefined
    for (const connection of this.connections) {
      if (connection.hasCapacity && (best === undefined || connection.active < best.active)) best = connection
    }
    const live = this.connections.filter((c) => !c.draining && !c.closed).length
    // Grow to the configured number before doubling up on one connection.
    if (live < this.options.connections && (best === undefined || best.active > 0)) {
      return this.open() ?? best
    }
    return best
  }

  private pump() {
    while (this.queue.length > 0 && !this.closing) {
      const connection = this.pick()
      if (connection === undefined || !connection.hasCapacity) return
      const pending = this.queue.shift()!
      this.dispatch(connection, pending)
    }
  }

  private fail(pending: Pending, reason: string) {
    if (pending.settled) return
    pending.settled = true
    if (pending.timer !== undefined) clearTimeout(pending.timer)
    pending.reject(new PoolRequestFailed(reason))
  }

  private dispatch(connection: Connection, pending: Pending) {
    pending.attempts++
    connection.active++
    let stream: http2.ClientHttp2Stream
    try {
      stream = connection.session.request({
        ":method": "POST",
        ":path": pending.request.path,
        ...pending.request.headers
      })
    } catch (error) {
      connection.released()
      connection.drain()
      this.retryOrFail(pending, error instanceof Error ? error.message : String(error), true)
      return
    }
    let status = 0
    let headers: http2.IncomingHttpHeaders = {}
    const chunks: Array<Buffer> = []
    let done = false
    const finish = () => {
      if (done) return false
      done = true
      connection.released()
      this.pump()
      return true
    }
    pending.stream = stream
    stream.on("response", (responseHeaders) => {
      status = Number(responseHeaders[":status"] ?? 0)
      headers = responseHeaders
    })
    stream.on("data", (chunk: Buffer) => chunks.push(chunk))
    stream.on("end", () => {
      if (!finish()) return
      if (status === 0) {
        // The stream ended without response headers: the connection went away mid-request.
        this.retryOrFail(pending, `connection lost before an answer (code ${stream.rstCode ?? "none"})`, false)
        return
      }
      if (pending.settled) return
      pending.settled = true
      if (pending.timer !== undefined) clearTimeout(pending.timer)
      pending.resolve({ status, headers, body: Buffer.concat(chunks).toString("utf8") })
    })
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (!finish()) return
      const refused = status === 0 &&
        (stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM || RETRYABLE_BEFORE_RESPONSE.has(error.code ?? ""))
      this.retryOrFail(pending, `${error.code ?? "stream error"}: ${error.message}`, refused)
    })
    stream.on("close", () => {
      if (!finish()) return
      const refused = status === 0 && stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM
      const reason = Date.now() >= pending.deadline
        ? `no answer within ${this.options.requestTimeoutMs} ms`
        : `stream closed without an answer (code ${stream.rstCode})`
      this.retryOrFail(pending, reason, refused)
    })
    stream.end(pending.request.body)
  }

  /** A stream the server refused was never processed: safe to send again, once. */
  private retryOrFail(pending: Pending, reason: string, refused: boolean) {
    if (pending.settled) return
    if (refused && pending.attempts < 3 && Date.now() < pending.deadline) {
      this.queue.unshift(pending)
      this.pump()
      return
    }
    this.fail(pending, reason)
  }
}
