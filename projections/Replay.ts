import type { LoggedEvent } from "../domain/LoggedEvent.ts"
import { initialSessionState, initialTenantState, type SessionState, type TenantState } from "../domain/SessionState.ts"
import { type Answer, initialMemory, planPushes, type PlannerMemory, type PlannerSettings, settlePush } from "./PushPlanner.ts"
import { applySession } from "./SessionFold.ts"
import { applyTenant, sessionsOfEvent, touchesTenant } from "./TenantFold.ts"

/**
 * Replay: re-folds a session's log with today's code and re-plans its pushes
 * at the moments the sender really planned (each recorded run: its clock, the
 * state and registrations it saw, by log position), then compares with what
 * was recorded. With other throttle/grace settings, it also plans at the
 * moments those settings ask for. APNs answers come from the recorded attempt
 * of the same run when there is one, else "delivered". Pure.
 */
export interface ReplayRun {
  readonly id: string
  readonly sessionPosition: string
  readonly registrationsPosition: string | null
  readonly plannedAt: number
  readonly settings: PlannerSettings
}

export interface ReplayDelivery {
  readonly id: string
  readonly runId: string | null
  readonly token: string
  readonly pushType: string
  readonly event: string
  readonly payload: unknown
  readonly outcome: string
}

export interface ReplayedPush {
  readonly runId: string | null
  readonly plannedAt: number
  readonly causedBy: string
  readonly token: string
  readonly pushType: string
  readonly event: string
  readonly priority: number
  /** content-state for Live Activity pushes, the alert for alerts. */
  readonly content: unknown
  readonly answer: Answer
}

export interface RecordedPush {
  readonly deliveryId: string
  readonly token: string
  readonly pushType: string
  readonly event: string
  readonly content: unknown
}

export interface ReplayDiff {
  /** Today's code would send these; nothing like them was recorded. */
  readonly missing: ReadonlyArray<ReplayedPush>
  /** Recorded, but today's code would not send them. */
  readonly extra: ReadonlyArray<RecordedPush>
  /** The same push (token, type, event) with another content-state or alert. */
  readonly different: ReadonlyArray<{ readonly recorded: RecordedPush; readonly replayed: ReplayedPush }>
}

export interface ReplayResult {
  readonly settings: PlannerSettings
  readonly pushes: ReadonlyArray<ReplayedPush>
  readonly recorded: ReadonlyArray<RecordedPush>
  readonly diff: ReplayDiff
}

const record = (value: unknown): Record<string, any> => (typeof value === "object" && value !== null ? (value as Record<string, any>) : {})

/** What a push shows: the Live Activity's content-state, or an alert's text. */
export const shownContent = (pushType: string, payload: unknown): unknown => {
  const aps = record(record(payload).aps)
  return pushType === "liveactivity" ? (aps["content-state"] ?? null) : (aps.alert ?? null)
}

