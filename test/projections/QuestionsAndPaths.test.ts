/**
 * What OpenCode's question tool and its two reporting paths (the bridge's
 * events, and OpenCode's own poster on /v1/event) make of a session, and how
 * the planner turns it into alerts: sound, serverID, grouping, one alert a turn.
 */
import { describe, expect, it } from "@effect/vitest"
import { initialMemory } from "../../domain/PlannerMemory.ts"
import type { Registrations } from "../../domain/SessionState.ts"
import { planStep } from "../../projections/SenderStep.ts"
import { busy, foldAll, idle, oc, pushline, T0 } from "./support.ts"

const settings = { throttleMs: 10_000, permissionGraceMs: 5_000, endSettleMs: 0, resumedAt: 0, defaultBundleId: "com.example.app", collapseAlerts: false }
const tenant = (sound: string | null = null): Registrations => ({
  version: 1,
  devices: { aaaa: { bundleId: null, apnsEnv: "sandbox", pushToStartToken: null, events: ["complete", "permission", "error"], sound } },
  parents: {}
})
const question = (id: string, at: number, session?: string) =>
  oc("question.asked", {
    id,
    questions: [{ question: "Which color should the mock use?", header: "Color", options: [{ label: "Blue", description: "" }, { label: "Red", description: "" }], multiple: false }],
    tool: { messageID: "msg_a", callID: "call_1" }
  }, at, session)
const legacy = (eventType: string, at: number, fields: Record<string, unknown> = {}) =>
  pushline("pushline.legacy.event", { eventType, sessionID: "ses_root", serverID: "abcdef0123456789", title: null, body: null, contentState: null, ...fields }, at)

describe("questions", () => {
  it("a question waits for the user like a permission: status permission, the header as the message, a held alert", () => {
    const { state } = foldAll([busy(0), question("que_1", 10)])
    expect(state).toMatchObject({ status: "permission", lastMessage: "Color" })
    expect(state.alerts.map((a) => [a.eventType, a.body, a.permissionId])).toEqual([["permission", "Color", "que_1"]])
    const inGrace = planStep({ session: state, registrations: tenant(), memory: initialMemory(), now: T0 + 100, settings })
    expect(inGrace.intents).toEqual([])
    expect(inGrace.decisions).toContainEqual({ decision: "permission-grace", target: "alerts", until: T0 + 10 + 5_000 })
    const after = planStep({ session: state, registrations: tenant(), memory: initialMemory(), now: T0 + 6_000, settings })
    expect(after.intents.map((i) => [i.event, i.priority])).toEqual([["permission", 10]])
  })

  it("answered or dismissed, the question is cleared; answered within the grace it is never pushed", () => {
    for (const type of ["question.replied", "question.rejected"]) {
      const { state } = foldAll([busy(0), question("que_2", 10), oc(type, { requestID: "que_2", answers: [["Blue"]] }, 20)])
      expect(state).toMatchObject({ status: "working", permissions: [] })
      const plan = planStep({ session: state, registrations: tenant(), memory: initialMemory(), now: T0 + 30, settings })
      expect(plan.decisions).toContainEqual({ decision: "skipped", target: "alerts", event: "permission", pushType: "alert", reason: "permission-answered" })
    }
  })

  it("a subagent's question shows on its root session", () => {
    const { state } = foldAll([busy(0), question("que_3", 10, "ses_child")])
    expect(state).toMatchObject({ status: "permission", lastMessage: "Color" })
    expect(state.permissions[0]).toMatchObject({ id: "que_3", fromSession: "ses_child" })
  })
})

describe("two reporting paths, one alert a turn", () => {
  it("OpenCode's poster reporting the turn the bridge already reported is a duplicate: nothing changes, no second alert", () => {
    const bridged = [busy(0), oc("message.part.updated", { part: { type: "text", messageID: "m", text: "Done it" } }, 5), idle(10)]
    const { outcomes, state } = foldAll([...bridged, legacy("complete", 2_000, { title: "Fix the tests", body: "Done it" })])
    expect(outcomes.at(-1)).toMatchObject({ applied: true })
    expect(state.alerts.map((a) => [a.source, a.duplicateOf])).toEqual([["opencode", null], ["legacy", state.alerts[0]!.position]])
    expect(state.status).toBe("complete")
    const plan = planStep({ session: state, registrations: tenant(), memory: initialMemory(), now: T0 + 2_100, settings })
    expect(plan.intents.map((i) => i.event)).toEqual(["complete"])
    expect(plan.decisions).toContainEqual({ decision: "skipped", target: "alerts", event: "complete", pushType: "alert", reason: "duplicate" })
  })

  it("the next turn's report is not a duplicate, nor one from long after", () => {
    const first = [busy(0), idle(10), legacy("complete", 100)]
    const next = foldAll([...first, busy(200), idle(300), legacy("complete", 400)]).state
    expect(next.alerts.map((a) => a.duplicateOf === null)).toEqual([true, false, true, false])
    const late = foldAll([busy(0), idle(10), legacy("complete", 10 + 61_000)]).state
    expect(late.alerts.map((a) => a.duplicateOf === null)).toEqual([true, true])
  })

  it("a poster's report without title or body gets the defaults OpenCode's poster uses", () => {
    const { state } = foldAll([legacy("permission", 0)])
    expect(state.alerts.map((a) => [a.title, a.body])).toEqual([["Session permission", "OpenCode needs your permission decision."]])
  })
})

describe("alert payloads as the OpenCode app reads them", () => {
  it("serverID beside eventType and sessionID, the registration's sound (alert.wav by default), grouped by thread, not collapsed", () => {
    const withServer = oc("session.status", { status: { type: "idle" } }, 10)
    const { state } = foldAll([busy(0), { ...withServer, meta: { serverID: "laptop" } } as typeof withServer])
    const plan = planStep({ session: state, registrations: tenant(), memory: initialMemory(), now: T0 + 20, settings })
    const alert = plan.intents.find((i) => i.pushType === "alert")!
    expect(alert.payload).toMatchObject({ eventType: "complete", sessionID: "ses_root", serverID: "laptop", aps: { sound: "alert.wav", "thread-id": "ses_root" } })
    expect(alert.collapseId).toBeUndefined()
    const chosen = planStep({ session: state, registrations: tenant("chime.caf"), memory: initialMemory(), now: T0 + 20, settings: { ...settings, collapseAlerts: true } })
    const collapsed = chosen.intents.find((i) => i.pushType === "alert")!
    expect((collapsed.payload.aps as Record<string, unknown>).sound).toBe("chime.caf")
    expect(collapsed.collapseId).toBe("pl-ses_root")
  })
})
