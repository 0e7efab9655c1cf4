import { describe, expect, it } from "@effect/vitest"
import type { LoggedEvent } from "../../domain/LoggedEvent.ts"
import type { PushIntent } from "../../domain/PushIntent.ts"
import { decidePushes, defaultPushSettings } from "../../projections/PushDecisions.ts"
import { backoffMs, type DeliveryAnswer, emptySenderMemory, MAX_ATTEMPTS, recordAnswer, type SenderMemory } from "../../projections/SenderMemory.ts"
import {
  activity,
  asked,
  busy,
  created,
  describePush,
  device,
  idle,
  legacy,
  replied,
  retry,
  ROOT,
  sessionError,
  simulate,
  T0,
  Tenant,
  text,
  titled
} from "./views.ts"

const settings = defaultPushSettings

const tenantOf = (events: ReadonlyArray<LoggedEvent>) => {
  const tenant = new Tenant()
  for (const event of events) tenant.apply(event)
  return tenant
}

/** Decides at T0 + `at` for the tenant after `events`, then answers every push. */
const step = (events: ReadonlyArray<LoggedEvent>, memory: SenderMemory | null, at: number, answer: DeliveryAnswer = "delivered") => {
  const tenant = tenantOf(events)
  const plan = decidePushes(tenant.view(), tenant.registrations, memory, T0 + at, settings)
  let next = plan.memory
  let due = plan.nextDueAt
  for (const intent of plan.pushes) {
    const recorded = recordAnswer(next, intent, answer, T0 + at, 0.5)
    next = recorded.memory
    if (recorded.nextDueAt !== null) due = due === null ? recorded.nextDueAt : Math.min(due, recorded.nextDueAt)
  }
  return { plan, pushes: plan.pushes.map(describePush), intents: plan.pushes, memory: next, nextDueAt: due }
}

const withActivity = [device(-1000), activity(-500)]

describe("push decisions: push-to-start", () => {
  it("starts a Live Activity on each device's push-to-start token once per turn, at priority 10", () => {
    const events = [device(-1000, "alert-1", "pts-1"), device(-1000, "alert-2", "pts-2"), device(-1000, "alert-3", null), created("Fix auth", 0), busy(100)]
    const first = step(events, null, 100)
    expect(first.intents).toEqual([
      {
        tenant: "tenant-a",
        sessionId: ROOT,
        decidedAt: T0 + 100,
        kind: "start",
        target: { token: "pts-1", environment: "sandbox", bundleId: null },
        priority: 10,
        causedBy: events[4]!.position.toString(),
        contentState: { sessionTitle: "Fix auth", startedAt: Math.floor((T0 + 100) / 1000), status: "working", lastMessage: "", retryInfo: null },
        alert: { title: "Fix auth", body: "Working" },
        turn: 1,
        deviceToken: "alert-1"
      },
      expect.objectContaining({ kind: "start", target: { token: "pts-2", environment: "sandbox", bundleId: null }, deviceToken: "alert-2" })
    ])
    expect(first.memory.started).toEqual({ "alert-1": 1, "alert-2": 1 })
    expect(step([...events, text("Reading files", 200)], first.memory, 300).pushes).toEqual([])
  })

  it("does not start an activity for a turn already over (its alert tells), but does for the next turn", () => {
    const ended = [device(-1000), busy(100), idle(200)]
    expect(step(ended, null, 300).pushes).toEqual(["alert:complete:p10"])
    const first = step([device(-1000), busy(100)], null, 100)
    const next = step([device(-1000), busy(100), idle(200), busy(5000)], first.memory, 5000)
    expect(next.pushes).toEqual(["start:working:p10", "alert:complete:p10"])
    expect(next.intents[0]).toMatchObject({ turn: 2 })
  })

  it("pushes nothing before the first turn, and nothing at all for a subagent", () => {
    expect(step([device(-1000), created("x", 0)], null, 100)).toMatchObject({ pushes: [], nextDueAt: null })
    const tenant = tenantOf([device(-1000), created("x", 0, "ses_child", ROOT), busy(10, "ses_child"), asked("per_1", 20, "ses_child"), idle(30, "ses_child")])
    const plan = decidePushes(tenant.view("ses_child"), tenant.registrations, null, T0 + 10_000, settings)
    expect(plan).toEqual({ pushes: [], memory: emptySenderMemory(), nextDueAt: null })
  })
})

