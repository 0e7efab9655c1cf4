import { Either, Schema } from "effect"
import { decodeStored } from "./decodeStored.ts"
import { AlertEventType, ApnsEnvironment } from "./PushlineEvent.ts"

/**
 * What the session fold keeps per (tenant, session), and per tenant: plain
 * JSON stored in jsonb, so a rebuild from position 0 must reach a deep-equal
 * value. Times are epoch milliseconds from the events themselves. Read back
 * from the database only through these schemas: a stored row of another
 * shape (or `version`) fails to decode instead of being planned on.
 */
export const SessionStatus = Schema.Literal("idle", "working", "retry", "permission", "complete", "error")
export type SessionStatus = typeof SessionStatus.Type

export const PendingPermission = Schema.Struct({
  id: Schema.String,
  /** e.g. "bash: npm install" */
  label: Schema.String,
  askedAt: Schema.Number,
  /** The subagent session that asked, when not this one. */
  fromSession: Schema.NullOr(Schema.String)
})
export type PendingPermission = typeof PendingPermission.Type

/** Which path reported an alert: OpenCode's own events (bridge, plugin), or a /v1/event post. */
export const AlertSource = Schema.Literal("opencode", "legacy")

export const QueuedAlert = Schema.Struct({
  seq: Schema.Number,
  eventType: AlertEventType,
  title: Schema.String,
  body: Schema.String,
  position: Schema.String,
  /** The permission (or question) an alert asks about; null for a legacy /v1/event permission, which names none. */
  permissionId: Schema.NullOr(Schema.String),
  at: Schema.Number,
  // Added after version 1 was first stored: rows without them decode with these defaults.
  /** The OpenCode server that reported it (the app opens the session there). */
  serverId: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  source: Schema.optionalWith(AlertSource, { default: () => "opencode" as const }),
  turn: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  /** Position of the alert of the other path this one repeats (the same turn's complete, say). */
  duplicateOf: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null })
})
export type QueuedAlert = typeof QueuedAlert.Type

export const ActivityTarget = Schema.Struct({
  token: Schema.String,
  apnsEnv: ApnsEnvironment,
  bundleId: Schema.NullOr(Schema.String)
})
export type ActivityTarget = typeof ActivityTarget.Type

/** Bumped with every change of a persisted shape below. */
export const STATE_VERSION = 1 as const

export const SessionState = Schema.Struct({
  version: Schema.Literal(STATE_VERSION),
  sessionId: Schema.String,
  parentId: Schema.NullOr(Schema.String),
  title: Schema.String,
  status: SessionStatus,
  lastMessage: Schema.String,
  retryInfo: Schema.NullOr(Schema.String),
  turn: Schema.Number,
  turnStartedAt: Schema.NullOr(Schema.Number),
  permissions: Schema.Array(PendingPermission),
  statusBeforePermission: Schema.Literal("working", "retry"),
  turnError: Schema.NullOr(Schema.Struct({ name: Schema.String, message: Schema.String })),
  aborted: Schema.Boolean,
  userMessageIds: Schema.Array(Schema.String),
  /** Newest OpenCode event applied: (source time, event id), for out-of-order dedup. */
  newest: Schema.NullOr(Schema.Struct({ time: Schema.Number, id: Schema.String })),
  activity: Schema.NullOr(ActivityTarget),
  alerts: Schema.Array(QueuedAlert),
  alertSeq: Schema.Number,
  /** Position of the newest event that changed this state. */
  lastPosition: Schema.String
})
export type SessionState = typeof SessionState.Type

export const initialSessionState = (sessionId: string): SessionState => ({
  version: STATE_VERSION,
  sessionId,
  parentId: null,
  title: "",
  status: "idle",
  lastMessage: "",
  retryInfo: null,
  turn: 0,
  turnStartedAt: null,
  permissions: [],
  statusBeforePermission: "working",
  turnError: null,
  aborted: false,
  userMessageIds: [],
  newest: null,
  activity: null,
  alerts: [],
  alertSeq: 0,
  lastPosition: "0"
})

export const DeviceRegistration = Schema.Struct({
  bundleId: Schema.NullOr(Schema.String),
  apnsEnv: ApnsEnvironment,
  pushToStartToken: Schema.NullOr(Schema.String),
  events: Schema.Array(AlertEventType),
  /** The alert sound the app bundles; null: ALERT_SOUND. */
  sound: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null })
})
export type DeviceRegistration = typeof DeviceRegistration.Type

/** A tenant's registrations (stored in tenant_registrations): its devices, and which sessions are subagents of which. */
export const Registrations = Schema.Struct({
  version: Schema.Literal(STATE_VERSION),
  devices: Schema.Record({ key: Schema.String, value: DeviceRegistration }),
  parents: Schema.Record({ key: Schema.String, value: Schema.String })
})
export type Registrations = typeof Registrations.Type

export const initialRegistrations = (): Registrations => ({ version: STATE_VERSION, devices: {}, parents: {} })

export const decodeSessionState = decodeStored(SessionState)
/** A tenant with no stored registrations (null) has none. */
export const decodeRegistrations = (value: unknown) => value === null || value === undefined ? Either.right(initialRegistrations()) : decodeStoredRegistrations(value)
const decodeStoredRegistrations = decodeStored(Registrations)
