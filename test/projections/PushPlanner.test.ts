import { describe, expect, it } from "@effect/vitest"
import type { SessionState, Registrations } from "../../domain/SessionState.ts"
import { initialMemory, type PlannerMemory } from "../../domain/PlannerMemory.ts"
import { claimsFirst, pacedByThrottle, planPushes, RESUME_GRACE_MS, settlePush } from "../../projections/PushPlanner.ts"
import { asked, busy, foldAll, idle, oc, pushline, replied, T0, text } from "./support.ts"

const settings = { throttleMs: 10_000, permissionGraceMs: 5_000, endSettleMs: 0, resumedAt: 0, defaultBundleId: "com.example.app", collapseAlerts: false }
const tenant: Registrations = {
  version: 1,
  devices: { aaaa: { bundleId: null, apnsEnv: "sandbox", pushToStartToken: "bbbb", events: ["complete", "permission", "error"], sound: null } },
  parents: {}
}
const withActivity = (state: SessionState): SessionState => ({ ...state, activity: { token: "cccc", apnsEnv: "sandbox", bundleId: null } })

/** Plans at `now` and records every push as delivered, like the sender does. */
const step = (state: SessionState, memory: PlannerMemory, now: number) => {
  const plan = planPushes(state, tenant, memory, now, settings)
  let next = plan.memory
  for (const intent of plan.intents) next = settlePush(next, intent, "delivered", null, now, 0.5).memory
  const pushes = plan.intents.map((i) => `${i.event}:${i.token}:p${i.priority}:${JSON.parse(i.content ?? "{}").status ?? "-"}`)
  return { pushes, memory: next, nextDueAt: plan.nextDueAt }
}