describe("push decisions: throttle and transitions", () => {
  it("brings a new activity token up to date at once, then throttles progress with a trailing push of the newest state", () => {
    const base = [...withActivity, busy(100)]
    const a = step(base, null, 100)
    expect(a.pushes).toEqual(["update:working:p10"])
    const b = step([...base, text("one", 200), text("two", 300)], a.memory, 300)
    expect(b.pushes).toEqual([])
    expect(b.nextDueAt).toBe(T0 + 100 + 10_000)
    expect(step([...base, text("one", 200), text("two", 300)], b.memory, 10_099).pushes).toEqual([]) // 1 ms before the window ends
    const c = step([...base, text("one", 200), text("two", 300)], b.memory, 10_100)
    expect(c.pushes).toEqual(["update:working:p5"])
    expect(c.intents[0]).toMatchObject({ contentState: { lastMessage: "two" } })
    const d = step([...base, text("one", 200), text("two", 300)], c.memory, 30_000)
    expect(d).toMatchObject({ pushes: [], nextDueAt: null })
  })

  it("a progress change after a quiet window goes at once at priority 5", () => {
    const base = [...withActivity, busy(100)]
    const a = step(base, null, 100)
    expect(step([...base, text("later", 20_000)], a.memory, 20_000).pushes).toEqual(["update:working:p5"])
  })

  it("a title change or retry is progress: throttled at priority 5, with the retry info", () => {
    const base = [...withActivity, busy(100)]
    const a = step(base, null, 100)
    const events = [...base, titled("Fix auth", 150), retry(2, 8_200, 200)]
    expect(step(events, a.memory, 200)).toMatchObject({ pushes: [], nextDueAt: T0 + 10_100 })
    const trailing = step(events, a.memory, 10_100)
    expect(trailing.pushes).toEqual(["update:retry:p5"])
    expect(trailing.intents[0]).toMatchObject({ contentState: { status: "retry", retryInfo: "Retry 2 in 8s", sessionTitle: "Fix auth", lastMessage: "rate limited" } })
  })

  it("ends at once with the final state at priority 10, even inside a throttle window, and sends nothing after the end", () => {
    const base = [...withActivity, created("Fix auth", 0), busy(100)]
    const a = step(base, null, 100)
    const done = [...base, text("All green", 200), idle(300)]
    const b = step(done, a.memory, 300)
    expect(b.pushes).toEqual(["end:complete:p10", "alert:complete:p10"])
    expect(b.intents[0]).toMatchObject({ contentState: { status: "complete", lastMessage: "All green", sessionTitle: "Fix auth" } })
    expect(b.intents[1]).toMatchObject({ alert: { title: "Fix auth", body: "All green" }, eventType: "complete", serverId: "srv-1", target: { token: "alert-1" } })
    const late = step([...done, titled("Generated title", 340), idle(350), busy(350)], b.memory, 360)
    expect(late.pushes).toEqual(["start:working:p10"]) // a new turn: the ended activity is over, so push-to-start
    expect(step([...done, titled("Generated title", 340), idle(350)], b.memory, 400)).toMatchObject({ pushes: [], nextDueAt: null })
  })

  it("an error ends the activity with status error and alerts error", () => {
    const base = [...withActivity, busy(100)]
    const a = step(base, null, 100)
    const failed = step([...base, sessionError("APIError", "mock bad request", 200), idle(210)], a.memory, 210)
    expect(failed.pushes).toEqual(["end:error:p10", "alert:error:p10"])
    expect(failed.intents[0]).toMatchObject({ contentState: { status: "error", lastMessage: "mock bad request" } })
  })
})

