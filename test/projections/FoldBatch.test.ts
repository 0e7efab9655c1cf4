import { describe, expect, it } from "@effect/vitest"
import { LoggedEvent } from "../../domain/LoggedEvent.ts"
import { Either } from "effect"
import { foldBatch, type Folds, sessionKey, sessionsTouched, type StatesBefore, Undecodable } from "../../projections/FoldBatch.ts"

// A toy projection, so every expected value here can be written by hand: "link"
// events route a child session's events to its root (as subagents do), sessions
// count "progress" events and ignore anything older than what they have seen.
interface Toy { readonly id: string; readonly count: number; readonly status: string; readonly lastTime: number }
interface Links { readonly links: Record<string, string> }

const toy: Folds<Toy, Links> = {
  sessionsOf: (event, tenantState) =>
    event.type === "link" || event.type === "noise" ? [] : [tenantState.links[event.sessionId] ?? event.sessionId],
  initialSession: (_tenant, sessionId) => ({ id: sessionId, count: 0, status: "idle", lastTime: 0 }) satisfies Toy,
  applySession: (state, event) => {
    const s = state
    if (event.sourceTime < s.lastTime) return { state, applied: false, reason: `older than ${s.lastTime}` }
    const status = event.type === "done" ? "done" : event.type === "progress" ? "working" : s.status
    return { state: { ...s, count: s.count + (event.type === "progress" ? 1 : 0), status, lastTime: event.sourceTime }, applied: true, reason: null }
  },
  pacedByThrottle: (before, after) => before.status === after.status,
  claimsFirst: (after, event) => after.status === "done" || event.type === "legacy",
  shownState: (state) => ({ status: state.status, count: state.count }),
  touchesRegistrations: (event) => event.type === "link",
  initialRegistrations: () => ({ links: {} }) satisfies Links,
  applyRegistrations: (state, event) => {
    const links = state.links
    const { child, root } = event.payload as { child: string; root: string }
    if (links[child] === root) return { state, applied: false, reason: "already linked" }
    return { state: { links: { ...links, [child]: root } }, applied: true, reason: null }
  },
  decodeSession: (stored) => (typeof stored === "object" && stored !== null && "count" in stored ? Either.right(stored as Toy) : Either.left("no count")),
  decodeRegistrations: (stored) => (typeof stored === "object" && stored !== null && "links" in stored ? Either.right(stored as Links) : Either.left("no links"))
}

let position = 0n
const event = (type: string, sessionId: string, sourceTime: number, payload: unknown = {}, tenant = "t") =>
  new LoggedEvent({ position: ++position, tenant, sessionId, eventId: `e${position}`, type, payload, meta: {}, sourceTime, receivedTime: sourceTime })

const nothingStored: StatesBefore<Toy, Links> = { tenant: () => undefined, session: () => undefined }

