import * as fs from "node:fs"
import * as path from "node:path"
import { LoggedEvent } from "../../domain/LoggedEvent.ts"
import { sourceTimeFromId } from "../../domain/OpenCodeEventId.ts"
import type { PushIntent } from "../../domain/PushIntent.ts"
import { initialSessionView, type SessionView } from "../../domain/SessionView.ts"
import type { FoldOutcome } from "../../projections/FoldOutcome.ts"
import { decidePushes, type PushSettings } from "../../projections/PushDecisions.ts"
import { foldRegistrations, foldTargets, initialRegistrations, type Registrations } from "../../projections/RegistrationsFold.ts"
import { type DeliveryAnswer, recordAnswer, type SenderMemory } from "../../projections/SenderMemory.ts"
import { foldSession } from "../../projections/SessionViewFold.ts"

/** Builders for log events, a tenant-level fold driver and a sender simulation for the projection tests. */
export const T0 = Date.parse("2026-11-22T10:00:00Z")
export const TENANT = "tenant-a"
export const ROOT = "ses_root"

let position = 0n
const nextPosition = () => ++position

const hex = (ms: number) => (ms * 0x1000).toString(16).padStart(12, "0").slice(-12)

/** An OpenCode event of `session` at T0 + `at` ms, its id time-prefixed like OpenCode's. */
export const oc = (type: string, properties: Record<string, unknown>, at: number, session: string = ROOT, id?: string) => {
  const p = nextPosition()
  const eventId = id ?? `evt_${hex(T0 + at)}${p.toString().padStart(14, "0")}`
  return new LoggedEvent({
    position: p,
    tenant: TENANT,
    sessionId: session,
    eventId,
    type,
    payload: { id: eventId, type, properties: { sessionID: session, ...properties } },
    meta: { serverID: "srv-1" },
    sourceTime: T0 + at,
    receivedTime: T0 + at
  })
}

/** A Pushline event (`_tag` = type) at T0 + `at`; tenant-level unless a session is given. */
export const pl = (type: string, payload: Record<string, unknown>, at: number, session = "") => {
  const p = nextPosition()
  return new LoggedEvent({
    position: p,
    tenant: TENANT,
    sessionId: session,
    eventId: `pl_${p}`,
    type,
    payload: { _tag: type, ...payload },
    meta: {},
    sourceTime: T0 + at,
    receivedTime: T0 + at
  })
}

export const busy = (at: number, session?: string) => oc("session.status", { status: { type: "busy" } }, at, session)
export const idle = (at: number, session?: string) => oc("session.status", { status: { type: "idle" } }, at, session)
export const sessionIdle = (at: number, session?: string) => oc("session.idle", {}, at, session)
export const retry = (attempt: number, nextAt: number, at: number) =>
  oc("session.status", { status: { type: "retry", attempt, message: "rate limited", next: T0 + nextAt } }, at)
export const text = (value: string, at: number, partId = "prt_a", messageID = "msg_a") =>
  oc("message.part.updated", { part: { type: "text", id: partId, messageID, text: value } }, at)
export const delta = (value: string, at: number, partID = "prt_a", messageID = "msg_a") =>
  oc("message.part.delta", { messageID, partID, field: "text", delta: value }, at)
export const tool = (name: string, status: string, input: Record<string, unknown>, at: number) =>
  oc("message.part.updated", { part: { type: "tool", id: "prt_t", messageID: "msg_a", tool: name, callID: "c1", state: { status, input } } }, at)
export const asked = (id: string, at: number, session?: string) =>
  oc("permission.asked", { id, permission: "bash", patterns: ["npm install"], metadata: {}, always: [] }, at, session)
export const replied = (id: string, at: number, session?: string) =>
  oc("permission.replied", { requestID: id, reply: "once" }, at, session)
export const sessionError = (name: string, message: string, at: number) =>
  oc("session.error", { error: { name, data: { message } } }, at)
export const titled = (title: string, at: number, session: string = ROOT, parentID?: string) =>
  oc("session.updated", { info: { id: session, title, ...(parentID === undefined ? {} : { parentID }) } }, at, session)
export const created = (title: string, at: number, session: string = ROOT, parentID?: string) =>
  oc("session.created", { info: { id: session, title, ...(parentID === undefined ? {} : { parentID }) } }, at, session)

export const device = (at: number, token = "alert-1", pushToStartToken: string | null = "pts-1", events = ["complete", "permission", "error"]) =>
  pl("pushline.device.registered", { deviceToken: token, bundleId: null, apnsEnv: "sandbox", pushToStartToken, events }, at)
export const activity = (at: number, token = "act-1", session = ROOT) =>
  pl("pushline.activity.registered", { sessionID: session, activityToken: token, bundleId: "com.example.app", apnsEnv: "sandbox" }, at, session)
export const legacy = (eventType: string, fields: Record<string, unknown>, at: number, session = ROOT) =>
  pl("pushline.legacy.event", { serverID: "legacy-srv", eventType, sessionID: session, title: null, body: null, contentState: null, ...fields }, at, session)

