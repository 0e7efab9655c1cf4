import { Schema } from "effect"

/** OpenCode's `/global/event` could not be opened, failed, or went quiet. */
export class OpenCodeStreamLost extends Schema.TaggedError<OpenCodeStreamLost>()("OpenCodeStreamLost", {
  reason: Schema.String
}) {}

/** `GET /session/status` failed, so no status snapshot could be made. */
export class StatusSnapshotFailed extends Schema.TaggedError<StatusSnapshotFailed>()("StatusSnapshotFailed", {
  reason: Schema.String
}) {}

/** The spool's files could not be read or written. */
export class SpoolUnavailable extends Schema.TaggedError<SpoolUnavailable>()("SpoolUnavailable", {
  path: Schema.String,
  reason: Schema.String
}) {}
