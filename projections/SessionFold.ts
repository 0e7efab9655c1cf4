import { LAST_MESSAGE_MAX } from "../domain/ContentState.ts"
import type { LoggedEvent } from "../domain/LoggedEvent.ts"
import type { QueuedAlert, SessionState } from "../domain/SessionState.ts"
import { trimAtWord } from "./ApnsPayload.ts"
import type { FoldResult } from "./RegistrationsFold.ts"

/**
 * The session fold: DESIGN.md's session semantics over OpenCode events,
 * legacy /v1/event posts and activity registrations. Pure; every time comes
 * from the event. An event that changes nothing says why.
 */
const record = (value: unknown): Record<string, any> => (typeof value === "object" && value !== null ? (value as Record<string, any>) : {})
const MAX_ALERTS = 20

const unchanged = (state: SessionState, reason: string): FoldResult<SessionState> => ({ state, applied: false, reason })
const changed = (state: SessionState, event: LoggedEvent): FoldResult<SessionState> => ({
  state: { ...state, lastPosition: event.position.toString() },
  applied: true,
  reason: null
})

const isActive = (status: SessionState["status"]) => status === "working" || status === "retry" || status === "permission"

/**
 * How far apart (by source time) the two paths' reports of one alert may be: OpenCode's
 * own poster waits 15 s before it posts a permission, and fetches the session first.
 */
export const DUPLICATE_WINDOW_MS = 60_000

const sourceOf = (event: LoggedEvent): QueuedAlert["source"] => (event.type === "pushline.legacy.event" ? "legacy" : "opencode")

/** The server that reported the event: a /v1/event post's serverID, or the batch's (its meta). */
const serverIdOf = (event: LoggedEvent): string | null => {
  const given = event.type === "pushline.legacy.event" ? record(event.payload).serverID : event.meta.serverID
  return typeof given === "string" && given !== "" ? given : null
}

/** The same turn's alert of the same kind reported by the other path, if any, close enough in time. */
const reportedByOtherPath = (state: SessionState, event: LoggedEvent, eventType: QueuedAlert["eventType"]) =>
  state.alerts.find((a) =>
    a.eventType === eventType && a.source !== sourceOf(event) && a.turn === state.turn && a.duplicateOf === null &&
    Math.abs(event.sourceTime - a.at) <= DUPLICATE_WINDOW_MS
  )

const queueAlert = (
  state: SessionState,
  event: LoggedEvent,
  alert: Pick<QueuedAlert, "eventType" | "title" | "body" | "permissionId">
): SessionState => {
  const seq = state.alertSeq + 1
  const queued: QueuedAlert = {
    ...alert,
    seq,
    position: event.position.toString(),
    at: event.sourceTime,
    serverId: serverIdOf(event),
    source: sourceOf(event),
    turn: state.turn,
    duplicateOf: reportedByOtherPath(state, event, alert.eventType)?.position ?? null
  }
  return { ...state, alertSeq: seq, alerts: [...state.alerts, queued].slice(-MAX_ALERTS) }
}

/** The agent waits for the user: a permission, or a question (shown the same way: apps know five statuses). */
const askUser = (state: SessionState, event: LoggedEvent, ask: { id: string; label: string; title: string }, fromChild: boolean, at: number) => {
  if (state.permissions.some((p) => p.id === ask.id)) return unchanged(state, "already waiting for this answer")
  const base = isActive(state.status) ? state : startTurn(state, at)
  const next: SessionState = {
    ...base,
    status: "permission",
    statusBeforePermission: base.status === "retry" ? "retry" : "working",
    lastMessage: ask.label,
    permissions: [...base.permissions, { id: ask.id, label: ask.label, askedAt: at, fromSession: fromChild ? event.sessionId : null }]
  }
  return changed(queueAlert(next, event, { eventType: "permission", title: next.title === "" ? ask.title : next.title, body: ask.label, permissionId: ask.id }), event)
}

/** The user answered (or rejected) what `askUser` asked. */
const answered = (state: SessionState, event: LoggedEvent, id: string) => {
  if (!state.permissions.some((p) => p.id === id)) return unchanged(state, "nothing pending with this id")
  const permissions = state.permissions.filter((p) => p.id !== id)
  const status = permissions.length > 0 ? "permission" : state.status === "permission" ? state.statusBeforePermission : state.status
  return changed({ ...state, permissions, status, lastMessage: permissions.at(-1)?.label ?? state.lastMessage }, event)
}

const startTurn = (state: SessionState, at: number): SessionState => ({
  ...state,
  status: "working",
  turn: state.turn + 1,
  turnStartedAt: at,
  retryInfo: null,
  turnError: null,
  aborted: false,
  permissions: [],
  lastMessage: "",
  // The previous activity ended with the previous turn; the phone registers a new one.
  activity: state.turn > 0 ? null : state.activity
})

const isOpenCode = (event: LoggedEvent) => !event.type.startsWith("pushline.")

