import type { ContentState } from "../domain/ContentState.ts"
import { LAST_MESSAGE_MAX } from "../domain/ContentState.ts"

/**
 * Pure APNs payload and header builders. Every payload is at most 4096 bytes
 * by construction: text fields are trimmed at a word boundary until the
 * encoded JSON fits, so APNs can never answer PayloadTooLarge.
 */
export const MAX_PAYLOAD_BYTES = 4096
export const MAX_COLLAPSE_ID_BYTES = 64

const byteLength = (text: string) => Buffer.byteLength(text, "utf8")

/** Cuts `text` to at most `maxChars` code points, at a word boundary when one is near, with an ellipsis. */
export const trimAtWord = (text: string, maxChars: number): string => {
  const chars = Array.from(text.replace(/\s+/g, " ").trim())
  if (chars.length <= maxChars) return chars.join("")
  if (maxChars <= 1) return maxChars === 1 ? "…" : ""
  const cut = chars.slice(0, maxChars - 1).join("")
  const space = cut.lastIndexOf(" ")
  const base = space >= Math.floor(cut.length * 0.6) ? cut.slice(0, space) : cut
  return base.trimEnd() + "…"
}

/** Cuts to at most `maxBytes` UTF-8 bytes without splitting a character. */
export const trimToBytes = (text: string, maxBytes: number): string => {
  if (byteLength(text) <= maxBytes) return text
  let out = ""
  for (const char of text) {
    if (byteLength(out + char) > maxBytes) break
    out += char
  }
  return out
}

/** `aps.timestamp` and the other APNs dates are UNIX seconds; a millisecond value is a bug. */
export const toApnsSeconds = (epochMs: number): number => {
  if (!Number.isFinite(epochMs) || epochMs < 0) throw new RangeError(`not a time: ${epochMs}`)
  return Math.floor(epochMs / 1000)
}

export const assertSeconds = (value: number, field: string): number => {
  // 1e11 seconds is the year 5138: anything larger is milliseconds passed by mistake.
  if (!Number.isInteger(value) || value < 0 || value >= 1e11) {
    throw new RangeError(`${field} must be UNIX seconds (got ${value})`)
  }
  return value
}

export interface Alert {
  readonly title: string
  readonly body: string
  readonly sound?: string | undefined
}

export const collapseIdFor = (sessionId: string): string => trimToBytes(`pl-${sessionId}`, MAX_COLLAPSE_ID_BYTES)

export const topicFor = (bundleId: string, pushType: "alert" | "liveactivity") =>
  pushType === "liveactivity" ? `${bundleId}.push-type.liveactivity` : bundleId

/**
 * Shrinks the text fields of a payload (longest first) until it fits. The
 * builders pass a function from "text budget" to payload.
 */
const fit = (build: (budget: number) => Record<string, unknown>, startBudget: number): Record<string, unknown> => {
  let budget = startBudget
  while (true) {
    const payload = build(budget)
    if (byteLength(JSON.stringify(payload)) <= MAX_PAYLOAD_BYTES) return payload
    if (budget <= 0) throw new Error("payload cannot fit in 4096 bytes even with empty text")
    budget = budget > 64 ? Math.floor(budget * 0.7) : budget - 8 > 0 ? budget - 8 : 0
  }
}

const alertBody = (alert: Alert, budget: number) => ({
  title: trimAtWord(alert.title, Math.min(budget, 200)),
  body: trimAtWord(alert.body, budget)
})

export interface AlertPayloadInput {
  readonly alert: Alert
  readonly threadId: string
  /** Keys beside `aps` that the app reads when tapped. */
  readonly custom: Readonly<Record<string, string | number | boolean | null>>
}

export const buildAlertPayload = (input: AlertPayloadInput): Record<string, unknown> =>
  fit(
    (budget) => ({
      aps: {
        alert: alertBody(input.alert, budget),
        sound: input.alert.sound ?? "default",
        "thread-id": trimToBytes(input.threadId, 64)
      },
      ...Object.fromEntries(
        Object.entries(input.custom).map(([key, value]) => [key, typeof value === "string" ? trimToBytes(value, 256) : value])
      )
    }),
    2000
  )

const contentStateFitting = (state: ContentState, budget: number) => ({
  status: state.status,
  sessionTitle: trimAtWord(state.sessionTitle, Math.min(budget, 80)),
  lastMessage: trimAtWord(state.lastMessage, Math.min(budget, LAST_MESSAGE_MAX)),
  retryInfo: state.retryInfo === null ? null : trimAtWord(state.retryInfo, Math.min(budget, 60)),
  startedAt: assertSeconds(state.startedAt, "content-state startedAt")
})

export interface LiveActivityStartInput {
  readonly sessionId: string
  readonly contentState: ContentState
  readonly alert: Alert
  readonly timestampSeconds: number
  readonly staleDateSeconds?: number | undefined
}

/** Push-to-start (iOS 17.2+); `input-push-token: 1` asks iOS 18 for the new activity's update token. */
export const buildLiveActivityStart = (input: LiveActivityStartInput): Record<string, unknown> =>
  fit(
    (budget) => ({
      aps: {
        timestamp: assertSeconds(input.timestampSeconds, "aps.timestamp"),
        event: "start",
        "content-state": contentStateFitting(input.contentState, budget),
        "attributes-type": "SessionActivityAttributes",
        attributes: { sessionId: trimToBytes(input.sessionId, 200) },
        alert: alertBody(input.alert, budget),
        "input-push-token": 1,
        ...(input.staleDateSeconds === undefined ? {} : { "stale-date": assertSeconds(input.staleDateSeconds, "aps.stale-date") })
      }
    }),
    LAST_MESSAGE_MAX
  )

export interface LiveActivityUpdateInput {
  readonly contentState: ContentState
  readonly timestampSeconds: number
  readonly staleDateSeconds?: number | undefined
  readonly relevanceScore?: number | undefined
  readonly alert?: Alert | undefined
}

export const buildLiveActivityUpdate = (input: LiveActivityUpdateInput): Record<string, unknown> =>
  fit(
    (budget) => ({
      aps: {
        timestamp: assertSeconds(input.timestampSeconds, "aps.timestamp"),
        event: "update",
        "content-state": contentStateFitting(input.contentState, budget),
        ...(input.staleDateSeconds === undefined ? {} : { "stale-date": assertSeconds(input.staleDateSeconds, "aps.stale-date") }),
        ...(input.relevanceScore === undefined ? {} : { "relevance-score": input.relevanceScore }),
        ...(input.alert === undefined ? {} : { alert: alertBody(input.alert, budget) })
      }
    }),
    LAST_MESSAGE_MAX
  )

export interface LiveActivityEndInput {
  readonly contentState: ContentState
  readonly timestampSeconds: number
  /** When iOS removes the ended activity; absent keeps it up to 4 h. */
  readonly dismissalDateSeconds?: number | undefined
}

export const buildLiveActivityEnd = (input: LiveActivityEndInput): Record<string, unknown> =>
  fit(
    (budget) => ({
      aps: {
        timestamp: assertSeconds(input.timestampSeconds, "aps.timestamp"),
        event: "end",
        "content-state": contentStateFitting(input.contentState, budget),
        ...(input.dismissalDateSeconds === undefined
          ? {}
          : { "dismissal-date": assertSeconds(input.dismissalDateSeconds, "aps.dismissal-date") })
      }
    }),
    LAST_MESSAGE_MAX
  )
