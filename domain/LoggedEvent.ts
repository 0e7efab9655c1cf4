import { Schema } from "effect"

/**
 * One row of the event log as readers see it. Positions are global and
 * ascending; `sessionId` is "" for tenant-level events (device registrations).
 * Times are epoch milliseconds, passed in as data so folds never read a clock.
 */
export class LoggedEvent extends Schema.Class<LoggedEvent>("LoggedEvent")({
  position: Schema.BigIntFromSelf,
  tenant: Schema.String,
  sessionId: Schema.String,
  eventId: Schema.String,
  type: Schema.String,
  payload: Schema.Unknown,
  meta: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  sourceTime: Schema.Number,
  receivedTime: Schema.Number
}) {}

/** What a writer hands the store; position and received time are assigned on append. */
export interface NewEvent {
  readonly tenant: string
  readonly sessionId: string
  readonly eventId: string
  readonly type: string
  readonly payload: unknown
  readonly meta: Record<string, unknown>
  readonly sourceTime: number
}
