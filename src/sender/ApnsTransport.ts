import { Effect, Layer } from "effect"
import { ApnsClient, wireHeaders } from "../apns/ApnsClient.ts"
import type { ApnsResult } from "../apns/ApnsResult.ts"
import { type DeliveryOutcome, PushTransport } from "./PushTransport.ts"

const OUTCOMES: Record<ApnsResult["_tag"], DeliveryOutcome> = {
  Delivered: "delivered",
  TokenGone: "token-gone",
  Retryable: "retryable",
  Misconfigured: "misconfigured",
  Rejected: "rejected"
}

/**
 * What Apple answers a token sent to the wrong environment. OpenCode's app
 * registers every token as production, development builds' too (whose tokens
 * are sandbox tokens), so such an answer is tried once against the other one.
 */
const WRONG_ENVIRONMENT = new Set(["BadDeviceToken", "BadEnvironmentKeyInToken"])

const otherThan = (environment: "sandbox" | "production") => (environment === "sandbox" ? "production" : "sandbox")

/**
 * The sender's transport over the APNs client. A token refused as being of the
 * other environment is resent there once; the answer says which environment
 * gave it, so the sender can correct the registration. Only when both refuse
 * is the token reported gone.
 */
export const ApnsTransportLive = Layer.effect(
  PushTransport,
  Effect.map(ApnsClient, (client) =>
    PushTransport.of({
      send: (push) => {
        const headers = { pushType: push.pushType, topic: push.topic, priority: push.priority, collapseId: push.collapseId }
        const attempt = (environment: "sandbox" | "production") =>
          client.send({ deviceToken: push.token, environment, headers, payload: push.payload })
        return Effect.gen(function*() {
          const first = yield* attempt(push.environment)
          const refusedFor = first._tag !== "Delivered" && WRONG_ENVIRONMENT.has(first.reason) ? first.reason : null
          const refused = refusedFor !== null
          const environment = refused ? otherThan(push.environment) : push.environment
          const result = refused ? yield* attempt(environment) : first
          return {
            outcome: OUTCOMES[result._tag],
            status: result.status,
            reason: result._tag === "Delivered" ? null : result.reason,
            apnsId: result._tag === "Delivered" ? result.apnsId : null,
            latencyMs: refused ? first.latencyMs + result.latencyMs : result.latencyMs,
            retryAfterMs: result._tag === "Retryable" ? result.retryAfterMs : null,
            invalidatedAt: result._tag === "TokenGone" ? result.timestamp : null,
            headers: wireHeaders(headers),
            environment,
            fallbackFrom: refusedFor === null ? null : { environment: push.environment, reason: refusedFor }
          }
        })
      }
    })
  )
)