/** JSON with sorted keys, so equal values compare equal whatever their key order. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v)

const MAX_SIMULATED_POINTS = 10_000

export const replaySession = (input: {
  readonly sessionId: string
  /** In the order the projector folded them: the session's, its subagents', the tenant's. */
  readonly events: ReadonlyArray<LoggedEvent>
  readonly runs: ReadonlyArray<ReplayRun>
  readonly deliveries: ReadonlyArray<ReplayDelivery>
  /** Overrides; the rest comes from each recorded run (or `fallback` without runs). */
  readonly overrides: Partial<Pick<PlannerSettings, "throttleMs" | "permissionGraceMs">>
  readonly fallback: PlannerSettings
  /** Simulated planning stops here (the replay's own clock, as data). */
  readonly now: number
}): ReplayResult => {
  const { events, sessionId } = input
  // Which events reach this session, routed with the tenant state after each (as the projector does).
  const routed: Array<boolean> = []
  let routing: TenantState = initialTenantState()
  for (const event of events) {
    if (touchesTenant(event)) routing = applyTenant(routing, event).state
    routed.push(sessionsOfEvent(event, routing).includes(sessionId))
  }
  const indexOf = new Map(events.map((event, i) => [event.position.toString(), i]))

  let session: SessionState = initialSessionState(sessionId)
  let tenant: TenantState = initialTenantState()
  let sessionCursor = 0
  let tenantCursor = 0
  const foldSessionThrough = (index: number) => {
    for (; sessionCursor <= index && sessionCursor < events.length; sessionCursor++) {
      if (routed[sessionCursor]) session = applySession(session, events[sessionCursor]!).state
    }
  }
  const foldTenantThrough = (index: number) => {
    for (; tenantCursor <= index && tenantCursor < events.length; tenantCursor++) {
      const event = events[tenantCursor]!
      if (touchesTenant(event)) tenant = applyTenant(tenant, event).state
    }
  }
  const foldReceivedBy = (at: number) => {
    let last = -1
    events.forEach((event, i) => {
      if (event.receivedTime <= at) last = i
    })
    foldSessionThrough(last)
    foldTenantThrough(last)
  }

  const settingsOf = (base: PlannerSettings): PlannerSettings => ({ ...base, ...input.overrides })
  const firstSettings = input.runs[0]?.settings ?? input.fallback
  const changesSettings = (base: PlannerSettings) =>
    (input.overrides.throttleMs !== undefined && input.overrides.throttleMs !== base.throttleMs) ||
    (input.overrides.permissionGraceMs !== undefined && input.overrides.permissionGraceMs !== base.permissionGraceMs)

  let memory: PlannerMemory = initialMemory()
  let due: number | null = null
  let settings = settingsOf(firstSettings)
  const pushes: Array<ReplayedPush> = []

  const planAt = (at: number, runId: string | null) => {
    const plan = planPushes(session, tenant, memory, at, settings)
    memory = plan.memory
    due = plan.nextDueAt
    for (const intent of plan.intents) {
      const attempt = runId === null
        ? undefined
        : input.deliveries.find((d) => d.runId === runId && d.token === intent.token && d.event === intent.event)
      const answer = (attempt?.outcome ?? "delivered") as Answer
      pushes.push({
        runId,
        plannedAt: at,
        causedBy: intent.causedBy,
        token: intent.token,
        pushType: intent.pushType,
        event: intent.event,
        priority: intent.priority,
        content: shownContent(intent.pushType, intent.payload),
        answer
      })
      const settled = settlePush(memory, intent, answer, null, at, 0.5)
      memory = settled.memory
      if (settled.nextDueAt !== null) due = due === null ? settled.nextDueAt : Math.min(due, settled.nextDueAt)
    }
  }
  /** Plans at each moment the settings ask for, up to (not including) `until`. */
  const followDue = (until: number) => {
    let last = -Infinity
    for (let i = 0; i < MAX_SIMULATED_POINTS && due !== null && due < until && due > last; i++) {
      const at: number = due
      last = at
      foldReceivedBy(at)
      planAt(at, null)
    }
  }

  for (const run of input.runs) {
    settings = settingsOf(run.settings)
    // With the recorded settings, the recorded runs are the whole schedule.
    if (changesSettings(run.settings)) followDue(run.plannedAt)
    foldSessionThrough(indexOf.get(run.sessionPosition) ?? events.length - 1)
    foldTenantThrough(run.registrationsPosition === null ? -1 : (indexOf.get(run.registrationsPosition) ?? events.length - 1))
    planAt(run.plannedAt, run.id)
  }
  // Whatever the log holds after the last run, and the moments it leads to, up to now.
  const lastRunAt = input.runs[input.runs.length - 1]?.plannedAt ?? -Infinity
  const lastReceived = events.reduce((max, event) => Math.max(max, event.receivedTime), -Infinity)
  followDue(Math.min(lastReceived, input.now))
  if (sessionCursor < events.length || tenantCursor < events.length) {
    foldSessionThrough(events.length - 1)
    foldTenantThrough(events.length - 1)
    const at = Math.max(lastRunAt, lastReceived)
    if (Number.isFinite(at) && at <= input.now) planAt(at, null)
  }
  followDue(input.now + 1)

  const recorded: Array<RecordedPush> = input.deliveries
    .filter((d) => d.outcome !== "retryable")
    .map((d) => ({ deliveryId: d.id, token: d.token, pushType: d.pushType, event: d.event, content: shownContent(d.pushType, d.payload) }))
  return {
    settings,
    pushes,
    recorded,
    diff: diffPushes(recorded, pushes.filter((push) => push.answer !== "retryable"))
  }
}

/**
 * Per token, aligns the two sequences on (push type, event) with a longest
 * common subsequence; aligned pairs that show different content are
 * "different", the rest "missing" or "extra".
 */
export const diffPushes = (recorded: ReadonlyArray<RecordedPush>, replayed: ReadonlyArray<ReplayedPush>): ReplayDiff => {
  const tokens = [...new Set([...recorded.map((r) => r.token), ...replayed.map((r) => r.token)])]
  const missing: Array<ReplayedPush> = []
  const extra: Array<RecordedPush> = []
  const different: Array<{ recorded: RecordedPush; replayed: ReplayedPush }> = []
  for (const token of tokens) {
    const a = recorded.filter((r) => r.token === token)
    const b = replayed.filter((r) => r.token === token)
    const key = (push: { pushType: string; event: string }) => `${push.pushType}:${push.event}`
    const lengths = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0))
    for (let i = a.length - 1; i >= 0; i--) {
      for (let j = b.length - 1; j >= 0; j--) {
        lengths[i]![j] = key(a[i]!) === key(b[j]!)
          ? lengths[i + 1]![j + 1]! + 1
          : Math.max(lengths[i + 1]![j]!, lengths[i]![j + 1]!)
      }
    }
    let i = 0
    let j = 0
    while (i < a.length && j < b.length) {
      if (key(a[i]!) === key(b[j]!)) {
        if (canonicalJson(a[i]!.content) !== canonicalJson(b[j]!.content)) different.push({ recorded: a[i]!, replayed: b[j]! })
        i++
        j++
      } else if (lengths[i + 1]![j]! >= lengths[i]![j + 1]!) extra.push(a[i++]!)
      else missing.push(b[j++]!)
    }
    while (i < a.length) extra.push(a[i++]!)
    while (j < b.length) missing.push(b[j++]!)
  }
  return { missing, extra, different }
}
