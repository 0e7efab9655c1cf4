import * as crypto from "node:crypto"
import * as http2 from "node:http2"
import type { AddressInfo } from "node:net"
import { generateCertificate, type SimulatorCertificate } from "./certificate.ts"
import { ConnectionToken, JwtVerifier, type SigningKey } from "./JwtVerifier.ts"
import { type ConnectionState, type Exchange, finish, ignore, readExchange, respond } from "./Exchange.ts"
import { deviceTokenOf, type HeaderRules, type Rejection, validateHeaders, validatePayload, validateRoute } from "./validateRequest.ts"

/**
 * A local APNs: HTTP/2 over TLS with its own certificate, checking requests
 * the way Apple does (see validateRequest.ts and JwtVerifier.ts), with
 * configurable stream limits, dead tokens and injected faults. It records every
 * accepted push; `GET /pushes` (HTTP/1.1 or HTTP/2, same port) lists them.
 */
export type Fault =
  | { readonly kind: "status"; readonly status: 429 | 500 | 503; readonly reason?: string; readonly retryAfterSeconds?: number }
  | { readonly kind: "goaway" }
  | { readonly kind: "reset" }
  | { readonly kind: "latency"; readonly ms: number }

export type ApnsEnvironmentName = "sandbox" | "production"

export interface RecordedPush {
  readonly seq: number
  readonly receivedAt: number
  /** Which of Apple's two environments took it (the port it came in on). */
  readonly environment: ApnsEnvironmentName
  readonly connectionId: number
  readonly token: string
  readonly apnsId: string
  readonly headers: Readonly<Record<string, string>>
  readonly payload: any
}

export interface RejectedPush {
  readonly receivedAt: number
  readonly environment: ApnsEnvironmentName
  readonly token: string | undefined
  readonly status: number
  readonly reason: string
}

export interface SimulatorOptions {
  readonly port?: number | undefined
  /** The sandbox environment's port (default: any free one). */
  readonly sandboxPort?: number | undefined
  readonly host?: string | undefined
  readonly keys: ReadonlyArray<SigningKey>
  readonly maxConcurrentStreams?: number | undefined
  readonly allowedBundles?: ReadonlyArray<string> | undefined
  readonly certificate?: SimulatorCertificate | undefined
  /** The simulator's idea of now (epoch ms), for token age checks. */
  readonly now?: (() => number) | undefined
}

