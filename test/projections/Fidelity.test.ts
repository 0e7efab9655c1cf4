import { describe, expect, it } from "@effect/vitest"
import type { LoggedEvent } from "../../domain/LoggedEvent.ts"
import { defaultPushSettings } from "../../projections/PushDecisions.ts"
import {
  activity,
  asked,
  busy,
  created,
  device,
  idle,
  loadCapture,
  oc,
  replied,
  ROOT,
  sessionError,
  sessionIdle,
  simulate,
  T0,
  Tenant,
  text,
  titled
} from "./views.ts"

/**
 * Each capture folded with a device registered (alert token + push-to-start
 * token), then with an activity token registered before the turn, then with
 * one registered late (after the turn ended): the exact pushes a sender that
 * decides after every event would send. Then the sequences the captures lack.
 */
type Variant = "push-to-start" | "activity token" | "late activity token"

const runCapture = (name: string, variant: Variant, settings = defaultPushSettings) => {
  const events = loadCapture(name)
  const first = events[0]!
  const last = events.at(-1)!
  const session = first.sessionId
  const rel = (ms: number) => ms - T0
  const before = [device(rel(first.sourceTime) - 1000)]
  if (variant === "activity token") before.push(activity(rel(first.sourceTime) - 500, "act-1", session))
  const after = variant === "late activity token" ? [activity(rel(last.sourceTime) + 1500, "act-1", session)] : []
  return simulate([...before, ...events, ...after], settings, { sessionId: session })
}

const finalState = (result: ReturnType<typeof simulate>) => {
  const end = result.sent.find((s) => s.intent.kind === "end")?.intent
  return end !== undefined && end.kind === "end" ? end.contentState : null
}

const captures = [
  { name: "text.global.jsonl", outcome: "complete", title: "Mock title: Say hello please", last: "Hello! This is a mock answer from the local LLM." },
  { name: "tool-allow.global.jsonl", outcome: "complete", title: "Mock title: USE_TOOL run echo for me", last: "The command printed hello-from-tool. Done." },
  { name: "retry429.global.jsonl", outcome: "complete", title: "Mock title: FAIL429 please", last: "Recovered after rate limiting." },
  // The generated title arrives 18 ms after the idle: the error alert and end still carry the first one.
  { name: "error400.global.jsonl", outcome: "error", title: "New session - 2026-11-22T10:34:21.115Z", last: "mock bad request" }
] as const

