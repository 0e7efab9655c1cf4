/**
 * Properties over generated OpenCode event sequences: several sessions
 * interleaved, redelivered and out-of-order events, a subagent, devices and
 * activity tokens registered at random points, batch boundaries anywhere.
 * A simulated live sender runs the sender step at random moments with random
 * APNs answers and records what it did, as the relay records it.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { LoggedEvent } from "../../domain/LoggedEvent.ts"
import { initialMemory, type PlannerMemory } from "../../domain/PlannerMemory.ts"
import type { AttemptAnswer, DeliveryOutcome } from "../../domain/PushDecision.ts"
import { initialRegistrations, type SessionState, type Registrations } from "../../domain/SessionState.ts"
import { foldBatch, sessionKey } from "../../projections/FoldBatch.ts"
import type { PlannerSettings } from "../../projections/PushPlanner.ts"
import { isIdentical, type ReplayDelivery, type ReplayRun, replaySession } from "../../projections/Replay.ts"
import { planStep, settleStep } from "../../projections/SenderStep.ts"
import { sessionFolds } from "../../projections/SessionProjection.ts"

const T0 = Date.parse("2026-11-22T10:00:00Z")
const TENANT = "t"
const ROOTS = ["ses_a", "ses_b"] as const
const CHILD = "ses_child"
const settings: PlannerSettings = { throttleMs: 1_000, permissionGraceMs: 800, endSettleMs: 300, resumedAt: 0, defaultBundleId: "com.example.app", collapseAlerts: false }

/** What happens next in the generated log. */
type Step =
  | { readonly kind: "busy" | "idle" | "abort" | "error"; readonly session: string }
  | { readonly kind: "text"; readonly session: string; readonly text: string }
  | { readonly kind: "ask" | "reply"; readonly session: string; readonly permission: number }
  | { readonly kind: "subagent" }
  | { readonly kind: "device"; readonly device: number; readonly pushToStart: boolean }
  | { readonly kind: "activity"; readonly session: string; readonly token: number }
  | { readonly kind: "redeliver" | "late"; readonly back: number }

const session = fc.constantFrom<string>(...ROOTS, CHILD)
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("busy" as const), session }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("text" as const), session, text: fc.constantFrom("one", "two", "three", "four") }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("idle" as const), session }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom("abort" as const, "error" as const), session }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom("ask" as const, "reply" as const), session, permission: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "subagent" as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("device" as const), device: fc.integer({ min: 1, max: 2 }), pushToStart: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("activity" as const), session: fc.constantFrom<string>(...ROOTS), token: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom("redeliver" as const, "late" as const), back: fc.integer({ min: 1, max: 6 }) }) }
)

const token = (label: string) => label.padEnd(64, "0")

