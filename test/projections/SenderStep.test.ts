import { describe, expect, it } from "@effect/vitest"
import { initialMemory } from "../../domain/PlannerMemory.ts"
import type { Registrations } from "../../domain/SessionState.ts"
import { failedStep, MAX_STEP_FAILURES, NO_STATE_RETRY_MS, planStep, senderStep, settleStep } from "../../projections/SenderStep.ts"
import { asked, busy, foldAll, idle, pushline, replied, T0 } from "./support.ts"

const settings = { throttleMs: 10_000, permissionGraceMs: 5_000, endSettleMs: 0, resumedAt: 0, defaultBundleId: null, collapseAlerts: false }
const device = (fields: Partial<Registrations["devices"][string]> = {}): Registrations["devices"][string] => ({
  bundleId: "com.example.app",
  apnsEnv: "sandbox",
  pushToStartToken: null,
  events: ["complete", "permission", "error"],
  sound: null,
  ...fields
})
const tenantWith = (devices: Registrations["devices"]): Registrations => ({ version: 1, devices, parents: {} })
const skips = (decisions: ReadonlyArray<{ decision: string; target: string; event?: string; reason?: string }>) =>
  decisions.filter((d) => d.decision === "skipped").map((d) => [d.target, d.event, d.reason])

describe("sender step", () => {
  it("with no projected state yet it sends nothing, records nothing and looks again shortly", () => {
    const plan = planStep({ session: null, registrations: tenantWith({}), memory: initialMemory(), now: T0, settings })
    expect(plan).toMatchObject({ intents: [], decisions: [], recorded: false, sessionPosition: null, nextDueAt: T0 + NO_STATE_RETRY_MS })
  })

  it("a run that decides nothing and changes no memory is not recorded", () => {
    const working = foldAll([busy(0), pushline("pushline.activity.registered", { activityToken: "cccc", apnsEnv: "sandbox", bundleId: "b", sessionID: "ses_root" }, 5)]).state
    const first = senderStep({ session: working, registrations: tenantWith({}), memory: initialMemory(), now: T0 + 100, settings }, [
      { outcome: "delivered", retryAfterMs: null, jitter: 0.5, answeredAt: T0 + 110 }
    ])
    expect(first.plan.recorded).toBe(true)
    const again = planStep({ session: working, registrations: tenantWith({}), memory: first.settled.memory, now: T0 + 200, settings })
    expect(again).toMatchObject({ intents: [], decisions: [], recorded: false })
    expect(again.memory).toBe(first.settled.memory)
  })

  it("every push the state calls for and cannot send is a skipped decision with its reason", () => {
    const ended = foldAll([busy(0), idle(10)]).state
    const none = planStep({ session: ended, registrations: tenantWith({}), memory: initialMemory(), now: T0 + 50, settings })
    expect(skips(none.decisions)).toEqual([["live-activity", "start", "no-token"], ["alerts", "complete", "no-device"]])
    expect(none.recorded).toBe(true)
    // Once a turn: the next run on the same turn has nothing to say.
    expect(planStep({ session: ended, registrations: tenantWith({}), memory: none.memory, now: T0 + 60, settings }).decisions).toEqual([])

    const unsubscribed = tenantWith({ aaaa: device({ events: ["permission"] }) })
    expect(skips(planStep({ session: ended, registrations: unsubscribed, memory: initialMemory(), now: T0 + 50, settings }).decisions))
      .toEqual([["live-activity", "start", "no-token"], ["alerts", "complete", "not-subscribed"]])

    // No bundle id in the registration and no APNS_DEFAULT_BUNDLE_ID: no topic to send to.
    const unnamed = tenantWith({ aaaa: device({ bundleId: null, pushToStartToken: "bbbb" }) })
    const plan = planStep({ session: ended, registrations: unnamed, memory: initialMemory(), now: T0 + 50, settings })
    expect(plan.intents).toEqual([])
    expect(skips(plan.decisions)).toEqual([["bbbb", "start", "no-bundle-id"], ["aaaa", "complete", "no-bundle-id"]])
    const withActivity = foldAll([busy(0), pushline("pushline.activity.registered", { activityToken: "cccc", apnsEnv: "sandbox", bundleId: null, sessionID: "ses_root" }, 5), idle(10)]).state
    expect(skips(planStep({ session: withActivity, registrations: tenantWith({}), memory: initialMemory(), now: T0 + 50, settings }).decisions))
      .toEqual([["cccc", "end", "no-bundle-id"], ["alerts", "complete", "no-device"]])
  })

  it("a permission answered within its grace is a skipped alert, said once", () => {
    const registrations = tenantWith({ aaaa: device() })
    const answered = foldAll([busy(0), asked("per_1", 10), replied("per_1", 20)]).state
    const plan = planStep({ session: answered, registrations, memory: initialMemory(), now: T0 + 30, settings: { ...settings, defaultBundleId: "x" } })
    expect(skips(plan.decisions)).toEqual([["live-activity", "start", "no-token"], ["alerts", "permission", "permission-answered"]])
    expect(plan.memory.alertsDone).toBe(1)
  })

  it("a legacy /v1/event permission names no permission: its alert goes at once", () => {
    const legacy = foldAll([pushline("pushline.legacy.event", { eventType: "permission", sessionID: "ses_root", title: "Needs you", body: "Test", serverID: null, contentState: null }, 0)]).state
    const plan = planStep({ session: legacy, registrations: tenantWith({ aaaa: device() }), memory: initialMemory(), now: T0 + 10, settings })
    expect(plan.intents.map((i) => [i.token, i.event, i.priority])).toEqual([["aaaa", "permission", 10]])
    expect(plan.decisions.filter((d) => d.decision === "permission-grace")).toEqual([])
  })

  it("settles each answer: a retry backs off from when it was answered (Retry-After first), a delivery from the run's clock", () => {
    const working = foldAll([busy(0), pushline("pushline.activity.registered", { activityToken: "cccc", apnsEnv: "sandbox", bundleId: "b", sessionID: "ses_root" }, 5)]).state
    const input = { session: working, registrations: tenantWith({}), memory: initialMemory(), now: T0 + 100, settings }
    const plan = planStep(input)
    expect(plan.intents.map((i) => i.token)).toEqual(["cccc"])
    const retried = settleStep(plan, [{ outcome: "retryable", retryAfterMs: 3_000, jitter: 0.9, answeredAt: T0 + 400 }])
    expect(retried.nextDueAt).toBe(T0 + 3_400)
    expect(retried.memory.targets["cccc"]).toMatchObject({ failures: 1, notBefore: T0 + 3_400, lastContent: null })
    const jittered = settleStep(plan, [{ outcome: "retryable", retryAfterMs: null, jitter: 0.5, answeredAt: T0 + 400 }])
    expect(jittered.nextDueAt).toBe(T0 + 400 + 750) // 1 s * (0.5 + 0.5 / 2)
    const delivered = senderStep(input, [{ outcome: "delivered", retryAfterMs: null, jitter: 0.2, answeredAt: T0 + 900 }])
    expect(delivered.settled.memory.targets["cccc"]).toMatchObject({ lastSentAt: T0 + 100, failures: 0 })
  })

  it("a run that fails is retried with backoff and given up after a few, with the error recorded", () => {
    let memory = initialMemory()
    const retries: Array<number | null> = []
    for (let i = 0; i < MAX_STEP_FAILURES; i++) {
      const failed = failedStep(memory, T0, "planning failed: boom")
      memory = failed.memory!
      retries.push(failed.nextDueAt === null ? null : failed.nextDueAt - T0)
      expect(failed.decisions).toHaveLength(1)
      expect(failed.decisions[0]).toMatchObject({ decision: "failed", target: "session" })
    }
    expect(retries).toEqual([1_000, 2_000, 4_000, 8_000, null])
    expect(failedStep(initialMemory(), T0, "x").decisions[0]!.reason).toBe("x")
    expect(failedStep({ ...initialMemory(), stepFailures: 4 }, T0, "x").decisions[0]!.reason).toBe("x; given up after 5 failed runs")
    // A run that plans again clears the count.
    const ok = planStep({ session: foldAll([busy(0)]).state, registrations: tenantWith({}), memory, now: T0, settings })
    expect(ok.memory.stepFailures).toBe(0)
    expect(ok.recorded).toBe(true)
    // Memory that does not decode is kept as stored: nothing to count in, given up at once.
    expect(failedStep(null, T0, "sender memory does not decode")).toEqual({
      decisions: [{ decision: "failed", target: "session", reason: "sender memory does not decode; given up" }],
      memory: null,
      nextDueAt: null
    })
  })
})