describe("fidelity: captured OpenCode streams", () => {
  for (const capture of captures) {
    describe(capture.name, () => {
      it("with a push-to-start token: start working, then the alert", () => {
        const result = runCapture(capture.name, "push-to-start")
        expect(result.pushes).toEqual(["start:working:p10", `alert:${capture.outcome}:p10`])
        expect(result.sent[1]?.intent).toMatchObject({ alert: { body: capture.last } })
      })

      it("with an activity token: update working at once, end with the final state, the alert", () => {
        const result = runCapture(capture.name, "activity token")
        expect(result.pushes).toEqual(["update:working:p10", `end:${capture.outcome}:p10`, `alert:${capture.outcome}:p10`])
        expect(finalState(result)).toMatchObject({ status: capture.outcome, lastMessage: capture.last, sessionTitle: capture.title, retryInfo: null })
      })

      it("with an activity token registered after the turn: the end follows at once", () => {
        const result = runCapture(capture.name, "late activity token")
        expect(result.pushes).toEqual(["start:working:p10", `alert:${capture.outcome}:p10`, `end:${capture.outcome}:p10`])
        expect(finalState(result)).toMatchObject({ status: capture.outcome, lastMessage: capture.last })
        expect(result.sent[2]!.at).toBe(loadCapture(capture.name).at(-1)!.sourceTime + 1500)
      })
    })
  }

  it("tool-allow: the permission answered in 313 ms is never shown nor alerted", () => {
    for (const variant of ["push-to-start", "activity token", "late activity token"] as const) {
      const result = runCapture("tool-allow.global.jsonl", variant)
      expect(result.sent.filter((s) => (s.intent.kind === "alert" ? s.intent.eventType : s.intent.contentState.status) === "permission")).toEqual([])
    }
  })

  it("retry429 with a 100 ms throttle: retry info reaches the activity at priority 5, trailing pushes carry the newest text", () => {
    const result = runCapture("retry429.global.jsonl", "activity token", { throttleMs: 100, permissionGraceMs: 5000 })
    expect(result.pushes).toEqual([
      "update:working:p10",
      "update:retry:p5",
      "update:working:p5",
      "update:retry:p5",
      "update:working:p5",
      "update:working:p5",
      "end:complete:p10",
      "alert:complete:p10"
    ])
    const contents = result.sent.map((s) => (s.intent.kind === "alert" ? null : s.intent.contentState))
    expect(contents[1]).toMatchObject({ status: "retry", retryInfo: "Retry 1 in 1s", lastMessage: "mock rate limited", sessionTitle: "Mock title: FAIL429 please" })
    expect(contents[3]).toMatchObject({ status: "retry", retryInfo: "Retry 2 in 1s" })
    expect(contents[5]).toMatchObject({ status: "working", lastMessage: "Recovered after rate limiting." })
  })

  it("duplicate idles, repeated busy and the late session.updated / message.updated give no extra pushes", () => {
    const result = runCapture("text.global.jsonl", "activity token")
    const tail = result.tenant.outcomes.slice(-6).map((o) => `${o.type}: ${o.outcome._tag === "Applied" ? o.outcome.change : o.outcome.reason}`)
    expect(tail).toEqual([
      "session.status: already working (repeated busy)",
      "session.status: turn 1 complete",
      "session.idle: duplicate idle (turn 1 already ended)",
      "session.updated: no change to the title or parent",
      "session.diff: session.diff does not affect the Live Activity",
      "message.updated: user message already known"
    ])
    expect(result.pushes.filter((p) => p.startsWith("update") || p.startsWith("end"))).toEqual(["update:working:p10", "end:complete:p10"])
  })

  it("a rebuild from the first event reaches a deep-equal state, and it is plain JSON", () => {
    const stream = loadCapture("tool-allow.global.jsonl")
    const session = stream[0]!.sessionId
    const events = [device(-10_000_000), activity(-9_000_000, "act-1", session), ...stream]
    const live = simulate(events, defaultPushSettings, { sessionId: session })
    const rebuilt = new Tenant()
    for (const event of events) rebuilt.apply(event)
    expect(rebuilt.view(session)).toEqual(live.tenant.view(session))
    expect(rebuilt.registrations).toEqual(live.tenant.registrations)
    expect(JSON.parse(JSON.stringify(rebuilt.view(session)))).toEqual(live.tenant.view(session))
    expect(JSON.parse(JSON.stringify(rebuilt.registrations))).toEqual(live.tenant.registrations)
    expect(JSON.parse(JSON.stringify(live.memory))).toEqual(live.memory)
  })
})

const withActivity = () => [device(-1000), activity(-500), created("Fix auth", 0)]