describe("foldBatch", () => {
  it("folds each session from its initial state: one state row per changed session, a step per event and session", () => {
    const a1 = event("progress", "ses_a", 100)
    const b1 = event("progress", "ses_b", 100)
    const a2 = event("progress", "ses_a", 200)
    const folded = foldBatch(toy, [a1, b1, a2], nothingStored)
    expect(folded.sessions).toEqual([
      { tenant: "t", session_id: "ses_a", state: { id: "ses_a", count: 2, status: "working", lastTime: 200 }, last_position: a2.position.toString(), urgent: true, claim_priority: 0 },
      { tenant: "t", session_id: "ses_b", state: { id: "ses_b", count: 1, status: "working", lastTime: 100 }, last_position: b1.position.toString(), urgent: true, claim_priority: 0 }
    ])
    expect(folded.steps.map((s) => [s.session_id, s.position, s.applied, s.content_state])).toEqual([
      ["ses_a", a1.position.toString(), true, { status: "working", count: 1 }],
      ["ses_b", b1.position.toString(), true, { status: "working", count: 1 }],
      ["ses_a", a2.position.toString(), true, { status: "working", count: 2 }]
    ])
    // Each event reached only its own session: its step says what it did.
    expect(folded.outcomes).toEqual([])
    expect(folded.changedSessions).toEqual([{ tenant: "t", sessionId: "ses_a" }, { tenant: "t", sessionId: "ses_b" }])
    expect(folded.tenants).toEqual([])
  })

  it("continues from the stored states; null means none stored", () => {
    const stored: StatesBefore<Toy, Links> = {
      tenant: () => null,
      session: (key) => key === sessionKey("t", "ses_a") ? { id: "ses_a", count: 5, status: "working", lastTime: 500 } : null
    }
    const folded = foldBatch(toy, [event("progress", "ses_a", 600), event("progress", "ses_b", 10)], stored)
    expect(folded.sessions.map((s) => [s.session_id, (s.state as Toy).count, s.urgent])).toEqual([["ses_a", 6, false], ["ses_b", 1, true]])
  })

  it("an older event is ignored with its reason and changes nothing; a session with only ignored events is not written", () => {
    const stored: StatesBefore<Toy, Links> = { tenant: () => null, session: () => ({ id: "ses_a", count: 1, status: "working", lastTime: 500 }) }
    const late = event("progress", "ses_a", 400)
    const folded = foldBatch(toy, [late], stored)
    expect(folded.steps).toEqual([
      { tenant: "t", session_id: "ses_a", position: late.position.toString(), applied: false, reason: "older than 500", content_state: null }
    ])
    expect(folded.outcomes).toEqual([])
    expect(folded.sessions).toEqual([])
    expect(folded.changedSessions).toEqual([])
  })

  it("the last applied event gives the row's position, not a later ignored one", () => {
    const applied = event("progress", "ses_a", 300)
    const ignored = event("progress", "ses_a", 200)
    const folded = foldBatch(toy, [applied, ignored], nothingStored)
    expect(folded.sessions.map((s) => s.last_position)).toEqual([applied.position.toString()])
  })

  it("urgent when any change in the batch is not paced by the throttle, even if paced ones follow", () => {
    const working: StatesBefore<Toy, Links> = { tenant: () => null, session: () => ({ id: "ses_a", count: 1, status: "working", lastTime: 0 }) }
    expect(foldBatch(toy, [event("progress", "ses_a", 1), event("progress", "ses_a", 2)], working).sessions[0]?.urgent).toBe(false)
    expect(foldBatch(toy, [event("done", "ses_a", 1), event("progress", "ses_a", 2)], working).sessions[0]?.urgent).toBe(true)
    expect(foldBatch(toy, [event("progress", "ses_a", 1), event("done", "ses_a", 2)], working).sessions[0]?.urgent).toBe(true)
  })

  it("a session is claimed first when any change in the batch asks for it, even if the state moves on", () => {
    const working: StatesBefore<Toy, Links> = { tenant: () => null, session: () => ({ id: "ses_a", count: 1, status: "working", lastTime: 0 }) }
    expect(foldBatch(toy, [event("progress", "ses_a", 1)], working).sessions[0]?.claim_priority).toBe(0)
    expect(foldBatch(toy, [event("done", "ses_a", 1)], working).sessions[0]?.claim_priority).toBe(1)
    expect(foldBatch(toy, [event("done", "ses_a", 1), event("progress", "ses_a", 2)], working).sessions[0]?.claim_priority).toBe(1)
    expect(foldBatch(toy, [event("legacy", "ses_a", 1)], working).sessions[0]?.claim_priority).toBe(1)
    // An ignored (older) transition asks for nothing.
    const done: StatesBefore<Toy, Links> = { tenant: () => null, session: () => ({ id: "ses_a", count: 1, status: "working", lastTime: 50 }) }
    expect(foldBatch(toy, [event("done", "ses_a", 1)], done).sessions).toEqual([])
  })

  it("a registration in the batch routes the events after it, not those before", () => {
    const before = event("progress", "ses_child", 1)
    const link = event("link", "", 2, { child: "ses_child", root: "ses_root" })
    const after = event("progress", "ses_child", 3)
    const folded = foldBatch(toy, [before, link, after], nothingStored)
    expect(folded.steps.map((s) => [s.position, s.session_id])).toEqual([
      [before.position.toString(), "ses_child"],
      [after.position.toString(), "ses_root"]
    ])
    expect(folded.tenants).toEqual([{ tenant: "t", state: { links: { ses_child: "ses_root" } }, last_position: link.position.toString() }])
    expect(sessionsTouched(toy, [before, link, after], nothingStored)).toEqual([
      { key: sessionKey("t", "ses_child"), tenant: "t", sessionId: "ses_child" },
      { key: sessionKey("t", "ses_root"), tenant: "t", sessionId: "ses_root" }
    ])
  })

  it("uses the stored registrations for routing, and reports a registration that changes nothing", () => {
    const linked: StatesBefore<Toy, Links> = { tenant: () => ({ links: { ses_child: "ses_root" } }), session: () => undefined }
    const again = event("link", "", 1, { child: "ses_child", root: "ses_root" })
    const child = event("progress", "ses_child", 2)
    const noise = event("noise", "ses_x", 3)
    expect(sessionsTouched(toy, [again, child], linked).map((s) => s.sessionId)).toEqual(["ses_root"])
    const folded = foldBatch(toy, [again, child, noise], linked)
    expect(folded.tenants).toEqual([])
    expect(folded.outcomes.map((o) => [o.position, o.applied, o.reason])).toEqual([
      [again.position.toString(), false, "already linked"],
      [child.position.toString(), true, null],
      [noise.position.toString(), false, "no projection uses this event"]
    ])
  })

  it("an outcome row only where the event's steps do not say what it did", () => {
    const linked: StatesBefore<Toy, Links> = { tenant: () => ({ links: { ses_child: "ses_root" } }), session: () => undefined }
    const own = event("progress", "ses_root", 1)
    const routed = event("progress", "ses_child", 2)
    const link = event("link", "", 3, { child: "ses_other", root: "ses_root" })
    const unused = event("noise", "ses_root", 4)
    const folded = foldBatch(toy, [own, routed, link, unused], linked)
    expect(folded.steps.map((s) => [s.position, s.session_id])).toEqual([
      [own.position.toString(), "ses_root"],
      [routed.position.toString(), "ses_root"]
    ])
    // `own` is told by its step; a subagent's event folded into its root, a registration and
    // an event no fold uses each need their own row.
    expect(folded.outcomes).toEqual([
      { position: routed.position.toString(), tenant: "t", session_id: "ses_child", applied: true, reason: null },
      { position: link.position.toString(), tenant: "t", session_id: "", applied: true, reason: null },
      { position: unused.position.toString(), tenant: "t", session_id: "ses_root", applied: false, reason: "no projection uses this event" }
    ])
  })

  it("keeps tenants apart: the same session id in two tenants folds twice", () => {
    const folded = foldBatch(toy, [event("progress", "ses", 1, {}, "t1"), event("progress", "ses", 1, {}, "t2")], nothingStored)
    expect(folded.sessions.map((s) => [s.tenant, s.session_id, (s.state as Toy).count])).toEqual([["t1", "ses", 1], ["t2", "ses", 1]])
  })

  it("never mutates the states it is given", () => {
    const state = Object.freeze({ id: "ses_a", count: 1, status: "working", lastTime: 0 })
    const folded = foldBatch(toy, [event("progress", "ses_a", 1)], { tenant: () => null, session: () => state })
    expect(state.count).toBe(1)
    expect((folded.sessions[0]?.state as Toy).count).toBe(2)
  })
})