const DEFAULT_REASONS: Record<number, string> = { 429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable" }

export class ApnsSimulator {
  readonly pushes: Array<RecordedPush> = []
  readonly rejections: Array<RejectedPush> = []
  /** Dead tokens: answered 410 Unregistered with this timestamp (epoch ms). */
  readonly unregistered = new Map<string, number>()
  /** Tokens bound to one bundle id: other topics get DeviceTokenNotForTopic. */
  readonly tokenBundles = new Map<string, string>()
  readonly faultsByToken = new Map<string, Fault>()
  /**
   * Tokens that belong to one environment, as Apple's do: the other one answers
   * 400 BadDeviceToken. Tokens not listed are taken by both.
   */
  readonly tokenEnvironments = new Map<string, ApnsEnvironmentName>()
  faultRate: { readonly probability: number; readonly faults: ReadonlyArray<Fault> } | undefined
  /** Highest number of streams seen open at once on any one connection. */
  maxConcurrentSeen = 0
  connectionsOpened = 0
  private seq = 0
  private readonly verifier: JwtVerifier
  private readonly rules: HeaderRules
  private readonly sessions = new Set<http2.ServerHttp2Session>()
  private readonly listeners = new Set<(push: RecordedPush) => void>()

  private readonly environments = new WeakMap<http2.ServerHttp2Session, ApnsEnvironmentName>()

  private readonly server: http2.Http2SecureServer
  private readonly sandboxServer: http2.Http2SecureServer
  readonly certificate: SimulatorCertificate
  private readonly options: SimulatorOptions

  private constructor(
    server: http2.Http2SecureServer,
    sandboxServer: http2.Http2SecureServer,
    certificate: SimulatorCertificate,
    options: SimulatorOptions
  ) {
    this.server = server
    this.sandboxServer = sandboxServer
    this.certificate = certificate
    this.options = options
    this.verifier = new JwtVerifier(options.keys)
    this.rules = { allowedBundles: new Set(options.allowedBundles ?? []), tokenBundles: this.tokenBundles }
  }

  /** Two listeners, one per environment (production: `origin`, sandbox: `sandboxOrigin`), sharing one record. */
  static async start(options: SimulatorOptions): Promise<ApnsSimulator> {
    const certificate = options.certificate ?? (await generateCertificate())
    const create = () =>
      http2.createSecureServer({
        cert: certificate.certPem,
        key: certificate.keyPem,
        allowHTTP1: true,
        settings: { maxConcurrentStreams: options.maxConcurrentStreams ?? 1000 }
      })
    const server = create()
    const sandboxServer = create()
    const simulator = new ApnsSimulator(server, sandboxServer, certificate, options)
    const serve = async (listener: http2.Http2SecureServer, environment: ApnsEnvironmentName, port: number) => {
      listener.on("session", (session) => simulator.onSession(session, environment))
      // HTTP/1.1 is only for reading the records with curl or fetch.
      listener.on("request", (request, response) => {
        if (request.httpVersion === "2.0") return
        simulator.serveRecords(request.method, request.url, (status, body) => {
          response.writeHead(status, { "content-type": "application/json" })
          response.end(body)
        })
      })
      // A "request" listener makes Node also wrap every HTTP/2 stream in compat
      // request/response objects (its own "stream" listener): drop it, streams are handled raw.
      listener.removeAllListeners("stream")
      listener.on("stream", (stream, headers) => simulator.onStream(stream, headers))
      await new Promise<void>((resolve, reject) => {
        listener.once("error", reject)
        listener.listen(port, options.host ?? "127.0.0.1", () => resolve())
      })
    }
    await serve(server, "production", options.port ?? 0)
    await serve(sandboxServer, "sandbox", options.sandboxPort ?? 0)
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

  /** The sandbox environment's `host:port` (APNS_SANDBOX_HOST); `host` is production's. */
  get sandboxHost(): string {
    return `${this.options.host ?? "127.0.0.1"}:${(this.sandboxServer.address() as AddressInfo).port}`
  }

  get sandboxOrigin(): string {
    return `https://${this.sandboxHost}`
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
    const closed = (server: http2.Http2SecureServer) => new Promise<void>((resolve) => server.close(() => resolve()))
    return Promise.all([closed(this.server), closed(this.sandboxServer)]).then(() => undefined)
  }

  private readonly state = new WeakMap<http2.ServerHttp2Session, ConnectionState>()
  private readonly goawayLastStream = new WeakMap<http2.ServerHttp2Session, number>()

  private onSession(session: http2.ServerHttp2Session, environment: ApnsEnvironmentName) {
    this.environments.set(session, environment)
    this.connectionsOpened++
    this.sessions.add(session)
    this.state.set(session, { id: this.connectionsOpened, token: new ConnectionToken(this.verifier), active: 0, maxActive: 0 })
    session.on("close", () => this.sessions.delete(session))
    session.on("error", ignore)
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

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) {
    const path = headers[":path"] ?? ""
    const method = headers[":method"] ?? ""
    if (path.startsWith("/pushes")) {
      stream.on("error", ignore)
      return this.serveRecords(method, path, (status, body) => respond(stream, status, "", body))
    }
    const session = stream.session as http2.ServerHttp2Session | undefined
    const connection = session === undefined ? undefined : this.state.get(session)
    if (connection === undefined || session === undefined) return stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR)
    connection.active++
    if (connection.active > connection.maxActive) connection.maxActive = connection.active
    if (connection.active > this.maxConcurrentSeen) this.maxConcurrentSeen = connection.active
    readExchange({
      handler: this,
      stream,
      session,
      connection,
      method,
      path,
      headers: headers as Exchange["headers"],
      body: "",
      chunks: [],
      finished: false
    })
  }

  /** The request body is in: answer it, now or (token check, latency fault) later. */
  received(exchange: Exchange) {
    exchange.body = exchange.chunks.length === 1 ? exchange.chunks[0]!.toString("utf8") : Buffer.concat(exchange.chunks).toString("utf8")
    const pending = this.handlePush(exchange)
    if (pending === undefined) finish(exchange)
    else void pending.then(() => finish(exchange))
  }

  /** Answers one push; returns a promise only when the answer is deferred (token check, latency fault). */
  private handlePush(exchange: Exchange): Promise<void> | undefined {
    const route = validateRoute(exchange)
    if (route !== null) return this.reject(exchange, route)
    const auth = exchange.connection.token.check(exchange.headers.authorization, this.now())
    if (auth === null) return this.afterAuth(exchange)
    if (!(auth instanceof Promise)) return this.reject(exchange, auth)
    return auth.then((rejection) => (rejection === null ? this.afterAuth(exchange) : this.reject(exchange, rejection)))
  }

  private afterAuth(exchange: Exchange): Promise<void> | undefined {
    const headerProblem = validateHeaders(exchange, this.rules)
    if (headerProblem !== null) return this.reject(exchange, headerProblem)
    const { payload, rejection } = validatePayload(exchange)
    if (rejection !== null) return this.reject(exchange, rejection)
    const token = deviceTokenOf(exchange.path)!.toLowerCase()
    const belongsTo = this.tokenEnvironments.get(token)
    if (belongsTo !== undefined && belongsTo !== this.environmentOf(exchange)) return this.reject(exchange, { status: 400, reason: "BadDeviceToken" })
    const goneAt = this.unregistered.get(token)
    if (goneAt !== undefined) return this.reject(exchange, { status: 410, reason: "Unregistered" }, goneAt)

    const fault = this.pickFault(token)
    if (fault !== undefined) {
      switch (fault.kind) {
        case "status":
          return this.reject(
            exchange,
            { status: fault.status, reason: fault.reason ?? DEFAULT_REASONS[fault.status] ?? "InternalServerError" },
            undefined,
            fault.retryAfterSeconds
          )
        case "reset":
          // The connection drops mid-request: the client never learns the outcome.
          exchange.session.destroy()
          return
        case "latency":
          return new Promise<void>((resolve) => setTimeout(resolve, fault.ms)).then(() => this.accept(exchange, token, payload))
        case "goaway":
          // Graceful close: GOAWAY naming the last stream taken; open streams finish, new ones are refused.
          if (!this.goawayLastStream.has(exchange.session)) {
            this.goawayLastStream.set(exchange.session, exchange.stream.id ?? 0)
            exchange.session.close()
          }
          break
      }
    }
    this.accept(exchange, token, payload)
  }

  private accept(exchange: Exchange, token: string, payload: unknown) {
    const headers: Record<string, string> = {}
    for (const key in exchange.headers) {
      if (key.startsWith("apns-")) headers[key] = exchange.headers[key]!
    }
    const apnsId = headers["apns-id"] ?? crypto.randomUUID()
    const recorded: RecordedPush = {
      seq: ++this.seq,
      receivedAt: this.now(),
      environment: this.environmentOf(exchange),
      connectionId: exchange.connection.id,
      token,
      apnsId,
      headers,
      payload
    }
    this.pushes.push(recorded)
    for (const listener of this.listeners) listener(recorded)
    respond(exchange.stream, 200, apnsId)
  }

  private environmentOf(exchange: Exchange): ApnsEnvironmentName {
    return this.environments.get(exchange.session) ?? "production"
  }

  private reject(exchange: Exchange, rejection: Rejection, timestamp?: number, retryAfterSeconds?: number): undefined {
    const token = deviceTokenOf(exchange.path)?.toLowerCase()
    this.rejections.push({ receivedAt: this.now(), environment: this.environmentOf(exchange), token, status: rejection.status, reason: rejection.reason })
    const body = timestamp === undefined ? { reason: rejection.reason } : { reason: rejection.reason, timestamp }
    const extra = retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) }
    respond(exchange.stream, rejection.status, exchange.headers["apns-id"] ?? crypto.randomUUID(), JSON.stringify(body), extra)
    return undefined
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
