import { Context, Effect, Exit, Layer, Option, Runtime } from "effect"
import { type ApnsResult, classifyResponse, networkFailure } from "./ApnsResult.ts"
import { Http2Pool, PoolRequestFailed, type PoolResponse } from "./Http2Pool.ts"
import { makeProviderToken, type ProviderCredentials } from "./ProviderToken.ts"

export interface ApnsHeaders {
  readonly pushType: "alert" | "liveactivity"
  readonly topic: string
  readonly priority: 1 | 5 | 10
  readonly collapseId?: string | undefined
  /** UNIX seconds; 0 = deliver now or never. */
  readonly expiration?: number | undefined
  readonly apnsId?: string | undefined
}

export interface ApnsRequest {
  readonly deviceToken: string
  readonly environment: "sandbox" | "production"
  readonly headers: ApnsHeaders
  readonly payload: Record<string, unknown>
}

export interface ApnsClientSettings {
  readonly credentials: ProviderCredentials
  /** `https://host:port` per environment (the same origin twice when APNS_HOST overrides both). */
  readonly origins: { readonly production: string; readonly sandbox: string }
  readonly caPem?: string | undefined
  readonly connections: number
  readonly requestTimeoutMs: number
  readonly pingIntervalMs?: number | undefined
}

const withOptionalHeaders = <T extends Record<string, string>>(out: T, headers: ApnsHeaders): T => {
  const extra: Record<string, string> = out
  if (headers.expiration !== undefined) extra["apns-expiration"] = String(headers.expiration)
  if (headers.collapseId !== undefined) extra["apns-collapse-id"] = headers.collapseId
  if (headers.apnsId !== undefined) extra["apns-id"] = headers.apnsId
  return out
}

/** The headers as sent (without the bearer token), for the deliveries table. */
export const wireHeaders = (headers: ApnsHeaders): Record<string, string> =>
  withOptionalHeaders({ "apns-push-type": headers.pushType, "apns-topic": headers.topic, "apns-priority": String(headers.priority) }, headers)

/** The whole HTTP/2 header block in one object literal (node:http2 copies it anyway). */
const requestHeaders = (request: ApnsRequest, authorization: string) =>
  withOptionalHeaders({
    ":method": "POST",
    ":path": `/3/device/${request.deviceToken}`,
    authorization,
    "apns-push-type": request.headers.pushType,
    "apns-topic": request.headers.topic,
    "apns-priority": String(request.headers.priority)
  }, request.headers)

const toResult = (outcome: PoolResponse | PoolRequestFailed, started: number): ApnsResult => {
  const latencyMs = performance.now() - started
  if (outcome instanceof PoolRequestFailed) return networkFailure(outcome.reason, latencyMs)
  const apnsId = outcome.headers["apns-id"]
  const retryAfter = outcome.headers["retry-after"]
  return classifyResponse({
    status: outcome.status,
    apnsId: typeof apnsId === "string" ? apnsId : null,
    body: outcome.body,
    retryAfter: typeof retryAfter === "string" ? retryAfter : null,
    latencyMs
  })
}

const isExpiredToken = (result: ApnsResult) => result._tag === "Retryable" && result.reason === "ExpiredProviderToken"

/**
 * Sends pushes to APNs over long-lived HTTP/2 connections with a shared JWT.
 * `send` never fails: every outcome, including network trouble, is an ApnsResult.
 */
export class ApnsClient extends Context.Tag("pushline/ApnsClient")<ApnsClient, {
  readonly send: (request: ApnsRequest) => Effect.Effect<ApnsResult>
  /** e.g. "Apple (api.push.apple.com)" or "local APNs simulator at https://127.0.0.1:PORT" */
  readonly description: string
  readonly stats: () => ReadonlyArray<{ readonly origin: string; readonly connections: ReturnType<Http2Pool["stats"]> }>
}>() {
  static readonly make = (settings: ApnsClientSettings, description: string) =>
    Effect.gen(function*() {
      const token = yield* makeProviderToken(settings.credentials)
      // The pools log from node:http2 callbacks: through this runtime, so the relay's logger applies.
      const runtime = yield* Effect.runtime<never>()
      const pools = new Map<string, Http2Pool>()
      const poolFor = (origin: string) => {
        let pool = pools.get(origin)
        if (pool === undefined) {
          pool = new Http2Pool({
            origin,
            ca: settings.caPem,
            connections: settings.connections,
            requestTimeoutMs: settings.requestTimeoutMs,
            pingIntervalMs: settings.pingIntervalMs,
            log: (message) => Runtime.runFork(runtime)(Effect.logInfo(message))
          })
          pools.set(origin, pool)
        }
        return pool
      }
      yield* Effect.addFinalizer(() => Effect.promise(() => Promise.all([...pools.values()].map((p) => p.close()))))

      // The hot path: one callback into the pool, the fiber resumed with the result.
      let bearer = { jwt: "", header: "" }
      const dispatch = (request: ApnsRequest, jwt: string, retry: boolean, resume: (result: Effect.Effect<ApnsResult>) => void) => {
        if (bearer.jwt !== jwt) bearer = { jwt, header: `bearer ${jwt}` }
        const started = performance.now()
        poolFor(settings.origins[request.environment]).request(requestHeaders(request, bearer.header), JSON.stringify(request.payload), (outcome) => {
          const result = toResult(outcome, started)
          resume(retry && isExpiredToken(result) ? renewAndRetry(request, jwt, result) : Exit.succeed(result))
        })
      }
      const attempt = (request: ApnsRequest, jwt: string, retry: boolean): Effect.Effect<ApnsResult> =>
        Effect.async<ApnsResult>((resume) => dispatch(request, jwt, retry, resume))

      // Our token aged out: renew (at most once per 20 minutes) and try once more.
      const renewAndRetry = (request: ApnsRequest, jwt: string, first: ApnsResult) =>
        Effect.flatMap(token.renewAfterRejection(jwt), (renewed) => Option.isNone(renewed) ? Effect.succeed(first) : attempt(request, renewed.value, false))

      // The clock the client was built with, read directly: looking it up through each fiber
      // (Effect.clockWith) measured ~15 us per push in bench:apns.
      const clock = yield* Effect.clock
      // The token is read when the push is sent (not when `send` is called), with no
      // extra step in the common case: a current token exists.
      const send = (request: ApnsRequest): Effect.Effect<ApnsResult> =>
        Effect.async<ApnsResult>((resume) => {
          const jwt = token.peek(clock.unsafeCurrentTimeMillis())
          if (jwt !== undefined) dispatch(request, jwt, true, resume)
          else resume(Effect.flatMap(token.current, (minted) => attempt(request, minted, true)))
        })

      return {
        send,
        description,
        stats: () => [...pools.entries()].map(([origin, pool]) => ({ origin, connections: pool.stats() }))
      }
    })

  static readonly layer = (settings: ApnsClientSettings, description: string) =>
    Layer.scoped(ApnsClient, ApnsClient.make(settings, description))
}