describe("push planner", () => {
  it("push-to-start once per turn when no activity token is known", () => {
    const { state } = foldAll([busy(0)])
    const first = step(state, initialMemory(), T0 + 100)
    expect(first.pushes).toEqual(["start:bbbb:p10:working"])
    expect(step(state, first.memory, T0 + 200).pushes).toEqual([])
  })

  it("throttles progress to one push per window and always sends the trailing state", () => {
    const s1 = withActivity(foldAll([busy(0), text("one", 10)]).state)
    const a = step(s1, initialMemory(), T0 + 100)
    expect(a.pushes).toEqual(["update:cccc:p10:working"]) // first push to a token brings it up to date at once
    const s2 = withActivity(foldAll([busy(0), text("one", 10), text("two", 200)]).state)
    const b = step(s2, a.memory, T0 + 300)
    expect(b.pushes).toEqual([])
    expect(b.nextDueAt).toBe(T0 + 100 + 10_000)
    const c = step(s2, b.memory, T0 + 10_100)
    expect(c.pushes).toEqual(["update:cccc:p5:working"])
    expect(step(s2, c.memory, T0 + 20_000).pushes).toEqual([]) // nothing new, nothing sent
  })

  it("transitions go at once with priority 10; the end carries the final state; nothing after it", () => {
    const working = withActivity(foldAll([busy(0), text("one", 10)]).state)
    const a = step(working, initialMemory(), T0 + 100)
    const done = withActivity(foldAll([busy(0), text("one", 10), idle(500)]).state)
    const b = step(done, a.memory, T0 + 600)
    expect(b.pushes).toEqual(["end:cccc:p10:complete", "complete:aaaa:p10:-"])
    expect(step({ ...done, title: "late title" }, b.memory, T0 + 700).pushes).toEqual([])
  })

  it("the end waits out the settle window, so a title OpenCode sends just after the turn ended is in it", () => {
    const settling = { ...settings, endSettleMs: 500 }
    const working = withActivity(foldAll([busy(0), text("one", 10)]).state)
    const a = planPushes(working, tenant, initialMemory(), T0 + 100, settling)
    const sent = settlePush(a.memory, a.intents[0]!, "delivered", null, T0 + 100, 0.5).memory
    const done = withActivity(foldAll([busy(0), text("one", 10), idle(500)]).state)

    // The alert goes at once; the end is held from the first run that sees the turn ended.
    const b = planPushes(done, tenant, sent, T0 + 600, settling)
    expect(b.intents.map((i) => i.event)).toEqual(["complete"])
    expect(b.holds).toEqual([{ kind: "end-settle", target: "cccc", until: T0 + 1100 }])
    expect(b.nextDueAt).toBe(T0 + 1100)
    expect(b.memory.endSettle).toEqual({ turn: 1, until: T0 + 1100 })

    // A later run inside the window keeps the same deadline, whatever changed meanwhile.
    const retitled = { ...done, title: "late title" }
    const c = planPushes(retitled, tenant, b.memory, T0 + 1000, settling)
    expect(c.intents).toEqual([])
    expect(c.holds).toEqual([{ kind: "end-settle", target: "cccc", until: T0 + 1100 }])

    const d = planPushes(retitled, tenant, c.memory, T0 + 1100, settling)
    expect(d.intents.map((i) => [i.event, JSON.parse(i.content!).sessionTitle])).toEqual([["end", "late title"]])
    expect(d.holds).toEqual([])

    // The next turn's end gets a window of its own.
    const next = withActivity(foldAll([busy(0), text("one", 10), idle(500), busy(2000), idle(3000)]).state)
    const e = planPushes(next, tenant, settlePush(d.memory, d.intents[0]!, "delivered", null, T0 + 1100, 0.5).memory, T0 + 3100, settling)
    expect(e.holds).toEqual([{ kind: "end-settle", target: "cccc", until: T0 + 3600 }])
  })

  it("an end planned just after the sender (re)started claiming waits out the resume grace", () => {
    const resumed = { ...settings, endSettleMs: 500, resumedAt: T0 + 500 }
    const done = withActivity(foldAll([busy(0), text("one", 10), idle(400)]).state)
    const memory = { ...initialMemory(), endSettle: { turn: 1, until: T0 + 900 } }
    const plan = planPushes(done, tenant, memory, T0 + 1000, resumed)
    expect(plan.holds).toEqual([{ kind: "end-settle", target: "cccc", until: T0 + 500 + RESUME_GRACE_MS }])
    expect(plan.memory.endSettle).toEqual({ turn: 1, until: T0 + 500 + RESUME_GRACE_MS })
    expect(planPushes(done, tenant, plan.memory, T0 + 500 + RESUME_GRACE_MS, resumed).intents.map((i) => i.event)).toContain("end")
  })

  it("a permission answered within the grace is never pushed; one still pending after it is", () => {
    const events = [busy(0), asked("per_1", 1000)]
    const waiting = withActivity(foldAll(events).state)
    const a = step(waiting, initialMemory(), T0 + 1100)
    expect(a.pushes).toEqual([])
    expect(a.nextDueAt).toBe(T0 + 6000)
    const answered = withActivity(foldAll([...events, replied("per_1", 1200)]).state)
    const b = step(answered, a.memory, T0 + 1300)
    expect(b.pushes).toEqual(["update:cccc:p10:working"])
    const c = step(answered, b.memory, T0 + 7000)
    expect(c.pushes).toEqual([])

    const stillWaiting = step(waiting, initialMemory(), T0 + 6000)
    expect(stillWaiting.pushes).toEqual(["update:cccc:p10:permission", "permission:aaaa:p10:-"])
  })

  it("a retryable failure backs off and the retry carries the newest state", () => {
    const s1 = withActivity(foldAll([busy(0), text("one", 10)]).state)
    const plan = planPushes(s1, tenant, initialMemory(), T0 + 100, settings)
    const failed = settlePush(plan.memory, plan.intents[0]!, "retryable", null, T0 + 100, 0)
    expect(failed.nextDueAt).toBe(T0 + 100 + 500)
    const s2 = withActivity(foldAll([busy(0), text("one", 10), idle(300)]).state)
    expect(step(s2, failed.memory, T0 + 400).pushes).toEqual(["complete:aaaa:p10:-"])
    expect(step(s2, failed.memory, T0 + 700).pushes).toEqual(["end:cccc:p10:complete", "complete:aaaa:p10:-"])
  })

  it("subagents get no pushes of their own", () => {
    const child = { ...foldAll([busy(0, "ses_child")], "ses_child").state, parentId: "ses_root" }
    expect(step(child, initialMemory(), T0 + 100).pushes).toEqual([])
  })

  it("an activity token registered after the end gets the final state as an end", () => {
    const token = { activityToken: "cccc", apnsEnv: "sandbox", bundleId: null, sessionID: "ses_root" }
    const ended = foldAll([busy(0), idle(10)]).state
    const started = step(ended, initialMemory(), T0 + 50)
    expect(started.pushes).toEqual(["start:bbbb:p10:complete", "complete:aaaa:p10:-"])
    const registered = foldAll([busy(0), idle(10), pushline("pushline.activity.registered", token, 100)]).state
    expect(step(registered, started.memory, T0 + 150).pushes).toEqual(["end:cccc:p10:complete"])
  })
})