/** The log the steps make: positions 1.., 100 ms apart, OpenCode-shaped payloads. */
const logOf = (steps: ReadonlyArray<Step>): Array<LoggedEvent> => {
  const log: Array<LoggedEvent> = []
  const opencode = (sessionId: string, type: string, properties: Record<string, unknown>, sourceTime?: number, id?: string) => {
    const position = BigInt(log.length + 1)
    const at = T0 + log.length * 100
    const eventId = id ?? `evt_${(sourceTime ?? at).toString(16).padStart(12, "0")}${position.toString().padStart(14, "0")}`
    log.push(new LoggedEvent({
      position,
      tenant: TENANT,
      sessionId,
      eventId,
      type,
      payload: { id: eventId, type, properties: { sessionID: sessionId, ...properties } },
      meta: {},
      sourceTime: sourceTime ?? at,
      receivedTime: at
    }))
  }
  const pushline = (sessionId: string, type: string, payload: Record<string, unknown>) => {
    const position = BigInt(log.length + 1)
    const at = T0 + log.length * 100
    log.push(new LoggedEvent({ position, tenant: TENANT, sessionId, eventId: `pl_${position}`, type, payload: { _tag: type, ...payload }, meta: {}, sourceTime: at, receivedTime: at }))
  }
  for (const s of steps) {
    switch (s.kind) {
      case "busy":
      case "idle":
        opencode(s.session, "session.status", { status: { type: s.kind } })
        break
      case "abort":
        opencode(s.session, "session.error", { error: { name: "MessageAbortedError" } })
        break
      case "error":
        opencode(s.session, "session.error", { error: { name: "APIError", data: { message: "overloaded" } } })
        break
      case "text":
        opencode(s.session, "message.part.updated", { part: { type: "text", messageID: "msg_a", text: s.text } })
        break
      case "ask":
        opencode(s.session, "permission.asked", { id: `per_${s.permission}`, permission: "bash", patterns: ["ls"] })
        break
      case "reply":
        opencode(s.session, "permission.replied", { requestID: `per_${s.permission}`, reply: "once" })
        break
      case "subagent":
        opencode(CHILD, "session.created", { info: { id: CHILD, parentID: "ses_a", title: "subagent" } })
        break
      case "device":
        pushline("", "pushline.device.registered", {
          deviceToken: token(`d${s.device}`),
          bundleId: null,
          apnsEnv: "sandbox",
          pushToStartToken: s.pushToStart ? token(`p${s.device}`) : null,
          events: ["complete", "permission", "error"]
        })
        break
      case "activity":
        pushline(s.session, "pushline.activity.registered", { sessionID: s.session, activityToken: token(`a${s.token}${s.session}`), bundleId: null, apnsEnv: "sandbox" })
        break
      case "redeliver":
      case "late": {
        // The same OpenCode event again (a redelivery keeps its id and time), or a late copy under a
        // later id with its old time: both must change nothing the newest event did.
        const earlier = log.filter((e) => !e.type.startsWith("pushline.")).at(-s.back)
        if (earlier === undefined) break
        const payload = earlier.payload as { properties: Record<string, unknown> }
        const lateId = s.kind === "late" ? `${earlier.eventId.slice(0, 16)}zz${log.length}` : earlier.eventId
        opencode(earlier.sessionId, earlier.type, payload.properties, earlier.sourceTime, lateId)
        break
      }
    }
  }
  return log
}

/** Folds the log in the given batches, each from the states the previous left (as the projector does). */
const foldInBatches = (log: ReadonlyArray<LoggedEvent>, cuts: ReadonlyArray<number>) => {
  const sessions = new Map<string, SessionState>()
  const tenants = new Map<string, Registrations>()
  const tenantPositions = new Map<string, string>()
  const steps: Array<unknown> = []
  const bounds = [...new Set([0, ...cuts.map((c) => c % (log.length + 1)), log.length])].sort((a, b) => a - b)
  for (let i = 0; i + 1 < bounds.length; i++) {
    const folded = foldBatch(sessionFolds, log.slice(bounds[i], bounds[i + 1]), {
      tenant: (t) => tenants.get(t),
      session: (key) => sessions.get(key)
    })
    for (const row of folded.sessions) sessions.set(sessionKey(row.tenant, row.session_id), row.state)
    for (const row of folded.tenants) {
      tenants.set(row.tenant, row.state)
      tenantPositions.set(row.tenant, row.last_position)
    }
    steps.push(...folded.steps)
  }
  return { sessions: Object.fromEntries(sessions), tenants: Object.fromEntries(tenants), tenantPositions: Object.fromEntries(tenantPositions), steps }
}

interface GeneratedAnswer {
  readonly outcome: DeliveryOutcome
  readonly retryAfterMs: number | null
  readonly jitter: number
  readonly delayMs: number
}

const answer: fc.Arbitrary<GeneratedAnswer> = fc.record({
  outcome: fc.constantFrom<DeliveryOutcome>("delivered", "delivered", "delivered", "retryable", "rejected"),
  retryAfterMs: fc.option(fc.constantFrom(500, 1000, 3000), { nil: null }),
  jitter: fc.double({ min: 0, max: 0.999, noNaN: true }),
  delayMs: fc.integer({ min: 0, max: 50 })
})

/**
 * A live sender over the log: after each event it plans every root session
 * `runs` times (at growing moments), on the states folded so far, and records
 * runs and attempts as recordOutcomes does.
 */
