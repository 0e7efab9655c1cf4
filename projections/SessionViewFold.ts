import type { LoggedEvent } from "../domain/LoggedEvent.ts"
import { isTextPart, isToolPart, type OpenCodeEvent, readOpenCodeEvent, type ToolPart } from "../domain/OpenCodeEvent.ts"
import type { PendingPermission, SessionView, Turn } from "../domain/SessionView.ts"
import { isTurnRunning } from "../domain/SessionView.ts"
import { applied, type Folded, ignored } from "./FoldOutcome.ts"
import { foldLegacyPost } from "./LegacyPostFold.ts"
import { retryInfoText, trimLastMessage } from "./ShownState.ts"
import { beginTurn, endTurn, nextTurnNumber, queueAlert } from "./TurnSteps.ts"

/**
 * The session fold: DESIGN.md's session semantics over the OpenCode events of
 * one session (and the permission requests of its subagents, which the runner
 * also folds into the root: see RegistrationsFold.foldTargets) and legacy
 * /v1/event posts. Pure: every time comes from the event.
 */
const MAX_USER_MESSAGES = 20
/** Enough streamed text to fill lastMessage; more changes nothing shown. */
const MAX_STREAMED_CHARS = 400

export const foldSession = (view: SessionView, event: LoggedEvent): Folded<SessionView> => {
  if (event.type.startsWith("pushline.")) {
    if (event.type === "pushline.legacy.event") return stamp(view, event, foldLegacyPost(view, event))
    return { state: view, outcome: ignored("a registration: the registrations fold keeps it") }
  }
  if (event.sessionId !== view.sessionId) return stamp(view, event, foldFromSubagent(view, event))

  const order = outOfOrder(view, event)
  if (order !== null) return { state: view, outcome: ignored(order) }
  const folded = stamp(view, event, foldOwn(view, event))
  // Every in-order event moves the marker, applied or not, so an older one delivered later is still caught.
  return { ...folded, state: { ...folded.state, newest: { sourceTime: event.sourceTime, eventId: event.eventId } } }
}

const iso = (ms: number) => new Date(ms).toISOString()

const outOfOrder = (view: SessionView, event: LoggedEvent): string | null => {
  const newest = view.newest
  if (newest === null) return null
  if (event.eventId === newest.eventId) return `duplicate of the newest applied event ${newest.eventId}`
  if (event.sourceTime < newest.sourceTime) {
    return `older than the newest applied event (source time ${iso(event.sourceTime)} < ${iso(newest.sourceTime)})`
  }
  if (event.sourceTime === newest.sourceTime && event.eventId < newest.eventId) {
    return `older than the newest applied event (same source time ${iso(event.sourceTime)}, id ${event.eventId} < ${newest.eventId})`
  }
  return null
}

/** An applied change records its position and time; the server id comes from the event's meta. */
const stamp = (before: SessionView, event: LoggedEvent, folded: Folded<SessionView>): Folded<SessionView> => {
  if (folded.outcome._tag === "Ignored") return { state: before, outcome: folded.outcome }
  const serverId = typeof event.meta.serverID === "string" ? event.meta.serverID : folded.state.serverId
  return {
    state: { ...folded.state, serverId, lastPosition: event.position.toString(), changedAt: event.sourceTime },
    outcome: folded.outcome
  }
}

const foldFromSubagent = (view: SessionView, event: LoggedEvent): Folded<SessionView> => {
  if (event.type !== "permission.asked" && event.type !== "permission.replied") {
    return { state: view, outcome: ignored(`event of session ${event.sessionId}, not this one`) }
  }
  return foldOwn(view, event)
}

const foldOwn = (view: SessionView, event: LoggedEvent): Folded<SessionView> => {
  const read = readOpenCodeEvent(event.payload)
  if (read._tag === "Unread") return { state: view, outcome: ignored(`${read.type} does not affect the Live Activity`) }
  if (read._tag === "Malformed") return { state: view, outcome: ignored(`malformed ${read.type}: ${read.problem}`) }
  return foldRead(view, read.event, event)
}

