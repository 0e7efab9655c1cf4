import { describe, expect, it } from "@effect/vitest"
import type { LoggedEvent } from "../../domain/LoggedEvent.ts"
import {
  foldRegistrations,
  foldTargets,
  initialRegistrations,
  type Registrations,
  rootSessionOf,
  sessionsToRecheck,
  touchesRegistrations
} from "../../projections/RegistrationsFold.ts"
import { activity, asked, busy, created, device, legacy, pl, replied, ROOT, T0, TENANT, titled } from "./views.ts"

const foldAll = (events: ReadonlyArray<LoggedEvent>) => {
  let state: Registrations = initialRegistrations(TENANT)
  const reasons: Array<string> = []
  for (const event of events) {
    const folded = foldRegistrations(state, event)
    state = folded.state
    reasons.push(folded.outcome._tag === "Applied" ? folded.outcome.change : `ignored: ${folded.outcome.reason}`)
  }
  return { state, reasons }
}

const invalidated = (token: string, at: number, invalidatedAt = T0 + at) =>
  pl("pushline.token.invalidated", { token, reason: "Unregistered", invalidatedAt }, at)

describe("registrations fold: devices", () => {
  it("registers, re-registers and unregisters a device", () => {
    const { state, reasons } = foldAll([
      device(0, "alert-token-000001"),
      device(10, "alert-token-000001", "pts-2", ["complete"]),
      pl("pushline.device.unregistered", { deviceToken: "alert-token-000001" }, 20),
      pl("pushline.device.unregistered", { deviceToken: "alert-token-000001" }, 30)
    ])
    expect(reasons).toEqual([
      "device …000001 registered",
      "device …000001 re-registered",
      "device …000001 unregistered",
      "ignored: device …000001 was not registered"
    ])
    expect(state.devices).toEqual({})
  })

  it("keeps what a device wants", () => {
    const { state } = foldAll([device(5, "alert-1", "pts-1", ["complete", "error"])])
    expect(state.devices).toEqual({
      "alert-1": { deviceToken: "alert-1", bundleId: null, environment: "sandbox", pushToStartToken: "pts-1", events: ["complete", "error"], registeredAt: T0 + 5 }
    })
  })
})

describe("registrations fold: activity tokens", () => {
  it("registers an activity token per session, replaces it, ignores the same again, unregisters it", () => {
    const first = activity(0, "act-token-aaaaaa")
    const { state, reasons } = foldAll([
      first,
      activity(5, "act-token-aaaaaa"),
      activity(10, "act-token-bbbbbb"),
      pl("pushline.activity.unregistered", { sessionID: ROOT }, 20, ROOT),
      pl("pushline.activity.unregistered", { sessionID: ROOT }, 30, ROOT)
    ])
    expect(reasons).toEqual([
      "activity token …aaaaaa registered for ses_root",
      "ignored: activity token …aaaaaa already registered",
      "activity token …bbbbbb registered for ses_root",
      "activity token of ses_root unregistered",
      "ignored: no activity token registered for ses_root"
    ])
    expect(state.activities).toEqual({})
    expect(foldAll([first]).state.activities[ROOT]).toEqual({
      sessionId: ROOT,
      activityToken: "act-token-aaaaaa",
      bundleId: "com.example.app",
      environment: "sandbox",
      registeredAt: T0,
      position: first.position.toString()
    })
  })
})

describe("registrations fold: invalidations", () => {
  it("a dead device token removes the device; a dead push-to-start token only that; a dead activity token the activity", () => {
    const base = [device(0, "alert-1", "pts-1"), device(0, "alert-2", "pts-2"), activity(0, "act-1")]
    const { state, reasons } = foldAll([...base, invalidated("alert-1", 10), invalidated("pts-2", 20), invalidated("act-1", 30)])
    expect(reasons.slice(3)).toEqual([
      "Unregistered: removed device …lert-1",
      "Unregistered: removed push-to-start token of device …lert-2",
      "Unregistered: removed activity token of ses_root"
    ])
    expect(Object.keys(state.devices)).toEqual(["alert-2"])
    expect(state.devices["alert-2"]?.pushToStartToken).toBeNull()
    expect(state.activities).toEqual({})
  })

  it("a registration newer than the invalidation wins, and an unknown token changes nothing", () => {
    const { state, reasons } = foldAll([device(100, "alert-1"), invalidated("alert-1", 150, T0 + 50), invalidated("nobody", 160)])
    expect(reasons.slice(1)).toEqual([
      "ignored: token …lert-1 is not registered (or was registered again after APNs invalidated it)",
      "ignored: token …nobody is not registered (or was registered again after APNs invalidated it)"
    ])
    expect(Object.keys(state.devices)).toEqual(["alert-1"])
  })
})

