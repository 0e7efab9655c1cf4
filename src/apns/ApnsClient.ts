import { Context, Effect, Layer, Option } from "effect"
import { ApnsResult, classifyResponse, networkFailure } from "./ApnsResult.ts"
import { Http2Pool, PoolRequestFailed } from "./Http2Pool.ts"
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

/** The headers as sent (without the bearer token), for the deliveries table. */
export const wireHeaders = (headers: ApnsHeaders): Record<string, string> => {
  const out: Record<string, string> = {
    "apns-push-type": headers.pushType,
    "apns-topic": headers.topic,
    "apns-priority": String(headers.priority)
  }
  if (headers.expiration !== undefined) out["apns-expiration"] = String(headers.expiration)
  if (headers.collapseId !== undefined) out["apns-collapse-id"] = headers.collapseId
  if (headers.apnsId !== undefined) out["apns-id"] = headers.apnsId
  return out
}

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
            log: (message) => Effect.runFork(Effect.logInfo(message))
          })
          pools.set(origin, pool)
        }
        return pool
      }
      yield* Effect.addFinalizer(() => Effect.promise(() => Promise.all([...pools.values()].map((p) => p.close()))))

      const attempt = (request: ApnsRequest, jwt: string) =>
        Effect.gen(function*() {
          const pool = poolFor(settings.origins[request.environment])
          const started = performance.now()
          const body = JSON.stringify(request.payload)
          const outcome = yield* Effect.promise(() =>
            pool
              .request({
                path: `/3/device/${request.deviceToken}`,
                headers: { authorization: `bearer ${jwt}`, ...wireHeaders(request.headers) },
                body
              })
              .then(
                (response) => ({ ok: true as const, response }),
                (error: unknown) => ({ ok: false as const, reason: error instanceof PoolRequestFailed ? error.reason : String(error) })
              )
          )
          const latencyMs = performance.now() - started
          if (!outcome.ok) return networkFailure(outcome.reason, latencyMs)
          const header = (name: string) => {
            const value = outcome.response.headers[name]
            return typeof value === "string" ? value : null
          }
          return classifyResponse({
            status: outcome.response.status,
            apnsId: header("apns-id"),
            body: outcome.response.body,
            retryAfter: header("retry-after"),
            latencyMs
          })
        })

      const send = (request: ApnsRequest) =>
        Effect.gen(function*() {
          const jwt = yield* token.current
          const first = yield* attempt(request, jwt)
          if (first._tag !== "Retryable" || first.reason !== "ExpiredProviderToken") return first
          // Our token aged out: renew (at most once per 20 minutes) and try once more.
          const renewed = yield* token.renewAfterRejection(jwt)
          if (Option.isNone(renewed)) return first
          return yield* attempt(request, renewed.value)
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
