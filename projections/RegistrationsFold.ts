import type { LoggedEvent } from "../domain/LoggedEvent.ts"
import type { Registrations } from "../domain/SessionState.ts"
import { ASKS_FROM_CHILDREN } from "./SessionFold.ts"

/**
 * Devices registered for a tenant, and which sessions are subagents of which
 * (so a subagent's permission request can be shown on its root session).
 */
export interface FoldResult<S> {
  readonly state: S
  readonly applied: boolean
  readonly reason: string | null
}

const record = (value: unknown): Record<string, any> => (typeof value === "object" && value !== null ? (value as Record<string, any>) : {})

export const touchesRegistrations = (event: LoggedEvent): boolean => {
  if (event.type === "pushline.device.registered" || event.type === "pushline.device.unregistered") return true
  if (event.type === "pushline.token.invalidated" || event.type === "pushline.token.environment") return true
  if (event.type === "session.created" || event.type === "session.updated") {
    return typeof record(record(record(event.payload).properties).info).parentID === "string"
  }
  return false
}

export const applyRegistrations = (state: Registrations, event: LoggedEvent): FoldResult<Registrations> => {
  const payload = record(event.payload)
  switch (event.type) {
    case "pushline.device.registered": {
      const device = {
        bundleId: payload.bundleId ?? null,
        apnsEnv: payload.apnsEnv === "sandbox" ? ("sandbox" as const) : ("production" as const),
        pushToStartToken: payload.pushToStartToken ?? null,
        events: Array.isArray(payload.events) ? payload.events : [],
        sound: typeof payload.sound === "string" ? payload.sound : null
      }
      return { state: { ...state, devices: { ...state.devices, [payload.deviceToken]: device } }, applied: true, reason: null }
    }
    case "pushline.device.unregistered": {
      if (!(payload.deviceToken in state.devices)) return { state, applied: false, reason: "device was not registered" }
      const { [payload.deviceToken]: _removed, ...devices } = state.devices
      return { state: { ...state, devices }, applied: true, reason: null }
    }
    case "pushline.token.invalidated": {
      const token = String(payload.token)
      let changed = false
      const devices: Record<string, Registrations["devices"][string]> = {}
      for (const [deviceToken, device] of Object.entries(state.devices)) {
        if (deviceToken === token) {
          changed = true
          continue
        }
        if (device.pushToStartToken === token) {
          changed = true
          devices[deviceToken] = { ...device, pushToStartToken: null }
        } else devices[deviceToken] = device
      }
      return changed ? { state: { ...state, devices }, applied: true, reason: null } : { state, applied: false, reason: "not a device token of this tenant" }
    }
    case "pushline.token.environment": {
      const token = String(payload.token)
      const apnsEnv = payload.apnsEnv === "sandbox" ? ("sandbox" as const) : ("production" as const)
      let changed = false
      const devices: Record<string, Registrations["devices"][string]> = {}
      for (const [deviceToken, device] of Object.entries(state.devices)) {
        const owns = deviceToken === token || device.pushToStartToken === token
        changed ||= owns && device.apnsEnv !== apnsEnv
        devices[deviceToken] = owns ? { ...device, apnsEnv } : device
      }
      return changed ? { state: { ...state, devices }, applied: true, reason: null } : { state, applied: false, reason: null }
    }
    default: {
      const info = record(record(payload.properties).info)
      const parent = info.parentID
      if (typeof parent !== "string" || typeof info.id !== "string" || state.parents[info.id] === parent) {
        return { state, applied: false, reason: null }
      }
      return { state: { ...state, parents: { ...state.parents, [info.id]: parent } }, applied: true, reason: null }
    }
  }
}

/** The root of a session: follows parent links (bounded, in case of a cycle). */
export const rootOf = (state: Registrations, sessionId: string): string => {
  let current = sessionId
  for (let i = 0; i < 16; i++) {
    const parent = state.parents[current]
    if (parent === undefined) return current
    current = parent
  }
  return current
}

/**
 * The sessions an event updates, given the registrations after it: its own
 * session, none for tenant-level events, and a subagent's permission request
 * also on its root session (the phone shows the root).
 */
export const sessionsOfEvent = (event: LoggedEvent, tenantState: Registrations): ReadonlyArray<string> => {
  if (event.sessionId === "") return []
  if (ASKS_FROM_CHILDREN.has(event.type)) {
    const root = rootOf(tenantState, event.sessionId)
    return root === event.sessionId ? [event.sessionId] : [event.sessionId, root]
  }
  return [event.sessionId]
}
