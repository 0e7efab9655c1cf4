import { Data } from "effect"

/**
 * Every APNs answer (or the lack of one) as data. The sender decides from the
 * tag alone: drop the token, retry later, shout about configuration, or give up.
 */
export type ApnsResult = Data.TaggedEnum<{
  /** 200: APNs accepted the push. */
  Delivered: { readonly status: 200; readonly apnsId: string; readonly latencyMs: number }
  /** 410, or 400 BadDeviceToken: the token is dead; remove it. */
  TokenGone: {
    readonly status: number
    readonly reason: string
    /** APNs' 410 timestamp (epoch ms) when given. */
    readonly timestamp: number | null
    readonly latencyMs: number
  }
  /** 429, 5xx, IdleTimeout, network failures, timeouts: try again later. */
  Retryable: {
    readonly status: number | null
    readonly reason: string
    readonly retryAfterMs: number | null
    readonly latencyMs: number
  }
  /** Configuration problems (403 family, topic errors): never retried, surfaced loudly. */
  Misconfigured: { readonly status: number; readonly reason: string; readonly latencyMs: number }
  /** Our request was wrong (bad header, payload): retrying cannot help. */
  Rejected: { readonly status: number; readonly reason: string; readonly latencyMs: number }
}>

export const ApnsResult = Data.taggedEnum<ApnsResult>()

const TOKEN_GONE_410 = new Set(["Unregistered", "ExpiredToken"])
const MISCONFIGURED_400 = new Set(["DeviceTokenNotForTopic", "TopicDisallowed", "BadTopic", "MissingTopic"])
const RETRYABLE_REASONS = new Set([
  "IdleTimeout",
  "TooManyRequests",
  "TooManyProviderTokenUpdates",
  "InternalServerError",
  "ServiceUnavailable",
  "Shutdown",
  "ExpiredProviderToken"
])

export interface RawResponse {
  readonly status: number
  readonly apnsId: string | null
  readonly body: string
  readonly retryAfter: string | null
  readonly latencyMs: number
}

const parseBody = (body: string): { reason: string | null; timestamp: number | null } => {
  try {
    const parsed = JSON.parse(body) as { reason?: unknown; timestamp?: unknown }
    return {
      reason: typeof parsed.reason === "string" ? parsed.reason : null,
      timestamp: typeof parsed.timestamp === "number" ? parsed.timestamp : null
    }
  } catch {
    return { reason: null, timestamp: null }
  }
}

const retryAfterMs = (header: string | null): number | null => {
  if (header === null) return null
  const seconds = Number(header)
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : null
}

/** Pure: status + body → the typed result, per the reference table in shared/reference/apns.md. */
export const classifyResponse = (response: RawResponse): ApnsResult => {
  const { latencyMs, status } = response
  if (status === 200) return ApnsResult.Delivered({ status: 200, apnsId: response.apnsId ?? "", latencyMs })
  const { reason: parsedReason, timestamp } = parseBody(response.body)
  const reason = parsedReason ?? `HTTP ${status}`
  if (status === 410) {
    return TOKEN_GONE_410.has(reason) || parsedReason === null
      ? ApnsResult.TokenGone({ status, reason, timestamp, latencyMs })
      : ApnsResult.Rejected({ status, reason, latencyMs })
  }
  if (status === 400 && reason === "BadDeviceToken") return ApnsResult.TokenGone({ status, reason, timestamp: null, latencyMs })
  if (RETRYABLE_REASONS.has(reason) || status === 429 || status >= 500) {
    return ApnsResult.Retryable({ status, reason, retryAfterMs: retryAfterMs(response.retryAfter), latencyMs })
  }
  if (status === 403 || (status === 400 && MISCONFIGURED_400.has(reason))) {
    return ApnsResult.Misconfigured({ status, reason, latencyMs })
  }
  return ApnsResult.Rejected({ status, reason, latencyMs })
}

export const networkFailure = (reason: string, latencyMs: number): ApnsResult =>
  ApnsResult.Retryable({ status: null, reason, retryAfterMs: null, latencyMs })