describe("push decisions: permission grace", () => {
  it("never pushes a permission answered within the grace, and wakes at the grace end while one is pending", () => {
    const base = [...withActivity, busy(100)]
    const a = step(base, null, 100)
    const waiting = step([...base, asked("per_1", 1000)], a.memory, 1000)
    expect(waiting).toMatchObject({ pushes: [], nextDueAt: T0 + 6000 })
    const answered = step([...base, asked("per_1", 1000), replied("per_1", 1300)], waiting.memory, 1300)
    expect(answered).toMatchObject({ pushes: [], nextDueAt: null })
    expect(answered.memory.alertsDone).toBe(1) // the permission alert is dropped for good
    expect(step([...base, asked("per_1", 1000), replied("per_1", 1300)], answered.memory, 6000).pushes).toEqual([])
  })

  it("a permission still pending after the grace goes at once at priority 10, with an alert to devices that want it", () => {
    const events = [device(-1000, "alert-1"), device(-1000, "alert-2", null, ["complete"]), activity(-500), created("Fix auth", 0), busy(100), asked("per_1", 1000)]
    const a = step(events.slice(0, 5), null, 100)
    const shown = step(events, a.memory, 6000)
    expect(shown.pushes).toEqual(["update:permission:p10", "alert:permission:p10"])
    expect(shown.intents[0]).toMatchObject({ contentState: { status: "permission", lastMessage: "bash: npm install" } })
    expect(shown.intents[1]).toMatchObject({ target: { token: "alert-1" }, alert: { title: "Fix auth", body: "Permission needed: bash: npm install" }, causedBy: events[5]!.position.toString() })
    const back = step([...events, replied("per_1", 7000)], shown.memory, 7000)
    expect(back.pushes).toEqual(["update:working:p10"]) // out of permission is a transition too
  })

  it("progress keeps flowing (as working) while a permission is in its grace", () => {
    const base = [...withActivity, busy(100)]
    const a = step(base, null, 100)
    const events = [...base, asked("per_1", 9000), text("still going", 9500)]
    const b = step(events, a.memory, 10_100)
    expect(b.pushes).toEqual(["update:working:p5"])
    expect(b.nextDueAt).toBe(T0 + 14_000)
  })

  it("alerts keep their order behind a permission in its grace", () => {
    const tenant = tenantOf([device(-1000), legacy("complete", { body: "x" }, 0)])
    const view = { ...tenant.view(), permissions: [] }
    const plan = decidePushes(view, tenant.registrations, null, T0 + 10, settings)
    expect(plan.pushes.map(describePush)).toEqual(["alert:complete:p10"])
    const events = [device(-1000), busy(0), asked("per_1", 100), legacy("permission", { body: "bash: npm publish" }, 200)]
    const blocked = step(events, null, 300)
    expect(blocked.pushes).toEqual(["start:permission:p10"]) // the legacy request shows at once, per_1 is in its grace
    expect(blocked.nextDueAt).toBe(T0 + 5100)
    const released = step(events, blocked.memory, 5100)
    expect(released.intents.map((i) => (i.kind === "alert" ? `${i.alertSeq}:${i.alert.body}` : i.kind))).toEqual([
      "1:Permission needed: bash: npm install",
      "2:bash: npm publish"
    ])
  })
})

describe("push decisions: late activity tokens", () => {
  it("a token registered after the turn ended gets an end with the final state at once", () => {
    const events = [device(-1000), created("Fix auth", 0), busy(100), text("Done", 200), idle(300)]
    const started = step(events.slice(0, 3), null, 100)
    expect(started.pushes).toEqual(["start:working:p10"])
    const ended = step(events, started.memory, 300)
    expect(ended.pushes).toEqual(["alert:complete:p10"])
    const registration = activity(1500)
    const late = step([...events, registration], ended.memory, 1500)
    expect(late.pushes).toEqual(["end:complete:p10"])
    expect(late.intents[0]).toMatchObject({ contentState: { status: "complete", lastMessage: "Done" }, causedBy: registration.position.toString() })
  })

  it("a token registered mid-turn is brought up to date at once, whatever the throttle", () => {
    const events = [device(-1000), busy(100), text("Working hard", 200)]
    const started = step(events, null, 200)
    const late = step([...events, activity(400)], started.memory, 400)
    expect(late.pushes).toEqual(["update:working:p10"])
    expect(late.intents[0]).toMatchObject({ contentState: { lastMessage: "Working hard" } })
  })
})

