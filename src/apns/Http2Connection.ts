import * as http2 from "node:http2"
import * as tls from "node:tls"

export interface ConnectionOptions {
  /** `https://host:port` */
  readonly origin: string
  /** Extra CA to trust besides the system roots (a simulator's certificate). */
  readonly ca?: string | undefined
  readonly pingIntervalMs?: number | undefined
  readonly log?: ((message: string) => void) | undefined
}

/** What a connection tells its pool. */
export interface ConnectionOwner {
  connected(connection: Connection): void
  draining(connection: Connection): void
  removed(connection: Connection): void
}

/** Until the peer's SETTINGS arrive only one stream is safe (APNs allows one before a valid JWT). */
const INITIAL_STREAM_LIMIT = 1
const MAX_STREAMS_CAP = 1000

/**
 * One long-lived HTTP/2 connection: counts its open streams against the
 * peer's SETTINGS_MAX_CONCURRENT_STREAMS, PINGs when idle, drains on GOAWAY.
 */
export class Connection {
  readonly session: http2.ClientHttp2Session
  active = 0
  maxStreams = INITIAL_STREAM_LIMIT
  draining = false
  closed = false
  ready = false
  /** Set by each stream, cleared by the idle check: no clock read per request. */
  used = false
  private pingTimer: NodeJS.Timeout | undefined

  readonly id: number
  private readonly owner: ConnectionOwner

  constructor(id: number, owner: ConnectionOwner, options: ConnectionOptions) {
    this.id = id
    this.owner = owner
    const ca = options.ca === undefined ? undefined : [...tls.rootCertificates, options.ca]
    this.session = http2.connect(options.origin, {
      ...(ca === undefined ? {} : { ca }),
      settings: { enablePush: false }
    })
    this.session.on("remoteSettings", (settings) => {
      this.ready = true
      const limit = settings.maxConcurrentStreams
      this.maxStreams = limit === undefined || limit > MAX_STREAMS_CAP ? MAX_STREAMS_CAP : Math.max(1, limit)
      this.owner.connected(this)
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
      this.owner.removed(this)
    })
    // PING a connection that saw no stream for a whole interval.
    this.pingTimer = setInterval(() => {
      if (this.closed || this.active > 0 || this.used) {
        this.used = false
        return
      }
      this.session.ping((error) => {
        if (error !== null && !this.closed) {
          options.log?.(`APNs connection ${this.id}: PING failed (${error.message}); replacing it`)
          this.session.destroy()
        }
      })
    }, options.pingIntervalMs ?? 60_000)
    this.pingTimer.unref()
  }

  get hasCapacity() {
    return !this.draining && !this.closed && this.active < this.maxStreams
  }

  drain() {
    if (this.draining) return
    this.draining = true
    this.owner.draining(this)
    if (this.active === 0) this.session.close()
  }

  released() {
    this.active--
    this.used = true
    if (this.draining && this.active === 0 && !this.closed) this.session.close()
  }
}
