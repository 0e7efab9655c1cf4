import { ContentState } from "../domain/ContentState.ts"
import type { PlannerMemory } from "../domain/PlannerMemory.ts"
import type { DeliveryOutcome, HoldKind, SkipReason } from "../domain/PushDecision.ts"
import type { SessionState, Registrations } from "../domain/SessionState.ts"
import {
  buildAlertPayload,
  buildLiveActivityEnd,
  buildLiveActivityStart,
  buildLiveActivityUpdate,
  collapseIdFor,
  topicFor
} from "./ApnsPayload.ts"

/**
 * The push decisions, pure: from a session's state, its tenant's devices, what
 * was sent before (memory) and the time, which pushes go out now and when to
 * look again. Transitions (permission, complete, error) go at once with
 * priority 10; progress at most once per throttle window with priority 5 and
 * always a trailing push of the newest state; a permission answered within the
 * grace is never pushed; a Live Activity's `end` waits out a settle window;
 * nothing older is ever sent after something newer.
 */
export interface PlannerSettings {
  readonly throttleMs: number
  readonly permissionGraceMs: number
  /**
   * How long a Live Activity's `end` waits after the sender first sees the turn ended, so
   * what OpenCode sends just after (the title, the last message) is in it: APNs ignores
   * any push to an activity after its `end`.
   */
  readonly endSettleMs: number
  /**
   * When the sender last began claiming: its start, or the end of a database outage it
   * could not claim through. Clients resend what they could not deliver then, so an end
   * waits until RESUME_GRACE_MS after it, too. Recorded with each run, like the rest.
   */
  readonly resumedAt: number
  readonly defaultBundleId: string | null
  /** Alerts of one session replace each other on the phone (apns-collapse-id); off: each stays. */
  readonly collapseAlerts: boolean
}

/** After the sender (re)starts claiming, how long an end waits for events clients resend. */
export const RESUME_GRACE_MS = 2_000

/** The sound OpenCode's app bundles; iOS plays the default sound for an app without the file. */
export const ALERT_SOUND = "alert.wav"

export interface Intent {
  readonly token: string
  readonly environment: "sandbox" | "production"
  readonly pushType: "alert" | "liveactivity"
  readonly topic: string
  readonly priority: 5 | 10
  readonly collapseId?: string | undefined
  readonly payload: Record<string, unknown>
  readonly event: "start" | "update" | "end" | "complete" | "permission" | "error"
  readonly causedBy: string
  /** For `settle`: which memory slot the answer updates, and the content sent. */
  readonly target: string
  readonly content: string | null
  readonly turn: number
  readonly startedFor: string | null
  /** For an alert: which one (its seq in the session's queue), so a retryable failure can send it again. */
  readonly alertSeq: number | null
}

export interface Hold {
  readonly kind: HoldKind
  /** The token held, "live-activity" for every activity push of the session, or "alerts". */
  readonly target: string
  readonly until: number
}

/** A push the state calls for that is not sent at all, and why. */
export interface Skip {
  readonly target: string
  readonly event: Intent["event"]
  readonly pushType: Intent["pushType"]
  readonly reason: SkipReason
}

export interface PlanResult {
  readonly intents: ReadonlyArray<Intent>
  /** What waits, and until when. */
  readonly holds: ReadonlyArray<Hold>
  readonly skips: ReadonlyArray<Skip>
  readonly memory: PlannerMemory
  readonly nextDueAt: number | null
}

const seconds = (ms: number) => Math.floor(ms / 1000)

// Built from a typed state, so the constructor's runtime validation is skipped: it
// runs once per folded event and per planned push, and only re-checks the types.
export const contentStateOf = (state: SessionState): ContentState =>
  new ContentState({
    status: state.status === "idle" ? "working" : state.status,
    sessionTitle: state.title,
    lastMessage: state.lastMessage,
    retryInfo: state.status === "retry" ? state.retryInfo : null,
    startedAt: seconds(state.turnStartedAt ?? 0)
  }, true)

const isTerminal = (status: SessionState["status"]) => status === "complete" || status === "error"

const sameActivity = (a: SessionState["activity"], b: SessionState["activity"]) =>
  a === b || (a !== null && b !== null && a.token === b.token && a.apnsEnv === b.apnsEnv && a.bundleId === b.bundleId)

