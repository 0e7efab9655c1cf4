import type { ContentStateFields, PushIntent } from "../domain/PushIntent.ts"

/**
 * What the sender remembers per session between decisions: plain JSON, kept
 * in the database (jsonb), so a restart inside a throttle window or a grace
 * still sends the trailing push, and a retry after a crash still backs off.
 */
export interface TokenMemory {
  /** Content-state APNs accepted last (null: nothing yet, e.g. the first attempt failed). */
  readonly sent: ContentStateFields | null
  /** The turn it showed. */
  readonly turn: number
  readonly kind: "start" | "update" | "end" | null
  /** When it was accepted; the throttle window runs from here. */
  readonly sentAt: number
  /** Consecutive retryable failures, and when the next attempt may go. */
  readonly failures: number
  readonly retryAt: number | null
  /** APNs said the token is dead; the registrations fold drops it once its event lands. */
  readonly gone: boolean
}

export interface AlertRetry {
  readonly seq: number
  readonly deviceToken: string
  readonly failures: number
  readonly retryAt: number
}

export interface SenderMemory {
  /** Per Live Activity token (activity update tokens and push-to-start tokens). */
  readonly tokens: Readonly<Record<string, TokenMemory>>
  /** Push-to-start: device token → the turn a start was handed out for. */
  readonly started: Readonly<Record<string, number>>
  /** Alerts up to this sequence number are handled (sent, or dropped as answered). */
  readonly alertsDone: number
  /** Alerts that failed with 429/5xx/network, by `<seq>:<deviceToken>`. */
  readonly alertRetries: Readonly<Record<string, AlertRetry>>
}

export const emptySenderMemory = (): SenderMemory => ({ tokens: {}, started: {}, alertsDone: 0, alertRetries: {} })

/** The answer classes of the APNs client (`DeliveryResult.outcome`). */
export type DeliveryAnswer = "delivered" | "token-gone" | "retryable" | "misconfigured" | "rejected"

export const MAX_ATTEMPTS = 12
const BASE_BACKOFF_MS = 1_000
const MAX_BACKOFF_MS = 60_000

/** Exponential backoff with jitter in [0, 1) from the sender; APNs' retry-after wins when longer. */
export const backoffMs = (failures: number, jitter: number, retryAfterMs: number | null): number => {
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, failures - 1))
  const jittered = Math.round(ceiling * (0.5 + jitter / 2))
  return retryAfterMs === null ? jittered : Math.max(jittered, retryAfterMs)
}

/** When a token's next attempt may go, if that is still ahead. */
export const retryDue = (memory: TokenMemory | undefined, now: number): number | null =>
  memory !== undefined && memory.retryAt !== null && memory.retryAt > now ? memory.retryAt : null

const alertKey = (seq: number, deviceToken: string) => `${seq}:${deviceToken}`

/**
 * Folds one APNs answer into memory. A retryable failure leaves the token's
 * last accepted content as it was, so the next decision (at `nextDueAt`)
 * carries whatever is newest by then: a newer state supersedes the retry.
 * After MAX_ATTEMPTS the content is given up (counted as sent).
 */
export const recordAnswer = (
  memory: SenderMemory,
  intent: PushIntent,
  answer: DeliveryAnswer,
  now: number,
  jitter: number,
  retryAfterMs: number | null = null
): { readonly memory: SenderMemory; readonly nextDueAt: number | null } => {
  if (intent.kind === "alert") {
    const key = alertKey(intent.alertSeq, intent.target.token)
    const { [key]: previous, ...others } = memory.alertRetries
    const failures = (previous?.failures ?? 0) + 1
    if (answer !== "retryable" || failures >= MAX_ATTEMPTS) return { memory: { ...memory, alertRetries: others }, nextDueAt: null }
    const retryAt = now + backoffMs(failures, jitter, retryAfterMs)
    const retry: AlertRetry = { seq: intent.alertSeq, deviceToken: intent.target.token, failures, retryAt }
    return { memory: { ...memory, alertRetries: { ...others, [key]: retry } }, nextDueAt: retryAt }
  }

  const token = intent.target.token
  const seen = memory.tokens[token]
  const accepted: TokenMemory = {
    sent: intent.contentState,
    turn: intent.turn,
    kind: intent.kind,
    sentAt: now,
    failures: 0,
    retryAt: null,
    gone: false
  }
  const withToken = (tokenMemory: TokenMemory, started = memory.started): SenderMemory => ({
    ...memory,
    started,
    tokens: { ...memory.tokens, [token]: tokenMemory }
  })
  switch (answer) {
    case "delivered":
      return { memory: withToken(accepted), nextDueAt: null }
    case "token-gone":
      // Decide again at once: without this activity token the session falls back to push-to-start.
      return { memory: withToken({ ...accepted, gone: true }), nextDueAt: now }
    case "misconfigured":
    case "rejected":
      // Not retried: the same content would fail the same way. Newer content tries again.
      return { memory: withToken(accepted), nextDueAt: null }
    case "retryable": {
      const failures = (seen?.turn === intent.turn ? seen.failures : 0) + 1
      if (failures >= MAX_ATTEMPTS) return { memory: withToken(accepted), nextDueAt: null }
      const retryAt = now + backoffMs(failures, jitter, retryAfterMs)
      const kept: TokenMemory = seen?.turn === intent.turn
        ? { ...seen, failures, retryAt }
        : { sent: null, turn: intent.turn, kind: null, sentAt: now, failures, retryAt, gone: false }
      // A start that failed is not started: the next decision hands it out again.
      let started = memory.started
      if (intent.kind === "start") {
        const { [intent.deviceToken]: _dropped, ...rest } = memory.started
        started = rest
      }
      return { memory: withToken(kept, started), nextDueAt: retryAt }
    }
  }
}
