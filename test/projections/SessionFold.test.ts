import { describe, expect, it } from "@effect/vitest"
import { asked, busy, foldAll, idle, oc, pushline, replied, T0, text } from "./support.ts"
import { isSessionFrame, readCapture } from "../support/captures.ts"
import { LoggedEvent } from "../../domain/LoggedEvent.ts"
import { sessionIdOf } from "../../src/ingest/OpenCodeBatch.ts"
import { sourceTimeFromId } from "../../domain/OpenCodeEventId.ts"

describe("session fold", () => {
  it("busy starts a turn; text becomes the last message; idle completes with an alert", () => {
    const { state } = foldAll([
      oc("session.updated", { info: { id: "ses_root", title: "Fix the build" } }, 0),
      busy(10),
      text("Running the tests now", 20),
      idle(30)
    ])
    expect(state).toMatchObject({ status: "complete", title: "Fix the build", lastMessage: "Running the tests now", turn: 1, turnStartedAt: T0 + 10 })
    expect(state.alerts.map((a) => [a.eventType, a.title, a.body])).toEqual([["complete", "Fix the build", "Running the tests now"]])
  })

  it("repeated busy, duplicate idles and idle before any turn change nothing, and say why", () => {
    const { outcomes, state } = foldAll([idle(0), busy(10), busy(11), idle(20), idle(21), oc("session.idle", {}, 22)])
    expect(outcomes.map((o) => o.reason)).toEqual([
      "idle before any turn",
      null,
      "already working (repeated busy)",
      null,
      "duplicate idle",
      "duplicate idle"
    ])
    expect(state.alerts).toHaveLength(1)
  })

  it("retry shows the attempt and the wait; session.error makes the idle an error", () => {
    const retry = foldAll([busy(0), oc("session.status", { status: { type: "retry", attempt: 2, message: "rate limited", next: T0 + 8100 } }, 100)])
    expect(retry.state).toMatchObject({ status: "retry", retryInfo: "Retry 2 in 8s" })
    const failed = foldAll([busy(0), oc("session.error", { error: { name: "APIError", data: { message: "bad request" } } }, 10), idle(20)])
    expect(failed.state).toMatchObject({ status: "error", lastMessage: "bad request" })
    expect(failed.state.alerts.map((a) => a.eventType)).toEqual(["error"])
  })

  it("an abort ends quietly; a context overflow is not an error", () => {
    const aborted = foldAll([busy(0), oc("session.error", { error: { name: "MessageAbortedError", data: { message: "Aborted" } } }, 10), idle(20)])
    expect(aborted.state).toMatchObject({ status: "complete", lastMessage: "Aborted" })
    expect(aborted.state.alerts).toEqual([])
    const overflow = foldAll([busy(0), oc("session.error", { error: { name: "ContextOverflowError", data: {} } }, 10), idle(20)])
    expect(overflow.outcomes[1]!.reason).toBe("context overflow is handled by OpenCode; not an error to the user")
    expect(overflow.state.status).toBe("complete")
  })

  it("permission asked and replied: status permission naming what is asked, then back", () => {
    const { state: waiting } = foldAll([busy(0), asked("per_1", 10)])
    expect(waiting).toMatchObject({ status: "permission", lastMessage: "bash: npm install" })
    expect(waiting.alerts.map((a) => a.eventType)).toEqual(["permission"])
    const { state } = foldAll([busy(0), asked("per_1", 10), replied("per_1", 20)])
    expect(state).toMatchObject({ status: "working", permissions: [] })
  })

  it("a subagent's permission shows on the root session", () => {
    // The projector routes the child's permission events to the root as well (see ProjectionFoldsLive).
    const { state } = foldAll([busy(0), asked("per_9", 10, "ses_child")])
    expect(state).toMatchObject({ status: "permission", lastMessage: "bash: npm install" })
    expect(state.permissions).toEqual([{ id: "per_9", label: "bash: npm install", askedAt: T0 + 10, fromSession: "ses_child" }])
    const { outcomes } = foldAll([busy(0), idle(5, "ses_child")])
    expect(outcomes[1]!.reason).toBe("event of another session")
  })

  it("an event older than the newest applied one changes nothing and says why", () => {
    const late = busy(5)
    const { outcomes, state } = foldAll([busy(0), text("newest", 10), idle(20), late])
    expect(outcomes[3]!.applied).toBe(false)
    expect(outcomes[3]!.reason).toContain("older than the newest applied event")
    expect(state.status).toBe("complete")
  })

  it("a new turn forgets the ended activity; a late token registration is kept", () => {
    const token = { activityToken: "beef", apnsEnv: "sandbox", bundleId: null, sessionID: "ses_root" }
    const first = foldAll([busy(0), idle(10), pushline("pushline.activity.registered", token, 20)])
    expect(first.state.activity).toEqual({ token: "beef", apnsEnv: "sandbox", bundleId: null })
    const next = foldAll([busy(0), idle(10), pushline("pushline.activity.registered", token, 20), busy(30)])
    expect(next.state).toMatchObject({ activity: null, turn: 2, status: "working" })
  })

  it("folds each capture to its expected end state", () => {
    const expected: Record<string, [string, number]> = {
      "text.global.jsonl": ["complete", 1],
      "tool-allow.global.jsonl": ["complete", 1],
      "retry429.global.jsonl": ["complete", 1],
      "error400.global.jsonl": ["error", 1],
      "question.global.jsonl": ["complete", 1],
      "two-turns.global.jsonl": ["complete", 2],
      "long-stream.global.jsonl": ["complete", 1]
    }
    for (const [capture, [status, turn]] of Object.entries(expected)) {
      const frames = readCapture(capture).filter(isSessionFrame)
      const root = frames.find((f) => f.payload.type === "session.created")!.payload.properties.sessionID
      const received = T0
      const events = frames
        .map((f, i) => new LoggedEvent({
          position: BigInt(i + 1),
          tenant: "t",
          sessionId: sessionIdOf(f.payload.type, f.payload.properties),
          eventId: f.payload.id,
          type: f.payload.type,
          payload: f.payload,
          meta: {},
          sourceTime: sourceTimeFromId(f.payload.id, Date.parse("2026-11-22T10:35:00Z")) ?? received,
          receivedTime: received
        }))
        .filter((e) => e.sessionId === root)
      const { state } = foldAll(events, root)
      expect({ capture, status: state.status, turn: state.turn }).toEqual({ capture, status, turn })
      expect(state.title).not.toBe("")
    }
  })
})
