import { Schema } from "effect"

/**
 * The Live Activity content-state, sent as `aps.content-state`. Field names and
 * types must match the app's Swift `ContentState` exactly: a mismatch fails
 * silently on the device while APNs still answers 200.
 */
export const ActivityStatus = Schema.Literal("working", "retry", "permission", "complete", "error")
export type ActivityStatus = typeof ActivityStatus.Type

export class ContentState extends Schema.Class<ContentState>("ContentState")({
  status: ActivityStatus,
  sessionTitle: Schema.String,
  /** Newest assistant text or running tool title, at most ~120 characters. */
  lastMessage: Schema.String,
  /** e.g. `Retry 2 in 8s`; null unless status is `retry`. */
  retryInfo: Schema.NullOr(Schema.String),
  /** UNIX seconds of the turn's start, for the app's elapsed timer. */
  startedAt: Schema.Number
}) {}

export const LAST_MESSAGE_MAX = 120