describe("push decisions: APNs answers", () => {
  it("backs off a retryable failure and then sends the newest state (superseded)", () => {
    const base = [...withActivity, busy(100)]
    const a = step(base, null, 100)
    const failed = step([...base, text("one", 20_000)], a.memory, 20_000, "retryable")
    expect(failed.pushes).toEqual(["update:working:p5"])
    expect(failed.nextDueAt).toBe(T0 + 20_000 + 750)
    expect(failed.memory.tokens["act-1"]).toMatchObject({ failures: 1, retryAt: T0 + 20_750, sent: { lastMessage: "" } })
    const waiting = step([...base, text("one", 20_000), text("two", 20_100)], failed.memory, 20_100)
    expect(waiting).toMatchObject({ pushes: [], nextDueAt: T0 + 20_750 })
    const retried = step([...base, text("one", 20_000), text("two", 20_100)], waiting.memory, 20_750)
    expect(retried.pushes).toEqual(["update:working:p5"])
    expect(retried.intents[0]).toMatchObject({ contentState: { lastMessage: "two" } })
    expect(retried.memory.tokens["act-1"]).toMatchObject({ failures: 0, retryAt: null, sent: { lastMessage: "two" } })
  })

  it("backoff doubles up to a minute, with jitter and APNs' retry-after", () => {
    expect([1, 2, 3, 7, 8, 20].map((f) => backoffMs(f, 0, null))).toEqual([500, 1000, 2000, 30_000, 30_000, 30_000])
    expect([1, 2, 7].map((f) => backoffMs(f, 0.999999, null))).toEqual([1000, 2000, 60_000])
    expect(backoffMs(1, 0.5, 5000)).toBe(5000)
    expect(backoffMs(3, 0.5, 100)).toBe(3000)
  })

  it("a failed start is handed out again after the backoff", () => {
    const events = [device(-1000), busy(100)]
    const failed = step(events, null, 100, "retryable")
    expect(failed.memory.started).toEqual({})
    expect(failed.nextDueAt).toBe(T0 + 850)
    expect(step(events, failed.memory, 500).pushes).toEqual([])
    expect(step(events, failed.memory, 850).pushes).toEqual(["start:working:p10"])
  })

  it("a dead token gets nothing more; a rejected content is not retried, newer content is", () => {
    const base = [device(-1000, "alert-1", null), activity(-500), busy(100)]
    const gone = step(base, null, 100, "token-gone")
    expect(step([...base, text("x", 20_000)], gone.memory, 20_000).pushes).toEqual([])
    const rejected = step(base, null, 100, "rejected")
    expect(step(base, rejected.memory, 200).pushes).toEqual([])
    expect(step([...base, text("x", 20_000)], rejected.memory, 20_000).pushes).toEqual(["update:working:p5"])
  })

  it("gives a content up after MAX_ATTEMPTS retryable failures", () => {
    const base = [...withActivity, busy(100)]
    let memory: SenderMemory | null = null
    let at = 100
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const result = step(base, memory, at, "retryable")
      expect(result.pushes).toEqual(["update:working:p10"])
      memory = result.memory
      at = (result.nextDueAt ?? T0 + at) - T0
    }
    expect(step(base, memory, at + 100_000).pushes).toEqual([])
  })

  it("retries an alert after a retryable failure, once delivered never again", () => {
    const events = [device(-1000, "alert-1", null), busy(0), idle(100)]
    const failed = step(events, null, 100, "retryable")
    expect(failed.pushes).toEqual(["alert:complete:p10"])
    expect(failed.memory.alertRetries).toEqual({ "1:alert-1": { seq: 1, deviceToken: "alert-1", failures: 1, retryAt: T0 + 850 } })
    expect(step(events, failed.memory, 500)).toMatchObject({ pushes: [], nextDueAt: T0 + 850 })
    const retried = step(events, failed.memory, 850)
    expect(retried.pushes).toEqual(["alert:complete:p10"])
    expect(retried.memory.alertRetries).toEqual({})
    expect(step(events, retried.memory, 2000).pushes).toEqual([])
  })

  it("drops the retry of a permission alert once the permission is answered", () => {
    const events = [device(-1000, "alert-1", null), busy(0), asked("per_1", 100)]
    const failed = step(events, null, 5100, "retryable")
    expect(failed.pushes).toEqual(["alert:permission:p10"])
    expect(Object.keys(failed.memory.alertRetries)).toEqual(["1:alert-1"])
    const answered = step([...events, replied("per_1", 5200)], failed.memory, 6000)
    expect(answered.pushes).toEqual([])
    expect(answered.memory.alertRetries).toEqual({})
  })

  it("memory survives a JSON round trip: a restart inside a throttle window still sends the trailing push", () => {
    const base = [...withActivity, busy(100)]
    const a = step(base, null, 100)
    const b = step([...base, text("newest", 200)], a.memory, 200)
    const restored = JSON.parse(JSON.stringify(b.memory)) as SenderMemory
    expect(restored).toEqual(b.memory)
    expect(step([...base, text("newest", 200)], restored, 10_100).pushes).toEqual(["update:working:p5"])
  })
})

describe("push decisions: alerts", () => {
  it("alerts only devices that want the event type, with the alert's title and body", () => {
    const events = [device(-1000, "alert-1", null, ["complete"]), device(-1000, "alert-2", null, ["error"]), busy(0), idle(100)]
    const result = step(events, null, 100)
    expect(result.intents.map((i: PushIntent) => `${describePush(i)}>${i.target.token}`)).toEqual(["alert:complete:p10>alert-1"])
  })

  it("legacy complete/permission/error posts alert at once", () => {
    const events = [device(-1000, "alert-1", null), legacy("permission", { title: "Needs input", body: "bash: rm" }, 0)]
    const result = step(events, null, 0)
    expect(result.intents).toEqual([
      expect.objectContaining({ kind: "alert", eventType: "permission", priority: 10, alert: { title: "Needs input", body: "bash: rm" }, serverId: "legacy-srv", alertSeq: 1 })
    ])
  })

  it("legacy start posts push-to-start with the post's content-state", () => {
    const events = [device(-1000), legacy("start", { contentState: { status: "working", sessionTitle: "Deploy", lastMessage: "Uploading", retryInfo: null } }, 0)]
    const result = simulate(events, settings)
    expect(result.pushes).toEqual(["start:working:p10"])
    expect(result.sent[0]?.intent).toMatchObject({ contentState: { sessionTitle: "Deploy", lastMessage: "Uploading" }, alert: { title: "Deploy", body: "Uploading" } })
  })
})
