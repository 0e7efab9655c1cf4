import { describe, expect, it } from "@effect/vitest"
import { initialSessionView } from "../../domain/SessionView.ts"
import { foldSession } from "../../projections/SessionViewFold.ts"
import { shownContentState } from "../../projections/ShownState.ts"
import {
  activity,
  asked,
  busy,
  created,
  delta,
  foldView,
  idle,
  loadCapture,
  oc,
  replied,
  retry,
  ROOT,
  sessionError,
  sessionIdle,
  T0,
  TENANT,
  text,
  titled,
  tool
} from "./views.ts"

const shown = (events: Parameters<typeof foldView>[0], now = T0 + 1_000_000) =>
  shownContentState(foldView(events).view, now, 5_000)

describe("session view fold: turns", () => {
  it("starts a turn on the first busy, with its start time", () => {
    const { view, outcomes } = foldView([created("Fix auth", 0), busy(1500)])
    expect(outcomes[1]).toEqual({ _tag: "Applied", change: "turn 1 started" })
    expect(view.turn).toEqual({ number: 1, startedAt: T0 + 1500, outcome: null, endedAt: null, error: null, aborted: false, retry: null })
    expect(shownContentState(view, T0 + 2000, 5000)).toEqual({
      status: "working",
      sessionTitle: "Fix auth",
      lastMessage: "",
      retryInfo: null,
      startedAt: Math.floor((T0 + 1500) / 1000)
    })
  })

  it("shows nothing before the first turn", () => {
    expect(shown([created("Fix auth", 0)])).toBeNull()
  })

  it("ignores repeated busy, duplicate idles and idle before any turn, with reasons", () => {
    const { reasons } = foldView([idle(0), busy(10), busy(20), idle(30), sessionIdle(31), idle(40)])
    expect(reasons).toEqual([
      "idle before any turn",
      "applied",
      "already working (repeated busy)",
      "applied",
      "duplicate idle (turn 1 already ended)",
      "duplicate idle (turn 1 already ended)"
    ])
  })

  it("an ignored event leaves the view as it was, apart from the order marker", () => {
    const before = foldView([busy(10)]).view
    const after = foldSession(before, busy(20))
    expect(after.outcome._tag).toBe("Ignored")
    expect({ ...after.state, newest: null }).toEqual({ ...before, newest: null })
    expect(after.state.newest?.sourceTime).toBe(T0 + 20)
  })

  it("ends a turn complete at idle, with a complete alert carrying the last message", () => {
    const { view } = foldView([created("Fix auth", 0), busy(10), text("All tests pass.", 20), idle(30)])
    expect(view.turn?.outcome).toBe("complete")
    expect(view.turn?.endedAt).toBe(T0 + 30)
    expect(view.alerts).toEqual([
      { seq: 1, eventType: "complete", title: "Fix auth", body: "All tests pass.", permissionId: null, at: T0 + 30, position: view.lastPosition }
    ])
    expect(shownContentState(view, T0 + 40, 5000)?.status).toBe("complete")
  })

  it("names an untitled session OpenCode and a silent turn 'Session complete' in the alert", () => {
    const { view } = foldView([busy(10), idle(30)])
    expect(view.alerts.map((a) => [a.title, a.body])).toEqual([["OpenCode", "Session complete"]])
  })

  it("starts a new turn on busy after idle: new start time, fresh message", () => {
    const { view, outcomes } = foldView([busy(10), text("first", 20), idle(30), busy(5000)])
    expect(outcomes[3]).toEqual({ _tag: "Applied", change: "turn 2 started" })
    expect(view.turn?.number).toBe(2)
    expect(view.turn?.startedAt).toBe(T0 + 5000)
    expect(view.lastMessage).toBe("")
  })

  it("ends the running turn quietly when the session is deleted", () => {
    const { view, outcomes } = foldView([busy(10), oc("session.deleted", { info: { id: ROOT, title: "x" } }, 20)])
    expect(outcomes[1]).toEqual({ _tag: "Applied", change: "deleted while running: the turn ends quietly" })
    expect(view.turn?.outcome).toBe("stopped")
    expect(view.alerts).toEqual([])
    expect(view.deleted).toBe(true)
  })
})

