import type { LoggedEvent } from "../domain/LoggedEvent.ts"
import type { AlertEventType, SessionView } from "../domain/SessionView.ts"
import { STOPPED_MESSAGE, trimLastMessage } from "./ShownState.ts"

/** The steps both folds (OpenCode events, legacy posts) take: begin a turn, end it, raise an alert. */
const MAX_ALERTS = 20

export const nextTurnNumber = (view: SessionView) => (view.turn?.number ?? 0) + 1

export const beginTurn = (view: SessionView, at: number): SessionView => ({
  ...view,
  turn: { number: nextTurnNumber(view), startedAt: at, outcome: null, endedAt: null, error: null, aborted: false, retry: null },
  lastMessage: "",
  streaming: null,
  permissions: []
})

/** Ends the running turn; complete and error raise an alert, stopped ends quietly. */
export const endTurn = (
  view: SessionView,
  outcome: "complete" | "error" | "stopped",
  event: LoggedEvent,
  lastMessage?: string
): SessionView => {
  const turn = view.turn!
  const shown = lastMessage ?? (outcome === "stopped"
    ? STOPPED_MESSAGE
    : outcome === "error"
    ? trimLastMessage(turn.error?.message ?? "Error")
    : view.lastMessage)
  const ended: SessionView = {
    ...view,
    turn: { ...turn, outcome, endedAt: event.sourceTime, retry: null },
    lastMessage: shown,
    streaming: null,
    permissions: []
  }
  if (outcome === "stopped") return ended
  return queueAlert(ended, outcome, shown === "" ? (outcome === "complete" ? "Session complete" : "Session failed") : shown, null, event)
}

export const queueAlert = (
  view: SessionView,
  eventType: AlertEventType,
  body: string,
  permissionId: string | null,
  event: LoggedEvent,
  title?: string
): SessionView => {
  const seq = view.alertSeq + 1
  const alert = {
    seq,
    eventType,
    title: title ?? (view.title === "" ? "OpenCode" : view.title),
    body,
    permissionId,
    at: event.sourceTime,
    position: event.position.toString()
  }
  return { ...view, alertSeq: seq, alerts: [...view.alerts, alert].slice(-MAX_ALERTS) }
}