const unchanged = (view: SessionView, reason: string): Folded<SessionView> => ({ state: view, outcome: ignored(reason) })
const changed = (state: SessionView, change: string): Folded<SessionView> => ({ state, outcome: applied(change) })

const foldRead = (view: SessionView, oc: OpenCodeEvent, event: LoggedEvent): Folded<SessionView> => {
  const at = event.sourceTime
  switch (oc.type) {
    case "session.created":
    case "session.updated": {
      const title = oc.properties.info.title ?? view.title
      const parentId = oc.properties.info.parentID ?? view.parentId
      if (title === view.title && parentId === view.parentId) return unchanged(view, "no change to the title or parent")
      const changes = [
        ...(title !== view.title ? [`title "${title}"`] : []),
        ...(parentId !== view.parentId ? [`subagent of ${parentId}`] : [])
      ]
      return changed({ ...view, title, parentId }, changes.join(", "))
    }
    case "session.deleted": {
      if (view.deleted) return unchanged(view, "already deleted")
      const deleted = { ...view, deleted: true }
      return isTurnRunning(view)
        ? changed(endTurn(deleted, "stopped", event), "deleted while running: the turn ends quietly")
        : changed(deleted, "deleted")
    }
    case "session.status": {
      const status = oc.properties.status
      if (status.type === "idle") return idle(view, event)
      if (status.type === "busy") {
        if (!isTurnRunning(view)) return changed(beginTurn(view, at), `turn ${nextTurnNumber(view)} started`)
        const turn = view.turn!
        if (turn.retry === null) return unchanged(view, "already working (repeated busy)")
        return changed(withTurn(view, { ...turn, retry: null }), "working again after the retry")
      }
      const started = isTurnRunning(view) ? view : beginTurn(view, at)
      const info = retryInfoText(status.attempt, status.next, at)
      const retry = { attempt: status.attempt, message: trimLastMessage(status.message), info }
      return changed(withTurn(started, { ...started.turn!, retry }), `retrying: ${info} (${status.message})`)
    }
    case "session.idle":
      return idle(view, event)
    case "session.error": {
      const error = oc.properties.error
      const name = error?.name ?? "UnknownError"
      if (name === "ContextOverflowError") {
        return unchanged(view, "context overflow: OpenCode compacts and carries on; not an error to the user")
      }
      if (!isTurnRunning(view)) return unchanged(view, `${name} outside a running turn`)
      const turn = view.turn!
      if (name === "MessageAbortedError") {
        if (turn.aborted) return unchanged(view, "already aborted")
        return changed(withTurn(view, { ...turn, aborted: true }), "aborted by the user: the turn will end quietly")
      }
      const message = error?.data?.message ?? name
      if (turn.error !== null && turn.error.name === name && turn.error.message === message) {
        return unchanged(view, "the same error again")
      }
      return changed(withTurn(view, { ...turn, error: { name, message } }), `${name}: ${message} (shown at the idle)`)
    }
    case "message.updated": {
      const info = oc.properties.info
      if (info.role !== "user") return unchanged(view, "assistant message metadata shows nothing")
      if (view.userMessageIds.includes(info.id)) return unchanged(view, "user message already known")
      return changed(
        { ...view, userMessageIds: [...view.userMessageIds, info.id].slice(-MAX_USER_MESSAGES) },
        `user prompt ${info.id}`
      )
    }
    case "message.part.updated": {
      const part = oc.properties.part
      if (part.messageID !== undefined && view.userMessageIds.includes(part.messageID)) {
        return unchanged(view, "part of the user's own prompt")
      }
      if (!isTurnRunning(view)) return unchanged(view, "no turn running")
      if (isTextPart(part)) {
        if (part.text.trim() === "") return unchanged(view, "empty text part")
        return showText(view, { partId: part.id, text: part.text.slice(0, MAX_STREAMED_CHARS) })
      }
      if (isToolPart(part)) {
        const state = part.state
        if (state.status !== "pending" && state.status !== "running") {
          return unchanged(view, `tool ${part.tool} ${state.status}; the last message stays`)
        }
        const label = trimLastMessage(toolLabel(part))
        if (label === view.lastMessage) return unchanged(view, "no change to the last message")
        return changed({ ...view, lastMessage: label, streaming: null }, `tool ${state.status}: ${label}`)
      }
      return unchanged(view, `${part.type} part shows nothing`)
    }
    case "message.part.delta": {
      const delta = oc.properties
      if (delta.field !== "text") return unchanged(view, `delta of ${delta.field} shows nothing`)
      if (view.userMessageIds.includes(delta.messageID)) return unchanged(view, "part of the user's own prompt")
      if (!isTurnRunning(view)) return unchanged(view, "no turn running")
      const before = view.streaming?.partId === delta.partID ? view.streaming.text : ""
      if (before.length >= MAX_STREAMED_CHARS) return unchanged(view, "text beyond what is shown")
      return showText(view, { partId: delta.partID, text: (before + delta.delta).slice(0, MAX_STREAMED_CHARS) })
    }
    case "permission.asked": {
      const ask = oc.properties
      if (view.permissions.some((p) => p.id === ask.id)) return unchanged(view, `permission ${ask.id} already pending`)
      const label = trimLastMessage(ask.patterns.length === 0 ? ask.permission : `${ask.permission}: ${ask.patterns.join(" ")}`)
      const started = isTurnRunning(view) ? view : beginTurn(view, at)
      const permission: PendingPermission = { id: ask.id, label, sessionId: event.sessionId, askedAt: at, immediate: false }
      const from = event.sessionId === view.sessionId ? "" : ` (from subagent ${event.sessionId})`
      const withPermission = { ...started, permissions: [...started.permissions, permission] }
      return changed(
        queueAlert(withPermission, "permission", `Permission needed: ${label}`, ask.id, event),
        `permission asked${from}: ${label}`
      )
    }
    case "permission.replied": {
      const reply = oc.properties
      if (!view.permissions.some((p) => p.id === reply.requestID)) {
        return unchanged(view, `no pending permission ${reply.requestID}`)
      }
      return changed(
        { ...view, permissions: view.permissions.filter((p) => p.id !== reply.requestID) },
        `permission ${reply.requestID} answered: ${reply.reply}`
      )
    }
  }
}

