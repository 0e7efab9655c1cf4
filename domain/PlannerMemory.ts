import { Either, Schema } from "effect"
import { decodeStored } from "./decodeStored.ts"
import { STATE_VERSION } from "./SessionState.ts"

/**
 * What the sender remembers per session between planning runs, stored in
 * `sender_sessions.memory`: per target what was last sent (throttle window,
 * "last state sent per token", retry backoff), which turns got a
 * push-to-start, how far the alert queue was handled, and how often planning
 * failed in a row. Read back only through this schema.
 */
export const TargetMemory = Schema.Struct({
  lastContent: Schema.NullOr(Schema.String),
  lastSentAt: Schema.Number,
  turn: Schema.Number,
  ended: Schema.Boolean,
  failures: Schema.Number,
  notBefore: Schema.Number
})
export type TargetMemory = typeof TargetMemory.Type

/** An alert whose attempt to one device failed retryably: sent again after its backoff. */
export const PendingAlert = Schema.Struct({
  seq: Schema.Number,
  token: Schema.String,
  failures: Schema.Number,
  notBefore: Schema.Number
})
export type PendingAlert = typeof PendingAlert.Type

export const PlannerMemory = Schema.Struct({
  version: Schema.Literal(STATE_VERSION),
  targets: Schema.Record({ key: Schema.String, value: TargetMemory }),
  /** Per device token: the turn a push-to-start was sent for. */
  started: Schema.Record({ key: Schema.String, value: Schema.Number }),
  alertsDone: Schema.Number,
  /** The turn for which "no Live Activity token" was last recorded (once a turn). */
  noTokenTurn: Schema.Number,
  /** Planning runs that failed in a row (a poison session is given up after a few). */
  stepFailures: Schema.Number,
  /** Alerts to retry, by target (`alert:<seq>:<device token>`); stored before retries were: none. */
  pendingAlerts: Schema.optionalWith(Schema.Record({ key: Schema.String, value: PendingAlert }), { default: () => ({}) }),
  /** The turn whose `end` waits out its settle window, and until when; stored before it was: none. */
  endSettle: Schema.optionalWith(Schema.NullOr(Schema.Struct({ turn: Schema.Number, until: Schema.Number })), { default: () => null })
})
export type PlannerMemory = typeof PlannerMemory.Type

export const initialMemory = (): PlannerMemory => ({ version: STATE_VERSION, targets: {}, started: {}, alertsDone: 0, noTokenTurn: 0, stepFailures: 0, pendingAlerts: {}, endSettle: null })

const decodeMemory = decodeStored(PlannerMemory)
/** A session the sender never handled has `{}` (the column's default): the initial memory. */
export const decodePlannerMemory = (value: unknown): Either.Either<PlannerMemory, string> =>
  value === null || value === undefined || (typeof value === "object" && Object.keys(value).length === 0)
    ? Either.right(initialMemory())
    : decodeMemory(value)
