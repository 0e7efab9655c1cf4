import { Schema } from "effect"

/**
 * Pushline's own events, appended beside OpenCode's. Their `type` column is
 * the tag below; OpenCode events keep OpenCode's type (`session.status`, ...).
 */
export const AlertEventType = Schema.Literal("complete", "permission", "error")
export type AlertEventType = typeof AlertEventType.Type

export const ApnsEnvironment = Schema.Literal("sandbox", "production")
export type ApnsEnvironment = typeof ApnsEnvironment.Type

export class DeviceRegistered extends Schema.TaggedClass<DeviceRegistered>()("pushline.device.registered", {
  deviceToken: Schema.String,
  bundleId: Schema.NullOr(Schema.String),
  apnsEnv: ApnsEnvironment,
  pushToStartToken: Schema.NullOr(Schema.String),
  events: Schema.Array(AlertEventType),
  /** Registered before sounds were: absent. */
  sound: Schema.optional(Schema.NullOr(Schema.String))
}) {}

export class DeviceUnregistered extends Schema.TaggedClass<DeviceUnregistered>()("pushline.device.unregistered", {
  deviceToken: Schema.String
}) {}

export class ActivityRegistered extends Schema.TaggedClass<ActivityRegistered>()("pushline.activity.registered", {
  sessionID: Schema.String,
  activityToken: Schema.String,
  bundleId: Schema.NullOr(Schema.String),
  apnsEnv: ApnsEnvironment
}) {}

export class ActivityUnregistered extends Schema.TaggedClass<ActivityUnregistered>()("pushline.activity.unregistered", {
  sessionID: Schema.String
}) {}

/** A post to the seed-compatible `/v1/event` route, as received. */
export class LegacyEventPosted extends Schema.TaggedClass<LegacyEventPosted>()("pushline.legacy.event", {
  serverID: Schema.NullOr(Schema.String),
  eventType: Schema.Literal("complete", "permission", "error", "progress", "start"),
  sessionID: Schema.String,
  title: Schema.NullOr(Schema.String),
  body: Schema.NullOr(Schema.String),
  contentState: Schema.NullOr(Schema.Unknown)
}) {}

/** APNs told us a token is dead (410, or 400 BadDeviceToken). */
export class TokenInvalidated extends Schema.TaggedClass<TokenInvalidated>()("pushline.token.invalidated", {
  token: Schema.String,
  reason: Schema.String,
  /** APNs' 410 timestamp (epoch ms) when given, else when we learned it. */
  invalidatedAt: Schema.Number
}) {}

/** A token APNs refused in its registered environment was delivered in the other: it belongs there. */
export class TokenEnvironmentCorrected extends Schema.TaggedClass<TokenEnvironmentCorrected>()("pushline.token.environment", {
  token: Schema.String,
  apnsEnv: ApnsEnvironment,
  /** What the registered environment answered. */
  reason: Schema.String
}) {}

export const PushlineEvent = Schema.Union(
  DeviceRegistered,
  DeviceUnregistered,
  ActivityRegistered,
  ActivityUnregistered,
  LegacyEventPosted,
  TokenInvalidated,
  TokenEnvironmentCorrected
)
export type PushlineEvent = typeof PushlineEvent.Type

export const isPushlineEventType = (type: string): boolean => type.startsWith("pushline.")