describe("session view fold: retries and errors", () => {
  it("shows retry with its info text and goes back to working on busy", () => {
    const retrying = foldView([busy(0), text("Thinking", 5), retry(2, 1000 + 8000, 1000)])
    expect(retrying.outcomes[2]).toEqual({ _tag: "Applied", change: "retrying: Retry 2 in 8s (rate limited)" })
    expect(shownContentState(retrying.view, T0 + 1001, 5000)).toMatchObject({ status: "retry", retryInfo: "Retry 2 in 8s", lastMessage: "rate limited" })
    const back = foldView([busy(0), text("Thinking", 5), retry(2, 9000, 1000), busy(9000)])
    expect(back.outcomes[3]).toEqual({ _tag: "Applied", change: "working again after the retry" })
    expect(shownContentState(back.view, T0 + 9001, 5000)).toMatchObject({ status: "working", retryInfo: null, lastMessage: "Thinking" })
  })

  it("rounds the retry delay to whole seconds and never below zero", () => {
    expect(foldView([busy(0), retry(1, 1000 + 7600, 1000)]).view.turn?.retry?.info).toBe("Retry 1 in 8s")
    expect(foldView([busy(0), retry(3, 1000 + 1400, 1000)]).view.turn?.retry?.info).toBe("Retry 3 in 1s")
    expect(foldView([busy(0), retry(4, 500, 1000)]).view.turn?.retry?.info).toBe("Retry 4 in 0s")
  })

  it("a retry before any busy starts the turn", () => {
    const { view } = foldView([retry(1, 3000, 1000)])
    expect(view.turn?.number).toBe(1)
    expect(view.turn?.startedAt).toBe(T0 + 1000)
  })

  it("an error shows at the idle: status error, its message, an error alert", () => {
    const { view, reasons } = foldView([created("Fix auth", 0), busy(10), sessionError("APIError", "mock bad request", 20), idle(21), sessionIdle(22)])
    expect(reasons).toEqual(["applied", "applied", "applied", "applied", "duplicate idle (turn 1 already ended)"])
    expect(shownContentState(view, T0 + 30, 5000)).toMatchObject({ status: "error", lastMessage: "mock bad request" })
    expect(view.alerts.map((a) => [a.eventType, a.title, a.body])).toEqual([["error", "Fix auth", "mock bad request"]])
  })

  it("MessageAbortedError ends the turn quietly: complete, 'Stopped', no alert", () => {
    const { view, outcomes } = foldView([busy(10), text("Working on it", 15), sessionError("MessageAbortedError", "Aborted", 20), idle(21)])
    expect(outcomes[2]).toEqual({ _tag: "Applied", change: "aborted by the user: the turn will end quietly" })
    expect(outcomes[3]).toEqual({ _tag: "Applied", change: "turn 1 stopped by the user" })
    expect(view.turn?.outcome).toBe("stopped")
    expect(shownContentState(view, T0 + 30, 5000)).toMatchObject({ status: "complete", lastMessage: "Stopped" })
    expect(view.alerts).toEqual([])
  })

  it("ContextOverflowError is not an error to the user: the turn completes", () => {
    const { view, reasons } = foldView([busy(10), sessionError("ContextOverflowError", "too long", 20), busy(30), text("Compacted and done", 40), idle(50)])
    expect(reasons[1]).toBe("context overflow: OpenCode compacts and carries on; not an error to the user")
    expect(view.turn?.outcome).toBe("complete")
    expect(view.alerts.map((a) => a.eventType)).toEqual(["complete"])
  })

  it("an error outside a running turn changes nothing", () => {
    const { reasons } = foldView([busy(10), idle(20), sessionError("APIError", "late", 30)])
    expect(reasons[2]).toBe("APIError outside a running turn")
  })

  it("an error without a name or message is an UnknownError", () => {
    const { view } = foldView([busy(10), oc("session.error", {}, 20), idle(30)])
    expect(view.turn?.error).toEqual({ name: "UnknownError", message: "UnknownError" })
    expect(view.lastMessage).toBe("UnknownError")
  })
})

