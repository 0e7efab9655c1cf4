import type { LoggedEvent } from "../domain/LoggedEvent.ts"
import { initialMemory, type PlannerMemory } from "../domain/PlannerMemory.ts"
import type { AttemptAnswer, DeliveryOutcome, PushDecision } from "../domain/PushDecision.ts"
import { initialSessionState, initialRegistrations, type SessionState, type Registrations } from "../domain/SessionState.ts"
import type { Intent, PlannerSettings } from "./PushPlanner.ts"
import { failedStep, type PlannedStep, planStep, settleStep } from "./SenderStep.ts"
import { applySession } from "./SessionFold.ts"
import { applyRegistrations, sessionsOfEvent, touchesRegistrations } from "./RegistrationsFold.ts"

/**
 * Replay: re-folds a session's log with today's code and runs the sender's
 * own step (projections/SenderStep.ts) at each recorded run: with the run's
 * clock and settings, the state and registrations it planned on (by log
 * position), the memory the earlier runs left, and each attempt's recorded
 * answer (outcome, Retry-After, jitter, when it was answered). Then compares
 * the pushes and the decisions with what was recorded. With other
 * throttle/grace settings it also plans at the moments those settings ask
 * for, answering "delivered" where nothing was recorded. Pure.
 */
export interface ReplayRun {
  readonly id: string
  readonly sessionPosition: string
  readonly registrationsPosition: string | null
  readonly plannedAt: number
  readonly settings: PlannerSettings
  readonly decisions: ReadonlyArray<PushDecision>
}

export interface ReplayDelivery {
  readonly id: string
  readonly runId: string | null
  readonly token: string
  readonly pushType: string
  readonly event: string
  readonly payload: unknown
  readonly outcome: string
  /** As the sender settled it; null for attempts recorded before answers were. */
  readonly answer: AttemptAnswer | null
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
  readonly answer: DeliveryOutcome
}

export interface RecordedPush {
  readonly deliveryId: string
  readonly token: string
  readonly pushType: string
  readonly event: string
  readonly content: unknown
}

export interface DecisionDifference {
  readonly runId: string
  readonly plannedAt: number
  readonly recorded: ReadonlyArray<PushDecision>
  readonly replayed: ReadonlyArray<PushDecision>
}

export interface ReplayDiff {
  /** Today's code would send these; nothing like them was recorded. */
  readonly missing: ReadonlyArray<ReplayedPush>
  /** Recorded, but today's code would not send them. */
  readonly extra: ReadonlyArray<RecordedPush>
  /** The same push (token, type, event) with another content-state or alert. */
  readonly different: ReadonlyArray<{ readonly recorded: RecordedPush; readonly replayed: ReplayedPush }>
  /** Runs where today's code decides otherwise (held, skipped, sent); only with the recorded settings. */
  readonly decisions: ReadonlyArray<DecisionDifference>
}

export interface ReplayResult {
  readonly settings: PlannerSettings
  readonly pushes: ReadonlyArray<ReplayedPush>
  readonly recorded: ReadonlyArray<RecordedPush>
  readonly diff: ReplayDiff
}

export const isIdentical = (diff: ReplayDiff) =>
  diff.missing.length === 0 && diff.extra.length === 0 && diff.different.length === 0 && diff.decisions.length === 0

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

/** A push today's code plans where nothing was recorded: as if APNs took it at once. */
const assumedDelivered = (at: number): AttemptAnswer => ({ outcome: "delivered", retryAfterMs: null, jitter: 0.5, answeredAt: at })

/** Each intent's recorded answer: the run's first unused attempt to the same token with the same push. */
const answersOf = (intents: ReadonlyArray<Intent>, attempts: ReadonlyArray<ReplayDelivery>, at: number) => {
  const used = new Set<string>()
  return intents.map((intent): AttemptAnswer => {
    const attempt = attempts.find((d) => !used.has(d.id) && d.token === intent.token && d.event === intent.event && d.pushType === intent.pushType)
    if (attempt === undefined) return assumedDelivered(at)
    used.add(attempt.id)
    return attempt.answer ?? { ...assumedDelivered(at), outcome: attempt.outcome as DeliveryOutcome }
  })
}

const isRecordedFailure = (run: ReplayRun) => run.decisions.length > 0 && run.decisions.every((d) => d.decision === "failed")