/** What a subagent asks the user, and the answers: shown on its root session. */
export const ASKS_FROM_CHILDREN: ReadonlySet<string> = new Set(["permission.asked", "permission.replied", "question.asked", "question.replied", "question.rejected"])

export const applySession = (state: SessionState, event: LoggedEvent): FoldResult<SessionState> => {
  const fromChild = event.sessionId !== state.sessionId
  if (isOpenCode(event) && !fromChild && state.newest !== null) {
    const older = event.sourceTime < state.newest.time || (event.sourceTime === state.newest.time && event.eventId < state.newest.id)
    if (older) {
      return unchanged(state, `older than the newest applied event (source time ${new Date(event.sourceTime).toISOString()} < ${new Date(state.newest.time).toISOString()})`)
    }
  }
  const result = applyEvent(state, event, fromChild)
  if (!result.applied || !isOpenCode(event) || fromChild) return result
  return { ...result, state: { ...result.state, newest: { time: event.sourceTime, id: event.eventId } } }
}

const applyEvent = (state: SessionState, event: LoggedEvent, fromChild: boolean): FoldResult<SessionState> => {
  const payload = record(event.payload)
  const props = record(payload.properties)
  const at = event.sourceTime
  if (fromChild && !ASKS_FROM_CHILDREN.has(event.type)) {
    return unchanged(state, "event of another session")
  }
  switch (event.type) {
    case "session.created":
    case "session.updated": {
      const info = record(props.info)
      const title = typeof info.title === "string" ? info.title : state.title
      const parentId = typeof info.parentID === "string" ? info.parentID : state.parentId
      if (title === state.title && parentId === state.parentId) return unchanged(state, "no change to title or parent")
      return changed({ ...state, title, parentId }, event)
    }
    case "session.status": {
      const status = record(props.status)
      if (status.type === "busy") {
        if (!isActive(state.status)) return changed(startTurn(state, at), event)
        if (state.status === "working") return unchanged(state, "already working (repeated busy)")
        if (state.status === "permission") return unchanged(state, "busy while a permission is pending")
        return changed({ ...state, status: "working", retryInfo: null }, event)
      }
      if (status.type === "retry") {
        const base = isActive(state.status) ? state : startTurn(state, at)
        const seconds = typeof status.next === "number" ? Math.max(0, Math.round((status.next - at) / 1000)) : null
        const retryInfo = `Retry ${status.attempt ?? "?"}${seconds === null ? "" : ` in ${seconds}s`}`
        return changed({ ...base, status: "retry", retryInfo, lastMessage: trimAtWord(String(status.message ?? base.lastMessage), LAST_MESSAGE_MAX) }, event)
      }
      if (status.type === "idle") return endTurn(state, event)
      return unchanged(state, `unknown session status ${JSON.stringify(status.type)}`)
    }
    case "session.idle":
      return endTurn(state, event)
    case "session.error": {
      const error = record(props.error)
      const name = String(error.name ?? "UnknownError")
      if (name === "ContextOverflowError") return unchanged(state, "context overflow is handled by OpenCode; not an error to the user")
      if (name === "MessageAbortedError") return changed({ ...state, aborted: true }, event)
      const message = String(record(error.data).message ?? name)
      return changed({ ...state, turnError: { name, message } }, event)
    }
    case "message.updated": {
      const info = record(props.info)
      if (info.role === "user" && typeof info.id === "string" && !state.userMessageIds.includes(info.id)) {
        return changed({ ...state, userMessageIds: [...state.userMessageIds, info.id].slice(-20) }, event)
      }
      return unchanged(state, "message metadata changes nothing shown")
    }
    case "message.part.updated": {
      const part = record(props.part)
      if (state.userMessageIds.includes(String(part.messageID))) return unchanged(state, "the user's own message")
      let text: string | null = null
      if (part.type === "text" && typeof part.text === "string" && part.text.trim() !== "") text = part.text
      if (part.type === "tool") {
        const toolState = record(part.state)
        if (toolState.status === "running" || toolState.status === "pending") {
          const input = record(toolState.input)
          text = typeof toolState.title === "string" && toolState.title !== ""
            ? `${part.tool}: ${toolState.title}`
            : `${part.tool}${typeof input.command === "string" ? `: ${input.command}` : ""}`
        }
      }
      if (text === null) return unchanged(state, "part carries nothing to show")
      const lastMessage = trimAtWord(text, LAST_MESSAGE_MAX)
      if (lastMessage === state.lastMessage || !isActive(state.status)) return unchanged(state, "no change to the last message")
      return changed({ ...state, lastMessage }, event)
    }
    case "message.part.delta":
      return unchanged(state, "streaming delta; the part update carries the text")
    case "permission.asked": {
      const patterns = Array.isArray(props.patterns) ? props.patterns.join(" ") : ""
      const label = trimAtWord(`${props.permission ?? "permission"}${patterns === "" ? "" : `: ${patterns}`}`, LAST_MESSAGE_MAX)
      return askUser(state, event, { id: String(props.id ?? event.eventId), label, title: "Permission needed" }, fromChild, at)
    }
    case "question.asked": {
      const first = record(Array.isArray(props.questions) ? props.questions[0] : undefined)
      const named = typeof first.header === "string" && first.header.trim() !== "" ? first.header : first.question
      const label = trimAtWord(typeof named === "string" && named.trim() !== "" ? named : "Question", LAST_MESSAGE_MAX)
      return askUser(state, event, { id: String(props.id ?? event.eventId), label, title: "Question" }, fromChild, at)
    }
    case "permission.replied":
    case "question.replied":
    case "question.rejected":
      return answered(state, event, String(props.requestID ?? ""))
    case "pushline.activity.registered":
      return changed({
        ...state,
        activity: { token: String(payload.activityToken), apnsEnv: payload.apnsEnv === "sandbox" ? "sandbox" : "production", bundleId: payload.bundleId ?? null }
      }, event)
    case "pushline.activity.unregistered":
      return state.activity === null ? unchanged(state, "no activity registered") : changed({ ...state, activity: null }, event)
    case "pushline.token.invalidated":
      return state.activity?.token === payload.token ? changed({ ...state, activity: null }, event) : unchanged(state, "not this session's activity token")
    case "pushline.token.environment": {
      const apnsEnv = payload.apnsEnv === "sandbox" ? "sandbox" : "production"
      const activity = state.activity
      if (activity === null || activity.token !== payload.token) return unchanged(state, "not this session's activity token")
      if (activity.apnsEnv === apnsEnv) return unchanged(state, "activity token already in that environment")
      return changed({ ...state, activity: { ...activity, apnsEnv } }, event)
    }
    case "pushline.legacy.event":
      return applyLegacy(state, event, payload)
    default:
      return unchanged(state, `event type ${event.type} does not affect the Live Activity`)
  }
}

