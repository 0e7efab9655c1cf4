import * as crypto from "node:crypto"
import * as http2 from "node:http2"
import type { AddressInfo } from "node:net"
import { generateCertificate, type SimulatorCertificate } from "./certificate.ts"
import { JwtVerifier, type SigningKey } from "./JwtVerifier.ts"
import { type Rejection, deviceTokenOf, validateHeaders, validatePayload, validateRoute } from "./validateRequest.ts"

/**
 * A local APNs: HTTP/2 over TLS with its own certificate, checking requests
 * the way Apple does (see validateRequest.ts and JwtVerifier.ts), with
 * configurable stream limits, dead tokens and injected faults. It records every
 * accepted push; `GET /pushes` (HTTP/1.1 or HTTP/2, same port) lists them.
 */
export type Fault =
  | { readonly kind: "status"; readonly status: 429 | 500 | 503; readonly reason?: string }
  | { readonly kind: "goaway" }
  | { readonly kind: "reset" }
  | { readonly kind: "latency"; readonly ms: number }

export interface RecordedPush {
  readonly seq: number
  readonly receivedAt: number
  readonly connectionId: number
  readonly token: string
  readonly apnsId: string
  readonly headers: Readonly<Record<string, string>>
  readonly payload: any
}

export interface RejectedPush {
  readonly receivedAt: number
  readonly token: string | undefined
  readonly status: number
  readonly reason: string
}

export interface SimulatorOptions {
  readonly port?: number | undefined
  readonly host?: string | undefined
  readonly keys: ReadonlyArray<SigningKey>
  readonly maxConcurrentStreams?: number | undefined
  readonly allowedBundles?: ReadonlyArray<string> | undefined
  readonly certificate?: SimulatorCertificate | undefined
  /** The simulator's idea of now (epoch ms), for token age checks. */
  readonly now?: (() => number) | undefined
}

