import type { ActivityIntent, AlertIntent, ContentStateFields, PushIntent, PushTarget, StartIntent } from "../domain/PushIntent.ts"
import type { QueuedAlert, SessionView } from "../domain/SessionView.ts"
import type { Registrations } from "./RegistrationsFold.ts"
import { permissionGraceEndsAt, shownContentState } from "./ShownState.ts"
import { emptySenderMemory, retryDue, type SenderMemory, type TokenMemory } from "./SenderMemory.ts"

/**
 * The push decisions, pure: from a session view, its tenant's registrations,
 * what was sent before (sender memory) and the time, the pushes to send now
 * and when to look again.
 * - Live Activity: `update`/`end` to the session's activity token, else
 *   `start` to each device's push-to-start token (once per turn, never for a
 *   turn already over: its alert says it). A token that has seen nothing of
 *   this turn is brought up to date at once (an `end` if the turn is over).
 * - Transitions (into or out of permission, complete, error, the first push to
 *   a token) go at once with priority 10; other changes (text, tool, title,
 *   working/retry) at most once per throttle window with priority 5, and the
 *   window's end brings the newest state (the trailing push).
 * - A permission is not shown or alerted before the grace ends, and never if
 *   answered within it. Only the newest state is ever sent: each decision
 *   shows the view as it is now, so nothing older follows something newer.
 * - Alerts (complete, permission, error) go once to every device that wants
 *   the type. Subagent sessions push nothing: the root shows their permissions.
 */
export interface PushSettings {
  readonly throttleMs: number
  readonly permissionGraceMs: number
}

export const defaultPushSettings: PushSettings = { throttleMs: 10_000, permissionGraceMs: 5_000 }

export interface PushPlan {
  readonly pushes: ReadonlyArray<PushIntent>
  /** Memory after the decision (starts and alerts counted as handed out); answers go through `recordAnswer`. */
  readonly memory: SenderMemory
  /** When to decide again without a new event (throttle window end, grace end, retry), or null. */
  readonly nextDueAt: number | null
}

const sameContent = (a: ContentStateFields | null, b: ContentStateFields) =>
  a !== null && a.status === b.status && a.sessionTitle === b.sessionTitle && a.lastMessage === b.lastMessage &&
  a.retryInfo === b.retryInfo && a.startedAt === b.startedAt

const isTerminal = (content: ContentStateFields) => content.status === "complete" || content.status === "error"

const laterPosition = (a: string, b: string) => (BigInt(a) >= BigInt(b) ? a : b)

export const decidePushes = (
  view: SessionView,
  registrations: Registrations,
  memory: SenderMemory | null,
  now: number,
  settings: PushSettings = defaultPushSettings
): PushPlan => {
  let next: SenderMemory = memory ?? emptySenderMemory()
  if (view.parentId !== null) return { pushes: [], memory: next, nextDueAt: null }

  const pushes: Array<PushIntent> = []
  let nextDueAt: number | null = null
  const dueAt = (at: number) => {
    nextDueAt = nextDueAt === null ? at : Math.min(nextDueAt, at)
  }
  const base = { tenant: view.tenant, sessionId: view.sessionId, decidedAt: now }

  const graceEnd = permissionGraceEndsAt(view, now, settings.permissionGraceMs)
  if (graceEnd !== null) dueAt(graceEnd)

  const content = shownContentState(view, now, settings.permissionGraceMs)
  const turn = view.turn
  if (content !== null && turn !== null) {
    const activity = registrations.activities[view.sessionId]
    const seen = activity === undefined ? undefined : next.tokens[activity.activityToken]
    // An activity ended in an earlier turn is over on the phone: the new turn needs a new one.
    const usable = activity !== undefined && !seen?.gone && !(seen?.kind === "end" && seen.turn < turn.number)
    if (usable) {
      const target: PushTarget = { token: activity.activityToken, environment: activity.environment, bundleId: activity.bundleId }
      const decision = decideActivity(seen, content, turn.number, now, settings)
      if (decision._tag === "Wait") dueAt(decision.until)
      if (decision._tag === "Send") {
        const causedBy = seen === undefined || seen.turn !== turn.number ? laterPosition(view.lastPosition, activity.position) : view.lastPosition
        const intent: ActivityIntent = { ...base, kind: decision.kind, target, priority: decision.priority, causedBy, contentState: content, turn: turn.number }
        pushes.push(intent)
      }
    } else if (turn.outcome === null) {
      for (const device of Object.values(registrations.devices).sort((a, b) => (a.deviceToken < b.deviceToken ? -1 : 1))) {
        if (device.pushToStartToken === null || next.started[device.deviceToken] === turn.number) continue
        const tokenMemory = next.tokens[device.pushToStartToken]
        if (tokenMemory?.gone) continue
        const retryAt = retryDue(tokenMemory, now)
        if (retryAt !== null) {
          dueAt(retryAt)
          continue
        }
        const intent: StartIntent = {
          ...base,
          kind: "start",
          target: { token: device.pushToStartToken, environment: device.environment, bundleId: device.bundleId },
          priority: 10,
          causedBy: view.lastPosition,
          contentState: content,
          alert: { title: view.title === "" ? "OpenCode" : view.title, body: content.lastMessage === "" ? "Working" : content.lastMessage },
          turn: turn.number,
          deviceToken: device.deviceToken
        }
        pushes.push(intent)
        next = { ...next, started: { ...next.started, [device.deviceToken]: turn.number } }
      }
    }
  }

  const alerts = decideAlerts(view, registrations, next, now, settings)
  for (const intent of alerts.pushes) pushes.push({ ...intent, ...base })
  if (alerts.dueAt !== null) dueAt(alerts.dueAt)
  return { pushes, memory: alerts.memory, nextDueAt }
}