describe("fidelity: synthetic sequences", () => {
  it("a subagent's permission is shown on the root session and alerted once; its idle does not end the root", () => {
    const child = "ses_child"
    const events = [
      ...withActivity(),
      busy(100),
      created("Explore the code", 200, child, ROOT),
      busy(210, child),
      asked("per_c", 300, child),
      replied("per_c", 9000, child),
      idle(9200, child),
      text("Found it", 9300),
      idle(10_000)
    ]
    const result = simulate(events, defaultPushSettings)
    expect(result.pushes).toEqual([
      "update:working:p10",
      "update:permission:p10",
      "alert:permission:p10",
      "update:working:p10",
      "end:complete:p10",
      "alert:complete:p10"
    ])
    expect(result.sent[1]).toMatchObject({ at: T0 + 5300, intent: { contentState: { status: "permission", lastMessage: "bash: npm install" } } })
    expect(simulate(events, defaultPushSettings, { sessionId: child }).pushes).toEqual([])
  })

  it("an abort ends the activity quietly: complete, 'Stopped', no alert", () => {
    const events = [...withActivity(), busy(100), text("Refactoring", 200), sessionError("MessageAbortedError", "Aborted", 300), idle(301), sessionIdle(302), idle(310), sessionIdle(311)]
    const result = simulate(events, defaultPushSettings)
    expect(result.pushes).toEqual(["update:working:p10", "end:complete:p10"])
    expect(result.sent[1]?.intent).toMatchObject({ contentState: { status: "complete", lastMessage: "Stopped" } })
  })

  it("a ContextOverflowError is not an error to the user: the turn carries on and completes", () => {
    const events = [...withActivity(), busy(100), sessionError("ContextOverflowError", "context too long", 200), busy(300), text("Summarised and done", 400), idle(500)]
    const result = simulate(events, defaultPushSettings)
    expect(result.pushes).toEqual(["update:working:p10", "end:complete:p10", "alert:complete:p10"])
    expect(result.sent[2]?.intent).toMatchObject({ alert: { body: "Summarised and done" } })
  })

  it("events delivered out of order: the older one is ignored with its reason, the pushes are those of the right order", () => {
    const b = busy(100)
    const older = text("older", 200)
    const newer = text("newer", 300)
    const end = idle(400)
    const inOrder = simulate([...withActivity(), b, older, newer, end], defaultPushSettings)
    const shuffled = simulate([...withActivity(), b, newer, older, end], defaultPushSettings)
    expect(shuffled.pushes).toEqual(inOrder.pushes)
    expect(shuffled.sent.map((s) => s.intent.kind === "alert" ? s.intent.alert : s.intent.contentState))
      .toEqual(inOrder.sent.map((s) => s.intent.kind === "alert" ? s.intent.alert : s.intent.contentState))
    const ignored = shuffled.tenant.outcomes.find((o) => o.outcome._tag === "Ignored" && o.type === "message.part.updated")
    expect(ignored?.outcome).toEqual({ _tag: "Ignored", reason: "older than the newest applied event (source time 2026-11-22T10:00:00.200Z < 2026-11-22T10:00:00.300Z)" })
  })

  it("duplicate events (the stream delivered twice) give no extra pushes", () => {
    const stream = loadCapture("tool-allow.global.jsonl")
    const session = stream[0]!.sessionId
    const setup = [device(-10_000_000), activity(-9_000_000, "act-1", session)]
    const redelivered = stream.map((e): LoggedEvent => oc(e.type, (e.payload as { properties: Record<string, unknown> }).properties, e.sourceTime - T0, e.sessionId, e.eventId))
    const once = simulate([...setup, ...stream], defaultPushSettings, { sessionId: session })
    const twice = simulate([...setup, ...stream, ...redelivered], defaultPushSettings, { sessionId: session })
    expect(twice.pushes).toEqual(once.pushes)
    const second = twice.tenant.outcomes.slice(-redelivered.length)
    expect(second.every((o) => o.outcome._tag === "Ignored")).toBe(true)
  })

  it("a late title after the end and another turn's busy: no extra push for the ended turn", () => {
    const events = [...withActivity(), busy(100), idle(200), titled("Generated title", 240), oc("message.updated", { info: { id: "msg_x", role: "assistant" } }, 250), idle(260)]
    expect(simulate(events, defaultPushSettings).pushes).toEqual(["update:working:p10", "end:complete:p10", "alert:complete:p10"])
  })

  it("a late-registered activity token is brought up to date at once, mid-turn and after the end", () => {
    const midTurn = simulate([device(-1000), busy(100), text("Compiling", 200), activity(3000)], defaultPushSettings)
    expect(midTurn.sent.map((s) => `${s.at - T0}:${s.intent.kind}`)).toEqual(["100:start", "3000:update"])
    expect(midTurn.sent[1]?.intent).toMatchObject({ priority: 10, contentState: { status: "working", lastMessage: "Compiling" } })
    const afterEnd = simulate([device(-1000), busy(100), text("Done", 200), idle(300), activity(3000)], defaultPushSettings)
    expect(afterEnd.sent.map((s) => `${s.at - T0}:${s.intent.kind}`)).toEqual(["100:start", "300:alert", "3000:end"])
    expect(afterEnd.sent[2]?.intent).toMatchObject({ priority: 10, contentState: { status: "complete", lastMessage: "Done" } })
  })

  it("a second turn on the same session starts a new activity and ends it", () => {
    const events = [device(-1000), busy(100), idle(200), activity(1000), busy(20_000), text("again", 20_100), idle(20_200), activity(21_000, "act-2")]
    const result = simulate(events, defaultPushSettings)
    expect(result.sent.map((s) => `${s.at - T0}:${describe_(s.intent)}`)).toEqual([
      "100:start:working>pts-1",
      "200:alert:complete>alert-1",
      "1000:end:complete>act-1",
      "20000:start:working>pts-1",
      "20200:alert:complete>alert-1",
      "21000:end:complete>act-2"
    ])
  })

  it("an activity token that dies mid-turn falls back to push-to-start", () => {
    const events = [device(-1000), activity(-500), busy(100), text("more", 20_000)]
    const result = simulate(events, defaultPushSettings, { answer: (intent) => (intent.target.token === "act-1" ? "token-gone" : "delivered") })
    expect(result.sent.map((s) => `${s.at - T0}:${describe_(s.intent)}`)).toEqual(["100:start:working>pts-1"])
  })
})

const describe_ = (intent: import("../../domain/PushIntent.ts").PushIntent) =>
  `${intent.kind}:${intent.kind === "alert" ? intent.eventType : intent.contentState.status}>${intent.target.token}`
