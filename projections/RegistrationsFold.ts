import { Either, Schema } from "effect"
import type { LoggedEvent } from "../domain/LoggedEvent.ts"
import { readOpenCodeEvent } from "../domain/OpenCodeEvent.ts"
import {
  ActivityRegistered,
  ActivityUnregistered,
  type AlertEventType,
  type ApnsEnvironment,
  DeviceRegistered,
  DeviceUnregistered,
  TokenInvalidated
} from "../domain/PushlineEvent.ts"
import { applied, type Folded, ignored } from "./FoldOutcome.ts"

/**
 * The tenant-level fold: devices (alert token, push-to-start token, wanted
 * alert types), activity tokens per session, the subagent tree, and tokens
 * APNs declared dead. Plain JSON for jsonb; `registeredAt` is the source time
 * of the registration, so a 410 older than a re-registration is ignored.
 */
export interface DeviceEntry {
  readonly deviceToken: string
  readonly bundleId: string | null
  readonly environment: ApnsEnvironment
  readonly pushToStartToken: string | null
  readonly events: ReadonlyArray<AlertEventType>
  readonly registeredAt: number
}

export interface ActivityEntry {
  readonly sessionId: string
  readonly activityToken: string
  readonly bundleId: string | null
  readonly environment: ApnsEnvironment
  readonly registeredAt: number
  /** Log position of the registration: the planner's pushes to a late token name it as their cause. */
  readonly position: string
}

export interface Registrations {
  readonly tenant: string
  readonly devices: Readonly<Record<string, DeviceEntry>>
  /** By session id. */
  readonly activities: Readonly<Record<string, ActivityEntry>>
  /** Subagent session id → parent session id. */
  readonly parents: Readonly<Record<string, string>>
}

export const initialRegistrations = (tenant: string): Registrations => ({ tenant, devices: {}, activities: {}, parents: {} })

const decodeDeviceRegistered = Schema.decodeUnknownEither(DeviceRegistered)
const decodeDeviceUnregistered = Schema.decodeUnknownEither(DeviceUnregistered)
const decodeActivityRegistered = Schema.decodeUnknownEither(ActivityRegistered)
const decodeActivityUnregistered = Schema.decodeUnknownEither(ActivityUnregistered)
const decodeTokenInvalidated = Schema.decodeUnknownEither(TokenInvalidated)

const unchanged = (state: Registrations, reason: string): Folded<Registrations> => ({ state, outcome: ignored(reason) })
const malformed = (state: Registrations, type: string) => unchanged(state, `malformed ${type}`)
const suffix = (token: string) => `…${token.slice(-6)}`

/** Whether the registrations fold reads this event (others need not be passed to it). */
export const touchesRegistrations = (event: LoggedEvent): boolean =>
  event.type.startsWith("pushline.") && event.type !== "pushline.legacy.event" ||
  event.type === "session.created" || event.type === "session.updated"

export const foldRegistrations = (state: Registrations, event: LoggedEvent): Folded<Registrations> => {
  switch (event.type) {
    case "pushline.device.registered": {
      const decoded = decodeDeviceRegistered(event.payload)
      if (Either.isLeft(decoded)) return malformed(state, event.type)
      const device = decoded.right
      const entry: DeviceEntry = {
        deviceToken: device.deviceToken,
        bundleId: device.bundleId,
        environment: device.apnsEnv,
        pushToStartToken: device.pushToStartToken,
        events: device.events,
        registeredAt: event.sourceTime
      }
      const before = state.devices[device.deviceToken]
      return {
        state: { ...state, devices: { ...state.devices, [device.deviceToken]: entry } },
        outcome: applied(`device ${suffix(device.deviceToken)} ${before === undefined ? "registered" : "re-registered"}`)
      }
    }
    case "pushline.device.unregistered": {
      const decoded = decodeDeviceUnregistered(event.payload)
      if (Either.isLeft(decoded)) return malformed(state, event.type)
      const token = decoded.right.deviceToken
      if (state.devices[token] === undefined) return unchanged(state, `device ${suffix(token)} was not registered`)
      return { state: { ...state, devices: without(state.devices, token) }, outcome: applied(`device ${suffix(token)} unregistered`) }
    }
    case "pushline.activity.registered": {
      const decoded = decodeActivityRegistered(event.payload)
      if (Either.isLeft(decoded)) return malformed(state, event.type)
      const activity = decoded.right
      const entry: ActivityEntry = {
        sessionId: activity.sessionID,
        activityToken: activity.activityToken,
        bundleId: activity.bundleId,
        environment: activity.apnsEnv,
        registeredAt: event.sourceTime,
        position: event.position.toString()
      }
      const before = state.activities[activity.sessionID]
      if (before !== undefined && before.activityToken === entry.activityToken && before.bundleId === entry.bundleId && before.environment === entry.environment) {
        return unchanged(state, `activity token ${suffix(entry.activityToken)} already registered`)
      }
      return {
        state: { ...state, activities: { ...state.activities, [activity.sessionID]: entry } },
        outcome: applied(`activity token ${suffix(entry.activityToken)} registered for ${activity.sessionID}`)
      }
    }
    case "pushline.activity.unregistered": {
      const decoded = decodeActivityUnregistered(event.payload)
      if (Either.isLeft(decoded)) return malformed(state, event.type)
      const sessionId = decoded.right.sessionID
      if (state.activities[sessionId] === undefined) return unchanged(state, `no activity token registered for ${sessionId}`)
      return { state: { ...state, activities: without(state.activities, sessionId) }, outcome: applied(`activity token of ${sessionId} unregistered`) }
    }
    case "pushline.token.invalidated": {
      const decoded = decodeTokenInvalidated(event.payload)
      if (Either.isLeft(decoded)) return malformed(state, event.type)
      return invalidate(state, decoded.right)
    }
    case "session.created":
    case "session.updated": {
      const read = readOpenCodeEvent(event.payload)
      if (read._tag !== "Read" || (read.event.type !== "session.created" && read.event.type !== "session.updated")) {
        return unchanged(state, `malformed ${event.type}`)
      }
      const info = read.event.properties.info
      if (info.parentID === undefined) return unchanged(state, "not a subagent session")
      if (info.parentID === info.id) return unchanged(state, "a session cannot be its own parent")
      if (state.parents[info.id] === info.parentID) return unchanged(state, "subagent already known")
      return { state: { ...state, parents: { ...state.parents, [info.id]: info.parentID } }, outcome: applied(`${info.id} is a subagent of ${info.parentID}`) }
    }
    default:
      return unchanged(state, `${event.type} is not a registration`)
  }
}

