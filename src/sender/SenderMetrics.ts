import { Effect, Metric, MetricBoundaries } from "effect"
import type { PushDecision } from "../../domain/PushDecision.ts"
import type { DeliveryResult } from "./PushTransport.ts"

/**
 * What the sender did, for /metrics: every APNs attempt by outcome and reason, its
 * latency, every decision a run made (sends, skips with their reason, holds), and the
 * sessions it holds claimed right now.
 */
export const pushAttempts = Metric.counter("pushline_pushes_total", {
  description: "APNs attempts, by outcome (delivered, retryable, token-gone, rejected, misconfigured) and APNs reason",
  incremental: true
})

export const pushDecisions = Metric.counter("pushline_push_decisions_total", {
  description: "Decisions of the sender's runs, by decision (send, skipped, throttled, ...) and reason",
  incremental: true
})

export const apnsLatency = Metric.histogram(
  "pushline_apns_request_seconds",
  MetricBoundaries.exponential({ start: 0.001, factor: 2, count: 14 }),
  "Time from sending a push to APNs' answer"
)

export const sessionsInHand = Metric.gauge("pushline_sender_sessions_in_hand", {
  description: "Sessions the sender has claimed and not yet recorded"
})

export const recordAttempt = (result: DeliveryResult, seconds: number) =>
  Effect.zipRight(
    Metric.increment(pushAttempts).pipe(Effect.tagMetrics({ outcome: result.outcome, reason: result.reason ?? "" })),
    Metric.update(apnsLatency, seconds)
  )

export const recordDecisions = (decisions: ReadonlyArray<PushDecision>) =>
  Effect.forEach(decisions, (decision) =>
    Metric.increment(pushDecisions).pipe(Effect.tagMetrics({ decision: decision.decision, reason: decision.reason ?? "" })), { discard: true })