/**
 * Whether a state wants its push at once, ahead of progress: a permission
 * asked, a turn complete or failed. The sender claims such sessions first, so
 * when it is behind, a transition overtakes a backlog of progress updates.
 */
export const claimsFirst = (state: SessionState): boolean => isTerminal(state.status) || state.status === "permission"

/**
 * Whether a state change can only lead to a progress update, which the
 * throttle window paces: the same working or retry status in the same turn,
 * with the same activity, alerts and pending permissions; only the text shown
 * (title, last message, retry info) moved. Such a change need not wake the
 * sender before a window it already waits for ends; anything else may.
 */
export const pacedByThrottle = (before: SessionState, after: SessionState): boolean =>
  (after.status === "working" || after.status === "retry") &&
  before.status === after.status &&
  before.turn === after.turn &&
  before.parentId === after.parentId &&
  before.alertSeq === after.alertSeq &&
  before.aborted === after.aborted &&
  before.turnError === after.turnError &&
  before.permissions.length === after.permissions.length &&
  before.permissions.every((p, i) => p.id === after.permissions[i]?.id) &&
  sameActivity(before.activity, after.activity)

export const planPushes = (
  state: SessionState,
  registrations: Registrations,
  memory: PlannerMemory,
  now: number,
  settings: PlannerSettings
): PlanResult => {
  const intents: Array<Intent> = []
  let nextDueAt: number | null = null
  const dueAt = (at: number) => {
    nextDueAt = nextDueAt === null ? at : Math.min(nextDueAt, at)
  }
  const holds: Array<Hold> = []
  const hold = (kind: HoldKind, target: string, until: number) => {
    holds.push({ kind, target, until })
    dueAt(until)
  }
  const skips: Array<Skip> = []
  const skip = (target: string, event: Intent["event"], pushType: Intent["pushType"], reason: SkipReason) => {
    skips.push({ target, event, pushType, reason })
  }
  let next: PlannerMemory = memory
  const bundleOf = (bundleId: string | null) => bundleId ?? settings.defaultBundleId
  // The settle window starts the first time a run sees the turn ended, and is remembered;
  // a sender that only just (re)started claiming waits out its resume grace as well.
  const endSettleUntil = (turn: number) => {
    if (settings.endSettleMs <= 0) return now
    const remembered = memory.endSettle?.turn === turn ? memory.endSettle.until : null
    const until = Math.max(remembered ?? now + settings.endSettleMs, settings.resumedAt + RESUME_GRACE_MS)
    if (until !== remembered) next = { ...next, endSettle: { turn, until } }
    return until
  }

  // Subagents get no activity or alerts of their own: the root shows their permissions.
  if (state.parentId !== null) return { intents, holds, skips, memory, nextDueAt }

  const oldestAsk = state.permissions.reduce<number | null>((min, p) => (min === null || p.askedAt < min ? p.askedAt : min), null)
  const inGrace = state.status === "permission" && oldestAsk !== null && now < oldestAsk + settings.permissionGraceMs
  if (inGrace && state.turn > 0) hold("permission-grace", "live-activity", oldestAsk! + settings.permissionGraceMs)
  else if (inGrace) dueAt(oldestAsk! + settings.permissionGraceMs)

  const content = contentStateOf(state)
  const contentJson = JSON.stringify(content)
  const causedBy = state.lastPosition

  // Live Activity (once a turn has started): update/end the registered activity, or push-to-start one.
  if (!inGrace && state.turn > 0) {
    if (state.activity !== null) {
      const token = state.activity.token
      const bundle = bundleOf(state.activity.bundleId)
      const seen = memory.targets[token]
      const alreadyEnded = seen !== undefined && seen.ended && seen.turn === state.turn
      if (!alreadyEnded && seen?.lastContent !== contentJson) {
        const terminal = isTerminal(state.status)
        const transition = terminal || state.status === "permission" || seen === undefined
        if (bundle === null) skip(token, terminal ? "end" : "update", "liveactivity", "no-bundle-id")
        else if (seen !== undefined && seen.notBefore > now) hold("retry-backoff", token, seen.notBefore)
        else if (!transition && seen !== undefined && now < seen.lastSentAt + settings.throttleMs) hold("throttled", token, seen.lastSentAt + settings.throttleMs)
        else if (terminal && endSettleUntil(state.turn) > now) hold("end-settle", token, endSettleUntil(state.turn))
        else {
          intents.push({
            token,
            environment: state.activity.apnsEnv,
            pushType: "liveactivity",
            topic: topicFor(bundle, "liveactivity"),
            priority: transition ? 10 : 5,
            payload: terminal
              ? buildLiveActivityEnd({ contentState: content, timestampSeconds: seconds(now) })
              : buildLiveActivityUpdate({ contentState: content, timestampSeconds: seconds(now), staleDateSeconds: seconds(now) + 15 * 60 }),
            event: terminal ? "end" : "update",
            causedBy,
            target: token,
            content: contentJson,
            turn: state.turn,
            startedFor: null,
            alertSeq: null
          })
        }
      }
    } else {
      // A turn that ended before any activity existed still gets one, showing the final
      // state; the phone then registers its token and is sent the `end`.
      const starters = Object.entries(registrations.devices).filter(([, device]) => device.pushToStartToken !== null)
      if (starters.length === 0 && memory.noTokenTurn !== state.turn) {
        // Once a turn: every state of it would say the same.
        skip("live-activity", "start", "liveactivity", "no-token")
        next = { ...next, noTokenTurn: state.turn }
      }
      for (const [deviceToken, device] of starters) {
        const pushToStart = device.pushToStartToken!
        const bundle = bundleOf(device.bundleId)
        if (memory.started[deviceToken] === state.turn) continue
        if (bundle === null) {
          skip(pushToStart, "start", "liveactivity", "no-bundle-id")
          next = { ...next, started: { ...next.started, [deviceToken]: state.turn } }
          continue
        }
        const seen = memory.targets[pushToStart]
        if (seen !== undefined && seen.notBefore > now) {
          hold("retry-backoff", pushToStart, seen.notBefore)
          continue
        }
        next = { ...next, started: { ...next.started, [deviceToken]: state.turn } }
        intents.push({
          token: pushToStart,
          environment: device.apnsEnv,
          pushType: "liveactivity",
          topic: topicFor(bundle, "liveactivity"),
          priority: 10,
          payload: buildLiveActivityStart({
            sessionId: state.sessionId,
            contentState: content,
            alert: { title: state.title || "OpenCode", body: state.lastMessage || "Working" },
            timestampSeconds: seconds(now)
          }),
          event: "start",
          causedBy,
          target: pushToStart,
          content: contentJson,
          turn: state.turn,
          startedFor: deviceToken,
          alertSeq: null
        })
      }
    }
  }

  const alertIntent = (alert: SessionState["alerts"][number], deviceToken: string, device: Registrations["devices"][string], bundle: string): Intent => ({
    token: deviceToken,
    environment: device.apnsEnv,
    pushType: "alert",
    topic: topicFor(bundle, "alert"),
    priority: 10,
    collapseId: settings.collapseAlerts ? collapseIdFor(state.sessionId) : undefined,
    payload: buildAlertPayload({
      alert: { title: alert.title, body: alert.body, sound: device.sound ?? ALERT_SOUND },
      threadId: state.sessionId,
      custom: { eventType: alert.eventType, sessionID: state.sessionId, serverID: alert.serverId }
    }),
    event: alert.eventType,
    causedBy: alert.position,
    target: `alert:${alert.seq}:${deviceToken}`,
    content: null,
    turn: state.turn,
    startedFor: null,
    alertSeq: alert.seq
  })

  // Alerts whose last attempt failed retryably: again after the backoff, until delivered, the
  // device is gone, or a later alert of the session overtook them.
  let pendingAlerts = memory.pendingAlerts
  for (const [target, pending] of Object.entries(memory.pendingAlerts)) {
    const alert = state.alerts.find((a) => a.seq === pending.seq)
    const device = registrations.devices[pending.token]
    const bundle = device === undefined ? null : bundleOf(device.bundleId)
    const overtaken = state.alerts.some((a) => a.seq > pending.seq && a.duplicateOf === null && a.seq <= memory.alertsDone)
    if (alert === undefined || device === undefined || bundle === null || overtaken) {
      const { [target]: _dropped, ...rest } = pendingAlerts
      pendingAlerts = rest
      // An alert no longer queued was pushed out by later ones.
      const reason = overtaken || alert === undefined ? "superseded" : device === undefined ? "no-device" : "no-bundle-id"
      skip(pending.token, alert?.eventType ?? "complete", "alert", reason)
    } else if (pending.notBefore > now) hold("retry-backoff", pending.token, pending.notBefore)
    else intents.push(alertIntent(alert, pending.token, device, bundle))
  }
  // Memory is replaced only where it changes: the sender step records a run that changed it.
  if (pendingAlerts !== memory.pendingAlerts) next = { ...next, pendingAlerts }

  // New alerts, in order; a permission alert waits out the grace and is dropped if answered.
  let alertsDone = memory.alertsDone
  const devices = Object.entries(registrations.devices)
  for (const alert of state.alerts) {
    if (alert.seq <= alertsDone) continue
    if (alert.duplicateOf !== null) {
      skip("alerts", alert.eventType, "alert", "duplicate")
      alertsDone = alert.seq
      continue
    }
    // A legacy /v1/event permission names no permission: the poster asks for the alert now.
    if (alert.eventType === "permission" && alert.permissionId !== null) {
      const pending = state.permissions.some((p) => p.id === alert.permissionId)
      if (!pending) {
        skip("alerts", "permission", "alert", "permission-answered")
        alertsDone = alert.seq
        continue
      }
      if (now < alert.at + settings.permissionGraceMs) {
        hold("permission-grace", "alerts", alert.at + settings.permissionGraceMs)
        break
      }
    }
    const subscribed = devices.filter(([, device]) => device.events.includes(alert.eventType))
    if (subscribed.length === 0) skip("alerts", alert.eventType, "alert", devices.length === 0 ? "no-device" : "not-subscribed")
    for (const [deviceToken, device] of subscribed) {
      const bundle = bundleOf(device.bundleId)
      if (bundle === null) skip(deviceToken, alert.eventType, "alert", "no-bundle-id")
      else intents.push(alertIntent(alert, deviceToken, device, bundle))
    }
    alertsDone = alert.seq
  }
  if (alertsDone !== memory.alertsDone) next = { ...next, alertsDone }
  return { intents, holds, skips, memory: next, nextDueAt }
}