describe("alerts under APNs faults", () => {
  const registrations = tenantWith({ aaaa: device() })
  const answer = (outcome: "delivered" | "retryable", answeredAt: number) => ({ outcome, retryAfterMs: null, jitter: 0.5, answeredAt })

  it("a retryable failure keeps the alert pending: held for its backoff, then sent again until delivered", () => {
    const ended = foldAll([busy(0), idle(10)]).state
    const first = senderStep({ session: ended, registrations, memory: initialMemory(), now: T0 + 50, settings }, [answer("retryable", T0 + 60)])
    expect(first.plan.intents.map((i) => [i.event, i.token])).toEqual([["complete", "aaaa"]])
    expect(first.settled.nextDueAt).toBe(T0 + 60 + 750)
    const held = planStep({ session: ended, registrations, memory: first.settled.memory, now: T0 + 100, settings })
    expect(held.intents).toEqual([])
    expect(held.decisions).toContainEqual({ decision: "retry-backoff", target: "aaaa", until: T0 + 810 })
    const again = senderStep({ session: ended, registrations, memory: first.settled.memory, now: T0 + 900, settings }, [answer("delivered", T0 + 910)])
    expect(again.plan.intents.map((i) => [i.event, i.token, i.causedBy])).toEqual([["complete", "aaaa", first.plan.intents[0]!.causedBy]])
    expect(again.settled.memory.pendingAlerts).toEqual({})
    expect(planStep({ session: ended, registrations, memory: again.settled.memory, now: T0 + 2_000, settings }).intents).toEqual([])
  })

  it("a pending alert overtaken by a later alert of the session is superseded, not sent", () => {
    const first = foldAll([busy(0), idle(10)]).state
    const failed = senderStep({ session: first, registrations, memory: initialMemory(), now: T0 + 50, settings }, [answer("retryable", T0 + 60)])
    const second = foldAll([busy(0), idle(10), busy(100), idle(200)]).state
    const sent = senderStep({ session: second, registrations, memory: failed.settled.memory, now: T0 + 1_000, settings }, [answer("retryable", T0 + 1_010), answer("delivered", T0 + 1_010)])
    // Both tried in that run (the retry was due, the new one is new); the old one failed again.
    expect(sent.plan.intents.map((i) => i.alertSeq)).toEqual([1, 2])
    const after = planStep({ session: second, registrations, memory: sent.settled.memory, now: T0 + 10_000, settings })
    expect(after.intents).toEqual([])
    expect(after.decisions).toContainEqual({ decision: "skipped", target: "aaaa", event: "complete", pushType: "alert", reason: "superseded" })
    expect(after.memory.pendingAlerts).toEqual({})
  })
})
