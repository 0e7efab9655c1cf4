import type { PlannerMemory } from "../domain/PlannerMemory.ts"
import type { AttemptAnswer, PushDecision } from "../domain/PushDecision.ts"
import type { SessionState, Registrations } from "../domain/SessionState.ts"
import { type Intent, type PlannerSettings, planPushes, settlePush } from "./PushPlanner.ts"

/**
 * The sender's step for one claimed session, pure: plan what to send now
 * (`planStep`), then fold the answers of the attempts into memory
 * (`settleStep`). The live sender calls the two halves around its APNs
 * requests; replay calls `senderStep` with the answers recorded with each
 * attempt. Everything the step depends on that is not in the log (the clock
 * of the run, each answer, its Retry-After, the jitter drawn, when it was
 * answered) is an input, and recorded, so both make the same decisions.
 */
export interface StepInput {
  /** The projected state; null when the projector has not written one yet. */
  readonly session: SessionState | null
  readonly registrations: Registrations
  readonly memory: PlannerMemory
  /** The run's clock (epoch ms). */
  readonly now: number
  readonly settings: PlannerSettings
}

export interface PlannedStep {
  readonly now: number
  readonly intents: ReadonlyArray<Intent>
  /** Every push the state called for: sent, held (and until when) or skipped (and why). */
  readonly decisions: ReadonlyArray<PushDecision>
  /** Memory after planning, before any answer. */
  readonly memory: PlannerMemory
  readonly nextDueAt: number | null
  /** Position of the state planned on; null when there was none. */
  readonly sessionPosition: string | null
  /** Whether the run is worth a record: it decided something or changed memory. */
  readonly recorded: boolean
}

export interface SettledStep {
  readonly memory: PlannerMemory
  readonly nextDueAt: number | null
}

/** With no projected state yet (the projector is about to write it), look again this soon. */
export const NO_STATE_RETRY_MS = 200
/** A run that fails (planning throws, a stored row does not decode) is retried this often, then given up. */
export const MAX_STEP_FAILURES = 5
const STEP_RETRY_BASE_MS = 1_000

const earliest = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b))

export const planStep = (input: StepInput): PlannedStep => {
  const { memory, now, session, settings } = input
  if (session === null) {
    return { now, intents: [], decisions: [], memory, nextDueAt: now + NO_STATE_RETRY_MS, sessionPosition: null, recorded: false }
  }
  const plan = planPushes(session, input.registrations, memory, now, settings)
  const decisions: Array<PushDecision> = [
    ...plan.intents.map((intent): PushDecision => ({ decision: "send", target: intent.token, event: intent.event, pushType: intent.pushType })),
    ...plan.holds.map((hold): PushDecision => ({ decision: hold.kind, target: hold.target, until: hold.until })),
    ...plan.skips.map((skip): PushDecision => ({ decision: "skipped", target: skip.target, event: skip.event, pushType: skip.pushType, reason: skip.reason }))
  ]
  const next = plan.memory.stepFailures === 0 ? plan.memory : { ...plan.memory, stepFailures: 0 }
  return {
    now,
    intents: plan.intents,
    decisions,
    memory: next,
    nextDueAt: plan.nextDueAt,
    sessionPosition: session.lastPosition,
    recorded: decisions.length > 0 || next !== memory
  }
}

/**
 * Folds the answers, in the order of `plan.intents`, into memory. A retry's
 * backoff runs from when its failure was known; a delivered push's throttle
 * window from the run's clock, which replay re-creates from the record.
 */
export const settleStep = (plan: PlannedStep, answers: ReadonlyArray<AttemptAnswer>): SettledStep => {
  let memory = plan.memory
  let nextDueAt = plan.nextDueAt
  plan.intents.forEach((intent, i) => {
    const answer = answers[i]
    if (answer === undefined) return
    const settledAt = answer.outcome === "retryable" ? answer.answeredAt : plan.now
    const settled = settlePush(memory, intent, answer.outcome, answer.retryAfterMs, settledAt, answer.jitter)
    memory = settled.memory
    nextDueAt = earliest(nextDueAt, settled.nextDueAt)
  })
  return { memory, nextDueAt }
}

export const senderStep = (input: StepInput, answers: ReadonlyArray<AttemptAnswer>) => {
  const plan = planStep(input)
  return { plan, settled: settleStep(plan, answers) }
}

/**
 * A run that could not plan: recorded as a "failed" decision with the error,
 * retried with backoff, and given up after MAX_STEP_FAILURES in a row (then
 * the session waits for its next change), so one poison session costs a few
 * retries, not one every lease forever. With memory that does not decode
 * there is nowhere to count: given up at once, the stored memory kept as it is.
 */
export interface FailedStep {
  readonly decisions: ReadonlyArray<PushDecision>
  /** null: keep the stored memory untouched. */
  readonly memory: PlannerMemory | null
  readonly nextDueAt: number | null
}

export const failedStep = (memory: PlannerMemory | null, now: number, error: string): FailedStep => {
  if (memory === null) {
    return { decisions: [{ decision: "failed", target: "session", reason: `${error}; given up` }], memory: null, nextDueAt: null }
  }
  const failures = memory.stepFailures + 1
  const retryAt = failures < MAX_STEP_FAILURES ? now + STEP_RETRY_BASE_MS * 2 ** (failures - 1) : null
  const decision: PushDecision = retryAt === null
    ? { decision: "failed", target: "session", reason: `${error}; given up after ${failures} failed runs` }
    : { decision: "failed", target: "session", until: retryAt, reason: error }
  return { decisions: [decision], memory: { ...memory, stepFailures: failures }, nextDueAt: retryAt }
}