describe("session view fold: last message", () => {
  it("skips the user's own prompt", () => {
    const userMessage = oc("message.updated", { info: { id: "msg_user", role: "user" } }, 0)
    const prompt = text("Fix the login page", 1, "prt_u", "msg_user")
    const { reasons, view } = foldView([userMessage, prompt, busy(10), text("On it", 20)])
    expect(reasons[1]).toBe("part of the user's own prompt")
    expect(view.lastMessage).toBe("On it")
  })

  it("trims long text to 120 characters at a word boundary", () => {
    const long = "The refactoring touched many files across the authentication module and the session handling code, so I am running the full test suite now."
    const { view } = foldView([busy(0), text(long, 10)])
    expect(view.lastMessage).toBe("The refactoring touched many files across the authentication module and the session handling code, so I am running the…")
    expect(Array.from(view.lastMessage).length).toBeLessThanOrEqual(120)
  })

  it("accumulates streamed deltas per part and restarts on a new part", () => {
    const { view, outcomes } = foldView([busy(0), delta("Hello ", 1), delta(" ", 2), delta("world", 3), delta("Next", 4, "prt_b")])
    expect(outcomes.slice(1).map((o) => (o._tag === "Applied" ? o.change : o.reason))).toEqual([
      "text: Hello",
      "text streamed",
      "text: Hello world",
      "text: Next"
    ])
    expect(view.lastMessage).toBe("Next")
  })

  it("ignores streamed text beyond what can be shown", () => {
    const { reasons } = foldView([busy(0), delta("x".repeat(400), 1), delta("more", 2)])
    expect(reasons[2]).toBe("text beyond what is shown")
  })

  it("the full text part after its deltas changes nothing", () => {
    const { reasons } = foldView([busy(0), delta("Done.", 1), text("Done.", 2)])
    expect(reasons[2]).toBe("no change to the last message")
  })

  it("names the running tool and what it runs", () => {
    expect(foldView([busy(0), tool("bash", "running", { command: "npm install" }, 1)]).view.lastMessage).toBe("bash: npm install")
    expect(foldView([busy(0), tool("read", "pending", { filePath: "/src/a.ts" }, 1)]).view.lastMessage).toBe("read: /src/a.ts")
    expect(foldView([busy(0), tool("bash", "pending", {}, 1)]).view.lastMessage).toBe("bash")
    const finished = foldView([busy(0), tool("bash", "running", { command: "ls" }, 1), tool("bash", "completed", { command: "ls" }, 2)])
    expect(finished.reasons[2]).toBe("tool bash completed; the last message stays")
    expect(finished.view.lastMessage).toBe("bash: ls")
  })

  it("ignores parts outside a running turn and parts that show nothing", () => {
    const { reasons } = foldView([
      text("early", 0),
      busy(1),
      oc("message.part.updated", { part: { type: "step-start", id: "p", messageID: "msg_a" } }, 2),
      text("   ", 3),
      oc("message.part.delta", { messageID: "msg_a", partID: "p", field: "reasoning", delta: "hm" }, 4),
      idle(5),
      text("late", 6)
    ])
    expect(reasons).toEqual([
      "no turn running",
      "applied",
      "step-start part shows nothing",
      "empty text part",
      "delta of reasoning shows nothing",
      "applied",
      "no turn running"
    ])
  })
})

describe("session view fold: permissions and subagents", () => {
  it("a permission request shows after the grace, with what is asked, and raises a permission alert", () => {
    const { view, outcomes } = foldView([created("Fix auth", 0), busy(10), asked("per_1", 1000)])
    expect(outcomes[2]).toEqual({ _tag: "Applied", change: "permission asked: bash: npm install" })
    expect(shownContentState(view, T0 + 5999, 5000)?.status).toBe("working")
    expect(shownContentState(view, T0 + 6000, 5000)).toMatchObject({ status: "permission", lastMessage: "bash: npm install" })
    expect(view.alerts).toEqual([
      { seq: 1, eventType: "permission", title: "Fix auth", body: "Permission needed: bash: npm install", permissionId: "per_1", at: T0 + 1000, position: view.lastPosition }
    ])
  })

  it("a reply removes the request; duplicates and unknown replies change nothing", () => {
    const { view, reasons } = foldView([busy(10), asked("per_1", 100), asked("per_1", 101), replied("per_1", 200), replied("per_1", 201)])
    expect(reasons).toEqual(["applied", "applied", "permission per_1 already pending", "applied", "no pending permission per_1"])
    expect(view.permissions).toEqual([])
    expect(shownContentState(view, T0 + 10_000, 5000)?.status).toBe("working")
  })

  it("the idle clears pending requests", () => {
    const { view } = foldView([busy(10), asked("per_1", 100), idle(200)])
    expect(view.permissions).toEqual([])
  })

  it("a permission request outside a turn starts one", () => {
    const { view } = foldView([asked("per_1", 100)])
    expect(view.turn?.number).toBe(1)
    expect(view.permissions.map((p) => p.id)).toEqual(["per_1"])
  })

  it("shows a subagent's permission request on the root, and only that of the subagent's events", () => {
    const child = "ses_child"
    const { view, outcomes } = foldView([
      busy(10),
      created("Explore", 20, child, ROOT),
      busy(21, child),
      asked("per_c", 30, child),
      replied("per_c", 40, child),
      idle(50, child)
    ])
    expect(outcomes.map((o) => (o._tag === "Applied" ? o.change : o.reason))).toEqual([
      "turn 1 started",
      "event of session ses_child, not this one",
      "event of session ses_child, not this one",
      "permission asked (from subagent ses_child): bash: npm install",
      "permission per_c answered: once",
      "event of session ses_child, not this one"
    ])
    expect(view.turn?.outcome).toBeNull()
    expect(view.newest?.sourceTime).toBe(T0 + 10) // other sessions' events do not move the root's order marker
  })

  it("a subagent's own view knows its parent", () => {
    const { view } = foldView([created("Explore", 20, "ses_child", ROOT)], "ses_child")
    expect(view.parentId).toBe(ROOT)
  })
})

