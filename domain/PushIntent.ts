import type { ContentState } from "./ContentState.ts"
import type { ApnsEnvironment } from "./PushlineEvent.ts"

/**
 * What the push planner decided to send: no APNs payload yet (the sender
 * builds it with projections/ApnsPayload.ts), only what it must say and to
 * whom. Plain JSON, so the sender can keep it in memory or the database.
 */
export type ContentStateFields = typeof ContentState.Encoded

export interface PushTarget {
  readonly token: string
  readonly environment: ApnsEnvironment
  /** null: the sender uses its default bundle id (APNS_DEFAULT_BUNDLE_ID). */
  readonly bundleId: string | null
}

interface IntentBase {
  readonly tenant: string
  readonly sessionId: string
  readonly target: PushTarget
  /** 10: at once (transitions, start, alerts); 5: power-considerate (progress). */
  readonly priority: 5 | 10
  /** Log position of the event that made this push necessary. */
  readonly causedBy: string
  /** Epoch ms of the decision; the payload's `timestamp` comes from it. */
  readonly decidedAt: number
}

/** Live Activity push-to-start, to a device's push-to-start token. */
export interface StartIntent extends IntentBase {
  readonly kind: "start"
  readonly contentState: ContentStateFields
  /** iOS shows no pushed-to-start activity without an alert. */
  readonly alert: { readonly title: string; readonly body: string }
  /** The turn this activity is for. */
  readonly turn: number
  /** The device whose push-to-start token this is. */
  readonly deviceToken: string
}

/** Live Activity update / end, to the session's activity token. */
export interface ActivityIntent extends IntentBase {
  readonly kind: "update" | "end"
  readonly contentState: ContentStateFields
  readonly turn: number
}

/** Alert notification to a device token that wants this event type. */
export interface AlertIntent extends IntentBase {
  readonly kind: "alert"
  readonly eventType: "complete" | "permission" | "error"
  readonly alert: { readonly title: string; readonly body: string }
  /** Echoed beside `aps` for the app (with eventType and sessionID). */
  readonly serverId: string | null
  /** The fold's alert sequence number (for dedup and retries). */
  readonly alertSeq: number
}

export type PushIntent = StartIntent | ActivityIntent | AlertIntent
export type PushKind = PushIntent["kind"]
