import { LoggedEvent } from "../../domain/LoggedEvent.ts"
import { initialSessionState, type SessionState } from "../../domain/SessionState.ts"
import { applySession } from "../../projections/SessionFold.ts"

export const T0 = Date.parse("2026-11-22T10:00:00Z")
let position = 0n

/** An OpenCode event of `session` at T0 + `at` ms; ids ascend with time like OpenCode's. */
export const oc = (type: string, properties: Record<string, unknown>, at: number, session = "ses_root") => {
  position++
  const id = `evt_${(T0 + at).toString(16).padStart(12, "0")}${position.toString().padStart(6, "0")}`
  return new LoggedEvent({
    position,
    tenant: "t",
    sessionId: session,
    eventId: id,
    type,
    payload: { id, type, properties: { sessionID: session, ...properties } },
    meta: {},
    sourceTime: T0 + at,
    receivedTime: T0 + at
  })
}

export const pushline = (type: string, payload: Record<string, unknown>, at: number, session = "ses_root") => {
  position++
  return new LoggedEvent({
    position,
    tenant: "t",
    sessionId: session,
    eventId: `pl_${position}`,
    type,
    payload: { _tag: type, ...payload },
    meta: {},
    sourceTime: T0 + at,
    receivedTime: T0 + at
  })
}

export const busy = (at: number, session?: string) => oc("session.status", { status: { type: "busy" } }, at, session)
export const idle = (at: number, session?: string) => oc("session.status", { status: { type: "idle" } }, at, session)
export const text = (value: string, at: number) => oc("message.part.updated", { part: { type: "text", messageID: "msg_a", text: value } }, at)
export const asked = (id: string, at: number, session?: string) =>
  oc("permission.asked", { id, permission: "bash", patterns: ["npm install"] }, at, session)
export const replied = (id: string, at: number, session?: string) => oc("permission.replied", { requestID: id, reply: "once" }, at, session)

export const foldAll = (events: ReadonlyArray<LoggedEvent>, sessionId = "ses_root") => {
  let state: SessionState = initialSessionState(sessionId)
  const outcomes: Array<{ type: string; applied: boolean; reason: string | null }> = []
  for (const event of events) {
    const result = applySession(state, event)
    state = result.state
    outcomes.push({ type: event.type, applied: result.applied, reason: result.reason })
  }
  return { state, outcomes }
}