/**
 * APNs declared a token dead: the device (alert token) goes with everything of
 * it, a push-to-start token is cleared, an activity token removed. A
 * registration newer than the invalidation wins (the app registered again).
 */
const invalidate = (state: Registrations, dead: TokenInvalidated): Folded<Registrations> => {
  const removed: Array<string> = []
  const devices: Record<string, DeviceEntry> = {}
  for (const [token, device] of Object.entries(state.devices)) {
    const stale = device.registeredAt <= dead.invalidatedAt
    if (stale && token === dead.token) {
      removed.push(`device ${suffix(token)}`)
    } else if (stale && device.pushToStartToken === dead.token) {
      removed.push(`push-to-start token of device ${suffix(token)}`)
      devices[token] = { ...device, pushToStartToken: null }
    } else devices[token] = device
  }
  const activities: Record<string, ActivityEntry> = {}
  for (const [sessionId, activity] of Object.entries(state.activities)) {
    if (activity.activityToken === dead.token && activity.registeredAt <= dead.invalidatedAt) {
      removed.push(`activity token of ${sessionId}`)
    } else activities[sessionId] = activity
  }
  if (removed.length === 0) return unchanged(state, `token ${suffix(dead.token)} is not registered (or was registered again after APNs invalidated it)`)
  return { state: { ...state, devices, activities }, outcome: applied(`${dead.reason}: removed ${removed.join(", ")}`) }
}

const without = <V>(record: Readonly<Record<string, V>>, key: string): Record<string, V> => {
  const { [key]: _removed, ...rest } = record
  return rest
}

/** The root of a session: follows parent links (bounded, in case of a cycle in bad data). */
export const rootSessionOf = (state: Registrations, sessionId: string): string => {
  let current = sessionId
  for (let depth = 0; depth < 32; depth++) {
    const parent = state.parents[current]
    if (parent === undefined) return current
    current = parent
  }
  return current
}

/**
 * The session views an event is folded into, given the registrations after it:
 * its own session, and for a subagent's permission request also the root
 * session, which shows it. Tenant-level events ("" session) go to none.
 */
export const foldTargets = (event: LoggedEvent, registrations: Registrations): ReadonlyArray<string> => {
  if (event.sessionId === "") return []
  if (event.type === "permission.asked" || event.type === "permission.replied") {
    const root = rootSessionOf(registrations, event.sessionId)
    return root === event.sessionId ? [event.sessionId] : [event.sessionId, root]
  }
  return [event.sessionId]
}

/**
 * Sessions whose push decisions a registration may change (the sender should
 * look at them again): an activity token's session; for device changes every
 * session of the tenant (`"all"`), since a new push-to-start token may start
 * a running session's activity.
 */
export const sessionsToRecheck = (event: LoggedEvent, before: Registrations): ReadonlyArray<string> | "all" => {
  switch (event.type) {
    case "pushline.activity.registered":
    case "pushline.activity.unregistered": {
      const payload = event.payload as { readonly sessionID?: unknown }
      return typeof payload.sessionID === "string" ? [payload.sessionID] : []
    }
    case "pushline.device.registered":
      return "all"
    case "pushline.token.invalidated": {
      const token = (event.payload as { readonly token?: unknown }).token
      return Object.values(before.activities).filter((a) => a.activityToken === token).map((a) => a.sessionId)
    }
    default:
      return []
  }
}