describe("session view fold: titles, order, bookkeeping", () => {
  it("takes title updates, including late ones after the idle; the same title changes nothing", () => {
    const { view, reasons } = foldView([created("New session - 2026", 0), busy(10), idle(20), titled("Fix auth", 60), titled("Fix auth", 70)])
    expect(reasons).toEqual(["applied", "applied", "applied", "applied", "no change to the title or parent"])
    expect(view.title).toBe("Fix auth")
  })

  it("ignores an event older than the newest applied one, saying why", () => {
    const { view, reasons } = foldView([busy(10), text("newer", 200), text("older", 100)])
    expect(reasons[2]).toBe("older than the newest applied event (source time 2026-11-22T10:00:00.100Z < 2026-11-22T10:00:00.200Z)")
    expect(view.lastMessage).toBe("newer")
  })

  it("orders events of the same millisecond by id, and drops a duplicate id", () => {
    const first = oc("session.status", { status: { type: "busy" } }, 10, ROOT, "evt_aaa2")
    const sameMsLowerId = oc("message.part.updated", { part: { type: "text", id: "p", messageID: "m", text: "late" } }, 10, ROOT, "evt_aaa1")
    const again = oc("session.status", { status: { type: "busy" } }, 10, ROOT, "evt_aaa2")
    const { reasons } = foldView([first, sameMsLowerId, again])
    expect(reasons).toEqual([
      "applied",
      "older than the newest applied event (same source time 2026-11-22T10:00:00.010Z, id evt_aaa1 < evt_aaa2)",
      "duplicate of the newest applied event evt_aaa2"
    ])
  })

  it("passes unknown types and registrations by, and names malformed events", () => {
    const { reasons } = foldView([
      oc("session.diff", { diff: [] }, 1),
      oc("session.status", { status: { type: "sleeping" } }, 2),
      activity(3)
    ])
    expect(reasons[0]).toBe("session.diff does not affect the Live Activity")
    expect(reasons[1]).toMatch(/^malformed session.status: /)
    expect(reasons[2]).toBe("a registration: the registrations fold keeps it")
  })

  it("records the position, time and server of the newest change", () => {
    const events = [busy(10), busy(20)]
    const { view } = foldView(events)
    expect(view.lastPosition).toBe(events[0]!.position.toString())
    expect(view.changedAt).toBe(T0 + 10)
    expect(view.serverId).toBe("srv-1")
    expect(view.tenant).toBe(TENANT)
  })

  it("folds a whole capture into a plain JSON value that a refold reproduces exactly", () => {
    const events = loadCapture("tool-allow.global.jsonl")
    const session = events[0]!.sessionId
    const once = foldView(events, session).view
    expect(JSON.parse(JSON.stringify(once))).toEqual(once)
    expect(foldView(events, session).view).toEqual(once)
    expect(once.turn?.outcome).toBe("complete")
    expect(once.title).toBe("Mock title: USE_TOOL run echo for me")
    expect(once.lastMessage).toBe("The command printed hello-from-tool. Done.")
    expect(initialSessionView(TENANT, session).sessionId).toBe(session)
  })
})
