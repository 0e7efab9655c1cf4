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

/** The sender's transport over the APNs client. */
export const ApnsTransportLive = Layer.effect(
  PushTransport,
  Effect.map(ApnsClient, (client) =>
    PushTransport.of({
      send: (push) => {
        const headers = { pushType: push.pushType, topic: push.topic, priority: push.priority, collapseId: push.collapseId }
        return Effect.map(
          client.send({ deviceToken: push.token, environment: push.environment, headers, payload: push.payload }),
          (result) => ({
            outcome: OUTCOMES[result._tag],
            status: result.status,
            reason: result._tag === "Delivered" ? null : result.reason,
            apnsId: result._tag === "Delivered" ? result.apnsId : null,
            latencyMs: result.latencyMs,
            retryAfterMs: result._tag === "Retryable" ? result.retryAfterMs : null,
            invalidatedAt: result._tag === "TokenGone" ? result.timestamp : null,
            headers: wireHeaders(headers)
          })
        )
      }
    })
  )
)
