import { Context } from "effect"
import type { Effect } from "effect"
import type { DeliveryOutcome } from "../../domain/PushDecision.ts"

/** One APNs request, fully built: headers and exact payload. */
export interface OutgoingPush {
  readonly token: string
  readonly environment: "sandbox" | "production"
  readonly pushType: "alert" | "liveactivity"
  readonly topic: string
  readonly priority: 5 | 10
  readonly collapseId?: string | undefined
  readonly payload: Record<string, unknown>
}

export type { DeliveryOutcome }

/** What APNs (or the network) answered, classified. Never a failure: every answer is data. */
export interface DeliveryResult {
  readonly outcome: DeliveryOutcome
  readonly status: number | null
  readonly reason: string | null
  readonly apnsId: string | null
  readonly latencyMs: number
  /** For retryable answers: how long APNs asked us to wait, when it said. */
  readonly retryAfterMs: number | null
  /** For token-gone answers: APNs' 410 timestamp (epoch ms), when given. */
  readonly invalidatedAt: number | null
  /** The headers actually sent, for the deliveries table. */
  readonly headers: Record<string, string>
  /** The environment that gave this answer: the other one when the push's own refused the token. */
  readonly environment: "sandbox" | "production"
  /** What the push's own environment answered first, when the answer is the other one's. */
  readonly fallbackFrom: { readonly environment: "sandbox" | "production"; readonly reason: string } | null
}

/** How pushes leave the relay: the APNs client, adapted. */
export class PushTransport extends Context.Tag("pushline/PushTransport")<PushTransport, {
  readonly send: (push: OutgoingPush) => Effect.Effect<DeliveryResult>
}>() {}