export const replaySession = (input: {
  readonly sessionId: string
  /** In the order the projector folded them: the session's, its subagents', the tenant's. */
  readonly events: ReadonlyArray<LoggedEvent>
  readonly runs: ReadonlyArray<ReplayRun>
  readonly deliveries: ReadonlyArray<ReplayDelivery>
  /** Overrides; the rest comes from each recorded run (or `fallback` without runs). */
  readonly overrides: Partial<Pick<PlannerSettings, "throttleMs" | "permissionGraceMs">>
  readonly fallback: PlannerSettings
  /** Simulated planning (other settings only) stops here: the replay's own clock, as data. */
  readonly now: number
}): ReplayResult => {
  const { events, sessionId } = input
  // Which events reach this session, routed with the registrations after each (as the projector does).
  const routed: Array<boolean> = []
  let routing: Registrations = initialRegistrations()
  for (const event of events) {
    if (touchesRegistrations(event)) routing = applyRegistrations(routing, event).state
    routed.push(sessionsOfEvent(event, routing).includes(sessionId))
  }
  const indexOf = new Map(events.map((event, i) => [event.position.toString(), i]))

  let session: SessionState = initialSessionState(sessionId)
  let registrations: Registrations = initialRegistrations()
  let sessionCursor = 0
  let registrationsCursor = 0
  const foldSessionThrough = (index: number) => {
    for (; sessionCursor <= index && sessionCursor < events.length; sessionCursor++) {
      if (routed[sessionCursor]) session = applySession(session, events[sessionCursor]!).state
    }
  }
  const foldRegistrationsThrough = (index: number) => {
    for (; registrationsCursor <= index && registrationsCursor < events.length; registrationsCursor++) {
      const event = events[registrationsCursor]!
      if (touchesRegistrations(event)) registrations = applyRegistrations(registrations, event).state
    }
  }
  const foldReceivedBy = (at: number) => {
    let last = -1
    events.forEach((event, i) => {
      if (event.receivedTime <= at) last = i
    })
    foldSessionThrough(last)
    foldRegistrationsThrough(last)
  }

  const settingsOf = (base: PlannerSettings): PlannerSettings => ({ ...base, ...input.overrides })
  const firstSettings = input.runs[0]?.settings ?? input.fallback
  const changesSettings = (base: PlannerSettings) =>
    (input.overrides.throttleMs !== undefined && input.overrides.throttleMs !== base.throttleMs) ||
    (input.overrides.permissionGraceMs !== undefined && input.overrides.permissionGraceMs !== base.permissionGraceMs)
  const whatIf = input.runs.length === 0 ? changesSettings(input.fallback) : input.runs.some((run) => changesSettings(run.settings))

  let memory: PlannerMemory = initialMemory()
  let due: number | null = null
  let settings = settingsOf(firstSettings)
  const pushes: Array<ReplayedPush> = []
  const decisionDifferences: Array<DecisionDifference> = []

  /** The sender's step at `at`; returns the decisions it made. */
  const stepAt = (at: number, run: ReplayRun | null): ReadonlyArray<PushDecision> => {
    let plan: PlannedStep
    try {
      plan = planStep({ session, registrations, memory, now: at, settings })
    } catch (error) {
      const failed = failedStep(memory, at, `planning failed: ${String(error)}`)
      memory = failed.memory ?? memory
      due = failed.nextDueAt
      return failed.decisions
    }
    const attempts = run === null ? [] : input.deliveries.filter((d) => d.runId === run.id)
    const answers = answersOf(plan.intents, attempts, at)
    plan.intents.forEach((intent, i) => {
      pushes.push({
        runId: run?.id ?? null,
        plannedAt: at,
        causedBy: intent.causedBy,
        token: intent.token,
        pushType: intent.pushType,
        event: intent.event,
        priority: intent.priority,
        content: shownContent(intent.pushType, intent.payload),
        answer: answers[i]!.outcome
      })
    })
    const settled = settleStep(plan, answers)
    memory = settled.memory
    due = settled.nextDueAt
    return plan.decisions
  }
  /** Plans at each moment the settings ask for, up to (not including) `until`. */
  const followDue = (until: number) => {
    let last = -Infinity
    for (let i = 0; i < MAX_SIMULATED_POINTS && due !== null && due < until && due > last; i++) {
      const at: number = due
      last = at
      foldReceivedBy(at)
      stepAt(at, null)
    }
  }

  for (const run of input.runs) {
    settings = settingsOf(run.settings)
    if (whatIf) followDue(run.plannedAt)
    foldSessionThrough(indexOf.get(run.sessionPosition) ?? events.length - 1)
    foldRegistrationsThrough(run.registrationsPosition === null ? -1 : (indexOf.get(run.registrationsPosition) ?? events.length - 1))
    if (isRecordedFailure(run) && !whatIf) {
      // Why it failed (a row that did not decode, an exception) is not in the log: take the record's word.
      const failed = failedStep(memory, run.plannedAt, "recorded failure")
      memory = failed.memory ?? memory
      due = failed.nextDueAt
      continue
    }
    const decisions = stepAt(run.plannedAt, run)
    if (!whatIf && canonicalJson(decisions) !== canonicalJson(run.decisions)) {
      decisionDifferences.push({ runId: run.id, plannedAt: run.plannedAt, recorded: run.decisions, replayed: decisions })
    }
  }
  if (whatIf) {
    // Whatever the log holds after the last run, and the moments it leads to, up to now.
    const lastRunAt = input.runs[input.runs.length - 1]?.plannedAt ?? -Infinity
    const lastReceived = events.reduce((max, event) => Math.max(max, event.receivedTime), -Infinity)
    followDue(Math.min(lastReceived, input.now))
    if (sessionCursor < events.length || registrationsCursor < events.length) {
      foldSessionThrough(events.length - 1)
      foldRegistrationsThrough(events.length - 1)
      const at = Math.max(lastRunAt, lastReceived)
      if (Number.isFinite(at) && at <= input.now) stepAt(at, null)
    }
    followDue(input.now + 1)
  }

  const recorded: Array<RecordedPush> = input.deliveries.map((d) => ({
    deliveryId: d.id,
    token: d.token,
    pushType: d.pushType,
    event: d.event,
    content: shownContent(d.pushType, d.payload)
  }))
  return {
    settings,
    pushes,
    recorded,
    diff: { ...diffPushes(recorded, pushes), decisions: decisionDifferences }
  }
}

/**
 * Per token, aligns the two sequences on (push type, event) with a longest
 * common subsequence; aligned pairs that show different content are
 * "different", the rest "missing" or "extra".
 */
export const diffPushes = (recorded: ReadonlyArray<RecordedPush>, replayed: ReadonlyArray<ReplayedPush>): Omit<ReplayDiff, "decisions"> => {
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