const DEFAULT_REASONS: Record<number, string> = { 429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable" }
const TOKEN_UPDATE_WINDOW_MS = 20 * 60 * 1000

interface ConnectionState {
  readonly id: number
  token: string | undefined
  tokenSince: number
  active: number
  maxActive: number
}

export class ApnsSimulator {
  readonly pushes: Array<RecordedPush> = []
  readonly rejections: Array<RejectedPush> = []
  /** Dead tokens: answered 410 Unregistered with this timestamp (epoch ms). */
  readonly unregistered = new Map<string, number>()
  /** Tokens bound to one bundle id: other topics get DeviceTokenNotForTopic. */
  readonly tokenBundles = new Map<string, string>()
  readonly faultsByToken = new Map<string, Fault>()
  faultRate: { readonly probability: number; readonly faults: ReadonlyArray<Fault> } | undefined
  /** Highest number of streams seen open at once on any one connection. */
  maxConcurrentSeen = 0
  connectionsOpened = 0
  private seq = 0
  private readonly verifier: JwtVerifier
  private readonly sessions = new Set<http2.ServerHttp2Session>()
  private readonly listeners = new Set<(push: RecordedPush) => void>()

  private constructor(
    private readonly server: http2.Http2SecureServer,
    readonly certificate: SimulatorCertificate,
    private readonly options: SimulatorOptions
  ) {
    this.verifier = new JwtVerifier(options.keys)
  }

  static async start(options: SimulatorOptions): Promise<ApnsSimulator> {
    const certificate = options.certificate ?? (await generateCertificate())
    const server = http2.createSecureServer({
      cert: certificate.certPem,
      key: certificate.keyPem,
      allowHTTP1: true,
      settings: { maxConcurrentStreams: options.maxConcurrentStreams ?? 1000 }
    })
    const simulator = new ApnsSimulator(server, certificate, options)
    server.on("session", (session) => simulator.onSession(session))
    // HTTP/2 streams are handled raw (the compat API costs more than the checks);
    // HTTP/1.1 is only for reading the records with curl or fetch.
    server.on("stream", (stream, headers) => void simulator.onStream(stream, headers))
    server.on("request", (request, response) => {
      if (request.httpVersion === "2.0") return
      simulator.serveRecords(request.method, request.url, (status, body) => {
        response.writeHead(status, { "content-type": "application/json" })
        response.end(body)
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject)
      server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve())
    })
    return simulator
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  /** `127.0.0.1:PORT`, the value for APNS_HOST. */
  get host(): string {
    return `${this.options.host ?? "127.0.0.1"}:${this.port}`
  }

  get origin(): string {
    return `https://${this.host}`
  }

  /** Called for every accepted push (the relay's timeline and tests listen). */
  onPush(listener: (push: RecordedPush) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  addKey(key: SigningKey) {
    this.verifier.addKey(key)
  }

  clear() {
    this.pushes.length = 0
    this.rejections.length = 0
    this.maxConcurrentSeen = 0
  }

  close(): Promise<void> {
    for (const session of this.sessions) session.destroy()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  private readonly state = new WeakMap<http2.ServerHttp2Session, ConnectionState>()
  private readonly goawayLastStream = new WeakMap<http2.ServerHttp2Session, number>()

  private onSession(session: http2.ServerHttp2Session) {
    this.connectionsOpened++
    this.sessions.add(session)
    this.state.set(session, { id: this.connectionsOpened, token: undefined, tokenSince: 0, active: 0, maxActive: 0 })
    session.on("close", () => this.sessions.delete(session))
    session.on("error", () => {})
  }

  private now() {
    return this.options.now?.() ?? Date.now()
  }

  private pickFault(token: string): Fault | undefined {
    const byToken = this.faultsByToken.get(token)
    if (byToken !== undefined) return byToken
    const rate = this.faultRate
    if (rate !== undefined && rate.faults.length > 0 && Math.random() < rate.probability) {
      return rate.faults[Math.floor(Math.random() * rate.faults.length)]
    }
    return undefined
  }

  private async onStream(stream: http2.ServerHttp2Stream, requestHeaders: http2.IncomingHttpHeaders) {
    stream.on("error", () => {})
    const path = String(requestHeaders[":path"] ?? "")
    const method = String(requestHeaders[":method"] ?? "")
    const respond = (status: number, headers: Record<string, string>, body?: string) => {
      if (stream.destroyed || stream.closed) return
      stream.respond({ ":status": status, ...headers }, { endStream: body === undefined })
      if (body !== undefined) stream.end(body)
    }
    if (path.startsWith("/pushes")) {
      return this.serveRecords(method, path, (status, body) => respond(status, { "content-type": "application/json" }, body))
    }
    const session = stream.session as http2.ServerHttp2Session | undefined
    const connection = session === undefined ? undefined : this.state.get(session)
    if (connection === undefined || session === undefined) return stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR)
    connection.active++
    connection.maxActive = Math.max(connection.maxActive, connection.active)
    this.maxConcurrentSeen = Math.max(this.maxConcurrentSeen, connection.active)
    try {
      const body = await readBody(stream)
      await this.handlePush({ method, path, headers: requestHeaders, streamId: stream.id ?? 0, respond }, session, connection, body)
    } finally {
      connection.active--
    }
  }

  private async handlePush(
    exchange: {
      readonly method: string
      readonly path: string
      readonly headers: http2.IncomingHttpHeaders
      readonly streamId: number
      readonly respond: (status: number, headers: Record<string, string>, body?: string) => void
    },
    session: http2.ServerHttp2Session,
    connection: ConnectionState,
    body: string
  ) {
    const headers: Record<string, string | undefined> = {}
    for (const [key, value] of Object.entries(exchange.headers)) {
      if (!key.startsWith(":")) headers[key] = Array.isArray(value) ? value.join(",") : value
    }
    const facts = { method: exchange.method, path: exchange.path, headers, body }
    const token = deviceTokenOf(exchange.path)?.toLowerCase()
    const apnsId = headers["apns-id"] ?? crypto.randomUUID()
    const reject = (rejection: Rejection, extra: Record<string, unknown> = {}) => {
      this.rejections.push({ receivedAt: this.now(), token, status: rejection.status, reason: rejection.reason })
      exchange.respond(rejection.status, { "content-type": "application/json", "apns-id": apnsId }, JSON.stringify({ reason: rejection.reason, ...extra }))
    }

    const route = validateRoute(facts)
    if (route !== null) return reject(route)
    const auth = await this.verifier.check(headers.authorization, this.now())
    if (auth !== null) return reject(auth)
    const jwt = headers.authorization!.slice(7).trim()
    if (connection.token !== jwt) {
      // A new token on a connection that already had one, too soon.
      if (connection.token !== undefined && this.now() - connection.tokenSince < TOKEN_UPDATE_WINDOW_MS) {
        return reject({ status: 429, reason: "TooManyProviderTokenUpdates" })
      }
      connection.token = jwt
      connection.tokenSince = this.now()
    }
    const headerProblem = validateHeaders(facts, {
      allowedBundles: new Set(this.options.allowedBundles ?? []),
      tokenBundles: this.tokenBundles
    })
    if (headerProblem !== null) return reject(headerProblem)
    const { payload, rejection } = validatePayload(facts)
    if (rejection !== null) return reject(rejection)
    const goneAt = this.unregistered.get(token!)
    if (goneAt !== undefined) return reject({ status: 410, reason: "Unregistered" }, { timestamp: goneAt })

    const fault = this.pickFault(token!)
    if (fault !== undefined) {
      switch (fault.kind) {
        case "status":
          return reject({ status: fault.status, reason: fault.reason ?? DEFAULT_REASONS[fault.status] ?? "InternalServerError" })
        case "reset":
          // The connection drops mid-request: the client never learns the outcome.
          session.destroy()
          return
        case "latency":
          await new Promise((resolve) => setTimeout(resolve, fault.ms))
          break
        case "goaway":
          // Graceful close: GOAWAY naming the last stream taken; open streams finish, new ones are refused.
          if (!this.goawayLastStream.has(session)) {
            this.goawayLastStream.set(session, exchange.streamId)
            session.close()
          }
          break
      }
    }

    const recorded: RecordedPush = {
      seq: ++this.seq,
      receivedAt: this.now(),
      connectionId: connection.id,
      token: token!,
      apnsId,
      headers: Object.fromEntries(Object.entries(headers).filter(([key]) => key.startsWith("apns-")) as Array<[string, string]>),
      payload
    }
    this.pushes.push(recorded)
    for (const listener of this.listeners) listener(recorded)
    exchange.respond(200, { "apns-id": apnsId })
  }

  serveRecords(method: string, url: string, send: (status: number, body: string) => void) {
    if (method === "DELETE") {
      this.clear()
      return send(200, JSON.stringify({ ok: true }))
    }
    const token = new URL(url, "https://simulator").searchParams.get("token")?.toLowerCase()
    const pushes = token === undefined ? this.pushes : this.pushes.filter((push) => push.token === token)
    send(200, JSON.stringify({ pushes, rejections: this.rejections.length }))
  }
}

const readBody = (stream: http2.ServerHttp2Stream) =>
  new Promise<string>((resolve) => {
    const chunks: Array<Buffer> = []
    stream.on("data", (chunk: Buffer) => chunks.push(chunk))
    stream.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    stream.on("error", () => resolve(Buffer.concat(chunks).toString("utf8")))
  })