/** Folds events into one session view, like the runner does for one session key. */
export const foldView = (events: ReadonlyArray<LoggedEvent>, sessionId = ROOT) => {
  let view: SessionView = initialSessionView(TENANT, sessionId)
  const outcomes: Array<FoldOutcome> = []
  for (const event of events) {
    const folded = foldSession(view, event)
    view = folded.state
    outcomes.push(folded.outcome)
  }
  return { view, outcomes, reasons: outcomes.map((o) => (o._tag === "Applied" ? "applied" : o.reason)) }
}

/** The whole tenant, as the projector runner would: registrations, then every session the event targets. */
export class Tenant {
  registrations: Registrations = initialRegistrations(TENANT)
  views = new Map<string, SessionView>()
  outcomes: Array<{ readonly session: string; readonly type: string; readonly outcome: FoldOutcome }> = []

  apply(event: LoggedEvent): void {
    this.registrations = foldRegistrations(this.registrations, event).state
    for (const sessionId of foldTargets(event, this.registrations)) {
      const view = this.views.get(sessionId) ?? initialSessionView(TENANT, sessionId)
      const folded = foldSession(view, event)
      this.views.set(sessionId, folded.state)
      this.outcomes.push({ session: sessionId, type: event.type, outcome: folded.outcome })
    }
  }

  view(sessionId = ROOT): SessionView {
    return this.views.get(sessionId) ?? initialSessionView(TENANT, sessionId)
  }
}

export interface SentPush {
  readonly at: number
  readonly intent: PushIntent
}

/** `start:working:p10`, `end:complete:p10`, `alert:complete:p10 ->alert-1`. */
export const describePush = (intent: PushIntent): string =>
  intent.kind === "alert"
    ? `alert:${intent.eventType}:p${intent.priority}`
    : `${intent.kind}:${intent.contentState.status}:p${intent.priority}`

/**
 * The sender, simulated: after every event (at its time + `delayMs`) and at
 * every `nextDueAt` in between, decide for `sessionId` and answer each push
 * with `answer(intent)` (default: delivered).
 */
export const simulate = (
  events: ReadonlyArray<LoggedEvent>,
  settings: PushSettings,
  options: { readonly sessionId?: string; readonly delayMs?: number; readonly answer?: (intent: PushIntent, at: number) => DeliveryAnswer; readonly until?: number } = {}
) => {
  const sessionId = options.sessionId ?? ROOT
  const delayMs = options.delayMs ?? 0
  const tenant = new Tenant()
  let memory: SenderMemory | null = null
  let due: number | null = null
  const sent: Array<SentPush> = []
  const decideAt = (now: number) => {
    const plan = decidePushes(tenant.view(sessionId), tenant.registrations, memory, now, settings)
    let nextMemory = plan.memory
    due = plan.nextDueAt
    for (const intent of plan.pushes) {
      const answer = options.answer?.(intent, now) ?? "delivered"
      if (answer === "delivered") sent.push({ at: now, intent })
      const recorded = recordAnswer(nextMemory, intent, answer, now, 0.5)
      nextMemory = recorded.memory
      if (recorded.nextDueAt !== null) due = due === null ? recorded.nextDueAt : Math.min(due, recorded.nextDueAt)
    }
    memory = nextMemory
  }
  const runDueUntil = (limit: number) => {
    for (let guard = 0; due !== null && due <= limit && guard < 1000; guard++) decideAt(due)
  }
  for (const event of events) {
    runDueUntil(event.receivedTime - 1)
    tenant.apply(event)
    decideAt(event.receivedTime + delayMs)
  }
  runDueUntil(options.until ?? Number.MAX_SAFE_INTEGER)
  return { sent, pushes: sent.map((s) => describePush(s.intent)), tenant, memory: memory as SenderMemory | null }
}

/** A capture from /work/shared/opencode-events as log events: `sync` and `server.*` frames skipped like the ingest does. */
export const loadCapture = (name: string): ReadonlyArray<LoggedEvent> => {
  const file = path.resolve(process.cwd(), "../shared/opencode-events", name)
  const reference = Date.parse("2026-11-22T12:00:00Z")
  const events: Array<LoggedEvent> = []
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue
    const frame = JSON.parse(line) as { payload?: { id?: string; type?: string; properties?: Record<string, any> } }
    const payload = frame.payload ?? (frame as { id?: string; type?: string; properties?: Record<string, any> })
    const type = payload.type
    if (type === undefined || type === "sync" || type.startsWith("server.") || payload.id === undefined) continue
    const props = payload.properties ?? {}
    const sessionId = props.sessionID ?? props.info?.id ?? props.part?.sessionID ?? ""
    const sourceTime = sourceTimeFromId(payload.id, reference) ?? reference
    events.push(new LoggedEvent({
      position: nextPosition(),
      tenant: TENANT,
      sessionId,
      eventId: payload.id,
      type,
      payload,
      meta: { serverID: "srv-1" },
      sourceTime,
      receivedTime: sourceTime
    }))
  }
  return events
}