const showText = (view: SessionView, streaming: { readonly partId: string; readonly text: string }): Folded<SessionView> => {
  const lastMessage = trimLastMessage(streaming.text)
  const sameStream = view.streaming?.partId === streaming.partId && view.streaming.text === streaming.text
  if (sameStream && lastMessage === view.lastMessage) return unchanged(view, "no change to the last message")
  return changed({ ...view, lastMessage, streaming }, lastMessage === view.lastMessage ? "text streamed" : `text: ${lastMessage}`)
}

/** `bash: npm install`: the tool and what it runs (title, else the command or another telling input). */
export const toolLabel = (part: ToolPart): string => {
  const input = part.state.input ?? {}
  const detail = [part.state.title, input.command, input.description, input.filePath, input.pattern, input.url]
    .find((value): value is string => typeof value === "string" && value.trim() !== "")
  return detail === undefined ? part.tool : `${part.tool}: ${detail}`
}

const idle = (view: SessionView, event: LoggedEvent): Folded<SessionView> => {
  if (view.turn === null) return unchanged(view, "idle before any turn")
  if (!isTurnRunning(view)) return unchanged(view, `duplicate idle (turn ${view.turn.number} already ended)`)
  const turn = view.turn
  if (turn.aborted) return changed(endTurn(view, "stopped", event), `turn ${turn.number} stopped by the user`)
  if (turn.error !== null) return changed(endTurn(view, "error", event), `turn ${turn.number} failed: ${turn.error.message}`)
  return changed(endTurn(view, "complete", event), `turn ${turn.number} complete`)
}

const withTurn = (view: SessionView, turn: Turn): SessionView => ({ ...view, turn })