describe("claimsFirst", () => {
  it("a permission asked, a complete or a failed turn go ahead of progress; idle, working and retry do not", () => {
    const shown = (events: Parameters<typeof foldAll>[0]) => {
      const { state } = foldAll(events)
      return [state.status, claimsFirst(state)]
    }
    expect(shown([])).toEqual(["idle", false])
    expect(shown([busy(0)])).toEqual(["working", false])
    expect(shown([busy(0), text("one", 10)])).toEqual(["working", false])
    expect(shown([busy(0), asked("per_1", 10)])).toEqual(["permission", true])
    expect(shown([busy(0), asked("per_1", 10), replied("per_1", 20)])).toEqual(["working", false])
    expect(shown([busy(0), idle(10)])).toEqual(["complete", true])
    expect(shown([busy(0), oc("session.error", { error: { name: "APIError", data: { message: "bad request" } } }, 10), idle(20)])).toEqual(["error", true])
  })
})

describe("pacedByThrottle", () => {
  const states = (events: Parameters<typeof foldAll>[0]) =>
    events.map((_, i) => withActivity(foldAll(events.slice(0, i + 1)).state))
  const token = { activityToken: "dddd", apnsEnv: "sandbox" }

  it("only text moving within a working turn is paced; status, turn, permission, alert and activity changes are not", () => {
    const [started, one, two, ask, answered, more, done] = states([
      busy(0), text("one", 10), text("two", 20), asked("per_1", 30), replied("per_1", 40), text("three", 50), idle(60)
    ])
    expect(pacedByThrottle(foldAll([]).state, started!)).toBe(false) // idle -> working: a new turn
    expect(pacedByThrottle(started!, one!)).toBe(true)
    expect(pacedByThrottle(one!, two!)).toBe(true)
    expect(pacedByThrottle(two!, ask!)).toBe(false) // permission
    expect(pacedByThrottle(ask!, answered!)).toBe(false) // back to working
    expect(pacedByThrottle(answered!, more!)).toBe(true)
    expect(pacedByThrottle(more!, done!)).toBe(false) // complete, with an alert
    const registered = foldAll([busy(0), text("one", 10), pushline("pushline.activity.registered", { ...token, sessionID: "ses_root" }, 20)]).state
    expect(pacedByThrottle(foldAll([busy(0), text("one", 10)]).state, registered)).toBe(false)
  })

  it("a paced change never lets the planner send sooner than the state before it", () => {
    const all = states([busy(0), text("one", 10), text("two", 20), text("three", 30), asked("per_1", 40), replied("per_1", 50), text("four", 60)])
    const sent = step(all[0]!, initialMemory(), T0 + 100) // the window starts at T0 + 100
    let checked = 0
    for (let i = 1; i < all.length; i++) {
      if (!pacedByThrottle(all[i - 1]!, all[i]!)) continue
      for (const now of [T0 + 200, T0 + 5_000, T0 + 10_099]) {
        // The projector keeps a session's time only while it waits (a hold); then the
        // paced state waits exactly as long.
        const before = planPushes(all[i - 1]!, tenant, sent.memory, now, settings)
        if (before.nextDueAt === null) continue
        checked++
        const after = planPushes(all[i]!, tenant, sent.memory, now, settings)
        expect(after.intents).toEqual([])
        expect(after.nextDueAt).toBe(before.nextDueAt)
      }
    }
    expect(checked).toBe(9) // text two and three, and four after the answer, at three moments each
  })
})

