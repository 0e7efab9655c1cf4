import { Schema } from "effect"

/**
 * What the sender decided in a planning run, one entry per push it could
 * make, and what each APNs attempt answered: stored with the run and the
 * attempt (`sender_runs.decisions`, `deliveries`), shown by the timeline,
 * and everything replay needs to re-make the same decisions.
 */
/**
 * Why a push the state calls for waits: the throttle window, the permission grace, a
 * retry's backoff, or the end's settle window (changes OpenCode sends just after a turn
 * ended still reach the final state; APNs ignores pushes after an `end`).
 */
export const HoldKind = Schema.Literal("throttled", "permission-grace", "retry-backoff", "end-settle")
export type HoldKind = typeof HoldKind.Type
export const isHold = Schema.is(HoldKind)

export const DecisionKind = Schema.Literal("send", ...HoldKind.literals, "skipped", "failed")
export type DecisionKind = typeof DecisionKind.Type

/** Why a push that the state calls for is not sent at all. */
export const SkipReason = Schema.Literal(
  /** Neither the registration nor APNS_DEFAULT_BUNDLE_ID names the app: no topic to send to. */
  "no-bundle-id",
  /** An alert, and no device of the tenant is registered. */
  "no-device",
  /** An alert, and no registered device asked for this event type. */
  "not-subscribed",
  /** A Live Activity push, and neither an activity token nor a push-to-start token is known. */
  "no-token",
  /** A permission alert whose permission was answered before its grace ended. */
  "permission-answered",
  /** The other path (bridge events, or a /v1/event post) already reported this alert for the turn. */
  "duplicate",
  /** An alert waiting to be retried after a failure, overtaken by a later alert of the session. */
  "superseded"
)
export type SkipReason = typeof SkipReason.Type

export const PushDecision = Schema.Struct({
  decision: DecisionKind,
  /** A token, "live-activity" / "alerts" for a hold over all of them, or "session" for a failed run. */
  target: Schema.String,
  event: Schema.optionalWith(Schema.String, { exact: true }),
  pushType: Schema.optionalWith(Schema.String, { exact: true }),
  /** Epoch ms a hold (or a failed run's retry) ends. */
  until: Schema.optionalWith(Schema.Number, { exact: true }),
  /** Why: a SkipReason for "skipped", the error for "failed". */
  reason: Schema.optionalWith(Schema.String, { exact: true })
})
export type PushDecision = typeof PushDecision.Type

/** APNs' (or the network's) answer to one attempt, classified. */
export const DeliveryOutcome = Schema.Literal("delivered", "token-gone", "retryable", "misconfigured", "rejected")
export type DeliveryOutcome = typeof DeliveryOutcome.Type

/**
 * Everything about an answer that the log does not hold, recorded with the
 * attempt so replay settles it exactly as the live sender did.
 */
export const AttemptAnswer = Schema.Struct({
  outcome: DeliveryOutcome,
  /** How long APNs asked us to wait (Retry-After), when it said. */
  retryAfterMs: Schema.NullOr(Schema.Number),
  /** The sender's random draw in [0, 1) for this attempt's backoff. */
  jitter: Schema.Number,
  /** Epoch ms the answer was known. */
  answeredAt: Schema.Number
})
export type AttemptAnswer = typeof AttemptAnswer.Type