const endTurn = (state: SessionState, event: LoggedEvent): FoldResult<SessionState> => {
  if (!isActive(state.status)) return unchanged(state, state.turn === 0 ? "idle before any turn" : "duplicate idle")
  const base: SessionState = { ...state, permissions: [], retryInfo: null }
  if (state.aborted) return changed({ ...base, status: "complete", lastMessage: "Aborted" }, event)
  if (state.turnError !== null) {
    const next: SessionState = { ...base, status: "error", lastMessage: trimAtWord(state.turnError.message, LAST_MESSAGE_MAX) }
    return changed(queueAlert(next, event, { eventType: "error", title: next.title || "Session failed", body: next.lastMessage, permissionId: null }), event)
  }
  const next: SessionState = { ...base, status: "complete" }
  return changed(queueAlert(next, event, {
    eventType: "complete",
    title: next.title || "Session complete",
    body: next.lastMessage === "" ? "Done" : next.lastMessage,
    permissionId: null
  }), event)
}

const STATUSES = new Set(["working", "retry", "permission", "complete", "error"])

const LEGACY_FALLBACK_BODY = {
  complete: "Session complete.",
  permission: "OpenCode needs your permission decision.",
  error: "OpenCode reported an error for your session."
} as const

/** A seed-compatible /v1/event post: complete/permission/error alert; start/progress drive the activity. */
const applyLegacy = (state: SessionState, event: LoggedEvent, payload: Record<string, any>): FoldResult<SessionState> => {
  const eventType: unknown = payload.eventType
  if (eventType === "complete" || eventType === "permission" || eventType === "error") {
    // As OpenCode's own poster fills them in when it has nothing better.
    const alert = {
      eventType,
      title: typeof payload.title === "string" ? payload.title : (state.title || `Session ${eventType}`),
      body: typeof payload.body === "string" ? payload.body : LEGACY_FALLBACK_BODY[eventType],
      permissionId: null
    } as const
    // The bridge's events already told this turn's alert: recorded as its duplicate, nothing else changes.
    if (reportedByOtherPath(state, event, eventType) !== undefined) return changed(queueAlert(state, event, alert), event)
    const contentState = record(payload.contentState)
    const base: SessionState = {
      ...state,
      status: STATUSES.has(contentState.status) ? contentState.status : eventType,
      title: typeof payload.title === "string" ? payload.title : state.title,
      lastMessage: trimAtWord(String(payload.body ?? contentState.lastMessage ?? state.lastMessage), LAST_MESSAGE_MAX)
    }
    return changed(queueAlert(base, event, alert), event)
  }
  const contentState = record(payload.contentState)
  const base = eventType === "start" || !isActive(state.status) ? startTurn(state, event.sourceTime) : state
  return changed({
    ...base,
    status: STATUSES.has(contentState.status) ? contentState.status : "working",
    title: typeof contentState.sessionTitle === "string" ? contentState.sessionTitle : (payload.title ?? base.title),
    lastMessage: trimAtWord(String(contentState.lastMessage ?? payload.body ?? base.lastMessage), LAST_MESSAGE_MAX),
    retryInfo: typeof contentState.retryInfo === "string" ? contentState.retryInfo : null
  }, event)
}