type ActivityDecision =
  | { readonly _tag: "Send"; readonly kind: "update" | "end"; readonly priority: 5 | 10 }
  | { readonly _tag: "Wait"; readonly until: number }
  | { readonly _tag: "Nothing" }

const decideActivity = (
  seen: TokenMemory | undefined,
  content: ContentStateFields,
  turn: number,
  now: number,
  settings: PushSettings
): ActivityDecision => {
  const sameTurn = seen !== undefined && seen.turn === turn
  if (sameTurn && seen.kind === "end") return { _tag: "Nothing" }
  if (sameTurn && sameContent(seen.sent, content)) return { _tag: "Nothing" }
  const retryAt = retryDue(seen, now)
  if (retryAt !== null) return { _tag: "Wait", until: retryAt }
  const kind = isTerminal(content) ? "end" : "update"
  const previous = sameTurn ? seen.sent : null
  const transition = previous === null || kind === "end" ||
    (previous.status !== content.status && (content.status === "permission" || previous.status === "permission"))
  if (transition) return { _tag: "Send", kind, priority: 10 }
  const windowEnd = seen!.sentAt + settings.throttleMs
  return now < windowEnd ? { _tag: "Wait", until: windowEnd } : { _tag: "Send", kind, priority: 5 }
}

type AlertDraft = Omit<AlertIntent, "tenant" | "sessionId" | "decidedAt">

const decideAlerts = (
  view: SessionView,
  registrations: Registrations,
  memory: SenderMemory,
  now: number,
  settings: PushSettings
): { readonly pushes: ReadonlyArray<AlertDraft>; readonly memory: SenderMemory; readonly dueAt: number | null } => {
  const pushes: Array<AlertDraft> = []
  let dueAt: number | null = null
  const draft = (alert: QueuedAlert, deviceToken: string): AlertDraft | null => {
    const device = registrations.devices[deviceToken]
    if (device === undefined || !device.events.includes(alert.eventType)) return null
    return {
      kind: "alert",
      target: { token: device.deviceToken, environment: device.environment, bundleId: device.bundleId },
      priority: 10,
      causedBy: alert.position,
      eventType: alert.eventType,
      alert: { title: alert.title, body: alert.body },
      serverId: view.serverId,
      alertSeq: alert.seq
    }
  }

  const stillPending = (alert: QueuedAlert) => alert.permissionId === null || view.permissions.some((p) => p.id === alert.permissionId)

  // Retries of alerts that failed with 429/5xx, while the alert is still known (and its permission still pending).
  const retries = { ...memory.alertRetries }
  for (const [key, retry] of Object.entries(memory.alertRetries)) {
    const alert = view.alerts.find((a) => a.seq === retry.seq)
    const intent = alert === undefined || !stillPending(alert) ? null : draft(alert, retry.deviceToken)
    if (intent === null) {
      delete retries[key]
      continue
    }
    if (retry.retryAt > now) {
      dueAt = dueAt === null ? retry.retryAt : Math.min(dueAt, retry.retryAt)
      continue
    }
    pushes.push(intent)
  }

  let done = memory.alertsDone
  for (const alert of view.alerts) {
    if (alert.seq <= done) continue
    if (alert.permissionId !== null) {
      if (!stillPending(alert)) {
        done = alert.seq // answered (or the turn ended) before the grace: never alerted
        continue
      }
      const graceEnd = alert.at + settings.permissionGraceMs
      if (now < graceEnd) {
        dueAt = dueAt === null ? graceEnd : Math.min(dueAt, graceEnd)
        break // later alerts wait, so alerts keep their order
      }
    }
    for (const deviceToken of Object.keys(registrations.devices).sort()) {
      const intent = draft(alert, deviceToken)
      if (intent !== null) pushes.push(intent)
    }
    done = alert.seq
  }
  return { pushes, memory: { ...memory, alertsDone: done, alertRetries: retries }, dueAt }
}
