import { Either, Schema } from "effect"
import { ActivityStatus } from "../domain/ContentState.ts"
import type { LoggedEvent } from "../domain/LoggedEvent.ts"
import { LegacyEventPosted } from "../domain/PushlineEvent.ts"
import type { SessionView } from "../domain/SessionView.ts"
import { isTurnRunning } from "../domain/SessionView.ts"
import { applied, type Folded, ignored } from "./FoldOutcome.ts"
import { beginTurn, endTurn, queueAlert } from "./TurnSteps.ts"
import { trimLastMessage } from "./ShownState.ts"

/**
 * Seed-compatible `/v1/event` posts, folded into the same session view:
 * - `complete` / `permission` / `error`: an alert with the post's title and
 *   body, sent at once (the poster already decided; no grace). A running turn
 *   ends on complete / error (its final state: the post's contentState, else its body).
 * - `start`: a new turn (a new Live Activity); `progress`: the running turn, or
 *   a new one. Their `contentState` (status, sessionTitle, lastMessage,
 *   retryInfo) replaces what is shown; a `permission` status shows at once.
 */
const LegacyContentState = Schema.Struct({
  status: Schema.optional(ActivityStatus),
  sessionTitle: Schema.optional(Schema.String),
  lastMessage: Schema.optional(Schema.String),
  retryInfo: Schema.optional(Schema.NullOr(Schema.String))
})
type LegacyContentState = typeof LegacyContentState.Type

const decodePost = Schema.decodeUnknownEither(LegacyEventPosted)
const decodeContentState = Schema.decodeUnknownEither(LegacyContentState)

export const foldLegacyPost = (view: SessionView, event: LoggedEvent): Folded<SessionView> => {
  const decoded = decodePost(event.payload)
  if (Either.isLeft(decoded)) return { state: view, outcome: ignored("malformed legacy /v1/event post") }
  const post = decoded.right
  const content: LegacyContentState = post.contentState === null
    ? {}
    : Either.getOrElse(decodeContentState(post.contentState), () => ({}))
  const withServer: SessionView = post.serverID === null ? view : { ...view, serverId: post.serverID }
  const title = content.sessionTitle ?? post.title ?? withServer.title
  const text = content.lastMessage ?? post.body ?? null
  const titled: SessionView = { ...withServer, title }

  switch (post.eventType) {
    case "complete":
    case "error":
    case "permission": {
      const alertTitle = post.title ?? (title === "" ? "OpenCode" : title)
      const alerted = queueAlert(titled, post.eventType, post.body ?? "", null, event, alertTitle)
      if (post.eventType === "permission" || !isTurnRunning(alerted)) {
        const shown = post.eventType === "permission" && isTurnRunning(alerted) ? showPermission(alerted, text, event) : alerted
        return { state: shown, outcome: applied(`legacy ${post.eventType} alert`) }
      }
      // The turn ends here: endTurn would raise a second alert, so drop the one it queues.
      const ended = endTurn(alerted, post.eventType, event, trimLastMessage(text ?? alerted.lastMessage))
      return { state: { ...ended, alerts: alerted.alerts, alertSeq: alerted.alertSeq }, outcome: applied(`legacy ${post.eventType}: alert, activity ends`) }
    }
    case "start":
    case "progress": {
      const fresh = post.eventType === "start" || !isTurnRunning(titled)
      const started = fresh ? beginTurn(titled, event.sourceTime) : titled
      const running: SessionView = {
        ...started,
        lastMessage: text === null ? started.lastMessage : trimLastMessage(text),
        permissions: []
      }
      const status = content.status ?? "working"
      const turn = running.turn!
      const change = `legacy ${post.eventType}: ${status}`
      switch (status) {
        case "working":
          return { state: { ...running, turn: { ...turn, retry: null } }, outcome: applied(change) }
        case "retry":
          return {
            state: { ...running, turn: { ...turn, retry: { attempt: 0, message: running.lastMessage, info: content.retryInfo ?? "Retrying" } } },
            outcome: applied(change)
          }
        case "permission":
          return { state: showPermission(running, text, event), outcome: applied(change) }
        case "complete":
        case "error":
          return { state: endQuietly(running, status, event), outcome: applied(`${change} (no alert: not a complete/error post)`) }
      }
    }
  }
}

/** Shows a legacy permission at once, beside OpenCode's pending ones (replacing an earlier legacy one). */
const showPermission = (view: SessionView, text: string | null, event: LoggedEvent): SessionView => ({
  ...view,
  permissions: [...view.permissions.filter((p) => !p.immediate), {
    id: `legacy:${event.eventId}`,
    label: trimLastMessage(text ?? "Permission needed"),
    sessionId: view.sessionId,
    askedAt: event.sourceTime,
    immediate: true
  }]
})

const endQuietly = (view: SessionView, outcome: "complete" | "error", event: LoggedEvent): SessionView => {
  const ended = endTurn(view, outcome, event, view.lastMessage)
  return { ...ended, alerts: view.alerts, alertSeq: view.alertSeq }
}