const backoffMs = (failures: number, retryAfterMs: number | null, jitter: number) =>
  Math.round(retryAfterMs ?? Math.min(60_000, 1000 * 2 ** (failures - 1)) * (0.5 + jitter / 2))

/**
 * Folds one APNs answer into memory. Retryable failures back off exponentially
 * (with the sender's jitter) and leave the content unsent, so the retry carries
 * whatever is newest by then. Other failures are final for that content.
 */
export const settlePush = (
  memory: PlannerMemory,
  intent: Intent,
  answer: DeliveryOutcome,
  retryAfterMs: number | null,
  now: number,
  jitter: number
): { readonly memory: PlannerMemory; readonly nextDueAt: number | null } => {
  if (intent.pushType === "alert") {
    // Retried under the same backoff rules as Live Activity pushes; any other answer is final.
    const { [intent.target]: earlier, ...others } = memory.pendingAlerts
    if (answer !== "retryable" || intent.alertSeq === null) return { memory: { ...memory, pendingAlerts: others }, nextDueAt: null }
    const failures = (earlier?.failures ?? 0) + 1
    const notBefore = now + backoffMs(failures, retryAfterMs, jitter)
    return {
      memory: { ...memory, pendingAlerts: { ...others, [intent.target]: { seq: intent.alertSeq, token: intent.token, failures, notBefore } } },
      nextDueAt: notBefore
    }
  }
  const seen = memory.targets[intent.target]
  if (answer === "retryable") {
    const failures = (seen?.failures ?? 0) + 1
    const notBefore = now + backoffMs(failures, retryAfterMs, jitter)
    const started = { ...memory.started }
    if (intent.startedFor !== null) delete started[intent.startedFor]
    return {
      memory: {
        ...memory,
        started,
        targets: {
          ...memory.targets,
          [intent.target]: { lastContent: seen?.lastContent ?? null, lastSentAt: seen?.lastSentAt ?? 0, turn: seen?.turn ?? intent.turn, ended: seen?.ended ?? false, failures, notBefore }
        }
      },
      nextDueAt: notBefore
    }
  }
  return {
    memory: {
      ...memory,
      targets: {
        ...memory.targets,
        [intent.target]: {
          lastContent: intent.content,
          lastSentAt: now,
          turn: intent.turn,
          ended: intent.event === "end",
          failures: 0,
          notBefore: 0
        }
      }
    },
    nextDueAt: null
  }
}
