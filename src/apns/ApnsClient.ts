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

      const attempt = (request: ApnsRequest, jwt: string): Effect.Effect<ApnsResult> =>
        Effect.suspend(() => {
          const pool = poolFor(settings.origins[request.environment])
          const started = performance.now()
          const pending = pool.request({
            path: `/3/device/${request.deviceToken}`,
            headers: { authorization: `bearer ${jwt}`, ...wireHeaders(request.headers) },
            body: JSON.stringify(request.payload)
          })
          return Effect.promise(() =>
            pending.then(
              (response): ApnsResult => {
                const apnsId = response.headers["apns-id"]
                const retryAfter = response.headers["retry-after"]
                return classifyResponse({
                  status: response.status,
                  apnsId: typeof apnsId === "string" ? apnsId : null,
                  body: response.body,
                  retryAfter: typeof retryAfter === "string" ? retryAfter : null,
                  latencyMs: performance.now() - started
                })
              },
              (error: unknown) =>
                networkFailure(error instanceof PoolRequestFailed ? error.reason : String(error), performance.now() - started)
            )
          )
        })

      const send = (request: ApnsRequest) =>
        Effect.flatMap(token.current, (jwt) =>
          Effect.flatMap(attempt(request, jwt), (first) =>
            first._tag !== "Retryable" || first.reason !== "ExpiredProviderToken"
              ? Effect.succeed(first)
              // Our token aged out: renew (at most once per 20 minutes) and try once more.
              : Effect.flatMap(token.renewAfterRejection(jwt), (renewed) =>
                Option.isNone(renewed) ? Effect.succeed(first) : attempt(request, renewed.value))
          ))

      return {
        send,
        description,
        stats: () => [...pools.entries()].map(([origin, pool]) => ({ origin, connections: pool.stats() }))
      }
    })

  static readonly layer = (settings: ApnsClientSettings, description: string) =>
    Layer.scoped(ApnsClient, ApnsClient.make(settings, description))
}