describe("registrations fold: subagents", () => {
  it("learns parents from session.created/updated and finds the root through nesting", () => {
    const { state, reasons } = foldAll([
      created("root", 0),
      created("child", 10, "ses_child", ROOT),
      titled("child", 11, "ses_child", ROOT),
      created("grandchild", 20, "ses_grand", "ses_child")
    ])
    expect(reasons).toEqual([
      "ignored: not a subagent session",
      "ses_child is a subagent of ses_root",
      "ignored: subagent already known",
      "ses_grand is a subagent of ses_child"
    ])
    expect(rootSessionOf(state, "ses_grand")).toBe(ROOT)
    expect(rootSessionOf(state, ROOT)).toBe(ROOT)
  })

  it("survives a parent cycle in bad data and a session claiming itself as parent", () => {
    const { state, reasons } = foldAll([created("a", 0, "ses_a", "ses_b"), created("b", 0, "ses_b", "ses_a"), created("c", 0, "ses_c", "ses_c")])
    expect(reasons[2]).toBe("ignored: a session cannot be its own parent")
    expect(["ses_a", "ses_b"]).toContain(rootSessionOf(state, "ses_a"))
  })

  it("folds a subagent's permission events into its root as well; other events into their own session only", () => {
    const { state } = foldAll([created("child", 10, "ses_child", ROOT)])
    expect(foldTargets(asked("per_1", 20, "ses_child"), state)).toEqual(["ses_child", ROOT])
    expect(foldTargets(replied("per_1", 30, "ses_child"), state)).toEqual(["ses_child", ROOT])
    expect(foldTargets(busy(30, "ses_child"), state)).toEqual(["ses_child"])
    expect(foldTargets(asked("per_2", 20), state)).toEqual([ROOT])
    expect(foldTargets(device(0), state)).toEqual([])
  })
})

describe("registrations fold: routing helpers", () => {
  it("reads registrations and session trees, not other events", () => {
    expect([device(0), activity(0), created("x", 0), titled("x", 0), busy(0), legacy("complete", {}, 0)].map(touchesRegistrations))
      .toEqual([true, true, true, true, false, false])
    expect(foldAll([busy(0)]).reasons).toEqual(["ignored: session.status is not a registration"])
  })

  it("says which sessions to decide again after a registration", () => {
    const { state } = foldAll([activity(0, "act-1")])
    expect(sessionsToRecheck(activity(1, "act-2"), state)).toEqual([ROOT])
    expect(sessionsToRecheck(pl("pushline.activity.unregistered", { sessionID: ROOT }, 2, ROOT), state)).toEqual([ROOT])
    expect(sessionsToRecheck(device(3), state)).toBe("all")
    expect(sessionsToRecheck(invalidated("act-1", 4), state)).toEqual([ROOT])
    expect(sessionsToRecheck(busy(5), state)).toEqual([])
  })

  it("ignores malformed registrations", () => {
    const { reasons } = foldAll([pl("pushline.device.registered", { deviceToken: 42 }, 0), pl("pushline.activity.registered", {}, 0)])
    expect(reasons).toEqual(["ignored: malformed pushline.device.registered", "ignored: malformed pushline.activity.registered"])
  })

  it("is plain JSON", () => {
    const { state } = foldAll([device(0), activity(0), created("child", 10, "ses_child", ROOT)])
    expect(JSON.parse(JSON.stringify(state))).toEqual(state)
  })
})