const simulateSender = (log: ReadonlyArray<LoggedEvent>, runsAfter: ReadonlyArray<number>, answers: ReadonlyArray<GeneratedAnswer>) => {
  const runs = new Map<string, Array<ReplayRun>>()
  const deliveries = new Map<string, Array<ReplayDelivery>>()
  const memories = new Map<string, PlannerMemory>()
  /** Live Activity pushes APNs took, per session and token (a push-to-start token serves every session). */
  const delivered: Array<{ target: string; causedBy: bigint }> = []
  let answerIndex = 0
  let runId = 0
  let deliveryId = 0
  for (let k = 1; k <= log.length; k++) {
    const prefix = foldInBatches(log.slice(0, k), [])
    // As the sender claims: the stored states and the registrations' last position.
    const tenant = prefix.tenants[TENANT] ?? initialRegistrations()
    const tenantPosition = prefix.tenantPositions[TENANT] ?? null
    for (let r = 0; r < (runsAfter[k % runsAfter.length] ?? 0); r++) {
      for (const sessionId of ROOTS) {
        const state = prefix.sessions[sessionKey(TENANT, sessionId)]
        if (state === undefined) continue
        const now = log[k - 1]!.receivedTime + 40 + r * 700
        const memory = memories.get(sessionId) ?? initialMemory()
        const plan = planStep({ session: state, registrations: tenant, memory, now, settings })
        const id = String(++runId)
        const attempts: Array<AttemptAnswer> = plan.intents.map((intent) => {
          const a = answers[answerIndex++ % answers.length]!
          const recorded: AttemptAnswer = { outcome: a.outcome, retryAfterMs: a.outcome === "retryable" ? a.retryAfterMs : null, jitter: a.jitter, answeredAt: now + a.delayMs }
          const list = deliveries.get(sessionId) ?? []
          list.push({ id: String(++deliveryId), runId: id, token: intent.token, pushType: intent.pushType, event: intent.event, payload: intent.payload, outcome: recorded.outcome, answer: recorded })
          deliveries.set(sessionId, list)
          if (recorded.outcome === "delivered" && intent.pushType === "liveactivity") delivered.push({ target: `${sessionId} ${intent.token}`, causedBy: BigInt(intent.causedBy) })
          return recorded
        })
        const settled = settleStep(plan, attempts)
        memories.set(sessionId, settled.memory)
        if (plan.recorded) {
          const list = runs.get(sessionId) ?? []
          list.push({ id, sessionPosition: plan.sessionPosition!, registrationsPosition: tenantPosition, plannedAt: now, settings, decisions: plan.decisions })
          runs.set(sessionId, list)
        }
      }
    }
  }
  return { runs, deliveries, delivered }
}

describe("properties over generated OpenCode sessions", () => {
  it("folding the log in any batch split gives the same states and steps (rebuild equals live)", () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), fc.array(fc.nat(), { maxLength: 8 }), (steps, cuts) => {
        const log = logOf(steps)
        const whole = foldInBatches(log, [])
        expect(foldInBatches(log, cuts)).toEqual(whole)
        // One event at a time, as a live projector far behind never is and one caught up often is.
        expect(foldInBatches(log, log.map((_, i) => i))).toEqual(whole)
      }),
      { numRuns: 300 }
    )
  })

  it("replaying the recorded runs gives the recorded deliveries and decisions; no token gets an older state after a newer one", () => {
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 5 }),
        fc.array(answer, { minLength: 1, maxLength: 10 }),
        (steps, runsAfter, answers) => {
          const log = logOf(steps)
          const live = simulateSender(log, runsAfter, answers)
          for (const sessionId of ROOTS) {
            const result = replaySession({
              sessionId,
              events: log.filter((e) => e.sessionId === sessionId || e.sessionId === "" || e.sessionId === CHILD),
              runs: live.runs.get(sessionId) ?? [],
              deliveries: live.deliveries.get(sessionId) ?? [],
              overrides: {},
              fallback: settings,
              now: T0 + 1_000_000
            })
            expect(result.diff).toEqual({ missing: [], extra: [], different: [], decisions: [] })
            expect(isIdentical(result.diff)).toBe(true)
          }
          const newest = new Map<string, bigint>()
          for (const push of live.delivered) {
            expect(push.causedBy >= (newest.get(push.target) ?? 0n)).toBe(true)
            newest.set(push.target, push.causedBy)
          }
        }
      ),
      { numRuns: 300 }
    )
  })
})
