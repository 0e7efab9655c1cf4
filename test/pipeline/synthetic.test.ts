import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { pipelineLayer } from "../support/pipeline.ts"
import { request } from "../support/server.ts"
import { registeredDevice, type Seen, settle } from "../support/simulatorPushes.ts"

// What the captures lack, posted through the real relay as OpenCode would send it.
// Ids carry their time as OpenCode's do (ms * 0x1000 in the 48-bit prefix).
let counter = 0
const idAt = (ms: number) => {
  counter++
  return `evt_${((ms * 0x1000 + (counter % 0x1000)) % 2 ** 48).toString(16).padStart(12, "0")}syn${counter}`
}
const event = (type: string, properties: Record<string, unknown>, at = Date.now()) => ({ id: idAt(at), type, properties })
const busy = (session: string) => event("session.status", { sessionID: session, status: { type: "busy" } })
const idle = (session: string) => event("session.status", { sessionID: session, status: { type: "idle" } })
const text = (session: string, value: string, at?: number) =>
  event("message.part.updated", { sessionID: session, part: { type: "text", messageID: "msg_syn", sessionID: session, text: value } }, at)
const failed = (session: string, name: string, message: string) =>
  event("session.error", { sessionID: session, error: { name, data: { message } } })

const liveOnly = (seen: ReadonlyArray<Seen>, token: string) => seen.filter((p) => p.token === token).map(({ event, priority, status }) => ({ event, status, priority }))
const alertsOf = (seen: ReadonlyArray<Seen>, token: string) => seen.filter((p) => p.token === token && p.type === "alert").map((p) => p.event)

/** A device registered and an activity token known for `session`; posts batches as the bridge would. */
const scenario = (label: string, session: string) =>
  Effect.gen(function*() {
    const ctx = yield* registeredDevice(label)
    const registered = yield* request(ctx.base, "POST", "/v1/activity/register", { secret: ctx.secret, sessionID: session, activityToken: ctx.activity, apnsEnv: "sandbox" })
    expect(registered.status).toBe(200)
    const post = (...events: Array<Record<string, unknown>>) =>
      Effect.gen(function*() {
        const response = yield* request(ctx.base, "POST", "/v1/opencode/events", { events }, { authorization: `Bearer ${ctx.secret}` })
        expect(response.status).toBe(202)
        yield* Effect.sleep("20 millis")
        return response.body as { accepted: number; duplicates: number }
      })
    return { ...ctx, post }
  })

const ended = (token: string) => (pushes: ReadonlyArray<{ token: string; payload: { aps: { event?: string } } }>) =>
  pushes.some((p) => p.token === token && p.payload.aps.event === "end")

layer(pipelineLayer(), { excludeTestServices: true, timeout: 120_000 })("synthetic OpenCode sequences through the real relay", (it) => {
  it.effect("a subagent's permission shows on the root session's activity and alerts; answered, the turn ends complete", () =>
    Effect.gen(function*() {
      const root = "ses_syn_root"
      const child = "ses_syn_child"
      const { activity, device, post } = yield* scenario("subagent", root)
      yield* post(busy(root))
      yield* post(
        event("session.created", { sessionID: child, info: { id: child, parentID: root, title: "explore" } }),
        busy(child),
        event("permission.asked", { sessionID: child, id: "per_sub", permission: "bash", patterns: ["rm -rf build"] })
      )
      // Longer than the grace (400 ms here): the question is shown.
      const asked = yield* settle([activity, device], (p) => p.some((x) => x.payload.aps["content-state"]?.status === "permission"))
      expect(liveOnly(asked, activity)).toContainEqual({ event: "update", status: "permission", priority: "10" })
      expect(alertsOf(asked, device)).toEqual(["permission"])

      yield* post(event("permission.replied", { sessionID: child, requestID: "per_sub", reply: "once" }), idle(child), idle(root))
      const seen = yield* settle([activity, device], ended(activity))
      const live = liveOnly(seen, activity)
      // The first push may already show the question if the sender first ran after it was folded.
      const asking = live.findIndex((p) => p.status === "permission")
      expect(live.slice(0, asking).every((p) => p.event === "update" && p.status === "working")).toBe(true)
      expect(live[asking]).toEqual({ event: "update", status: "permission", priority: "10" })
      expect(live.at(-1)).toEqual({ event: "end", status: "complete", priority: "10" })
      expect(live.filter((p) => p.event === "end")).toHaveLength(1)
      expect(alertsOf(seen, device)).toEqual(["permission", "complete"])
    }))

  it.effect("an abort ends the activity quietly: the end shows complete, and no alert", () =>
    Effect.gen(function*() {
      const session = "ses_syn_abort"
      const { activity, device, post } = yield* scenario("abort", session)
      yield* post(busy(session), text(session, "Reading the repository"))
      yield* post(failed(session, "MessageAbortedError", "Aborted"), idle(session))
      const seen = yield* settle([activity, device], ended(activity))
      expect(liveOnly(seen, activity)).toEqual([
        { event: "update", status: "working", priority: "10" },
        { event: "end", status: "complete", priority: "10" }
      ])
      expect(alertsOf(seen, device)).toEqual([])
    }))

  it.effect("a ContextOverflowError is not an error to the user: OpenCode compacts, the turn ends complete", () =>
    Effect.gen(function*() {
      const session = "ses_syn_overflow"
      const { activity, device, post } = yield* scenario("overflow", session)
      yield* post(busy(session))
      yield* post(failed(session, "ContextOverflowError", "context window exceeded"), text(session, "Summarised; continuing"), idle(session))
      const seen = yield* settle([activity, device], ended(activity))
      const live = liveOnly(seen, activity)
      expect(live.some((p) => p.status === "error")).toBe(false)
      expect(live.at(-1)).toEqual({ event: "end", status: "complete", priority: "10" })
      expect(alertsOf(seen, device)).toEqual(["complete"])
    }))

  it.effect("an event delivered late, older than the newest applied one, changes nothing and pushes nothing", () =>
    Effect.gen(function*() {
      const session = "ses_syn_late"
      const { activity, base, device, post, secret } = yield* scenario("late", session)
      const started = Date.now()
      yield* post(busy(session))
      yield* Effect.sleep("50 millis")
      yield* post(text(session, "newest"), idle(session))
      const before = yield* settle([activity, device], ended(activity))
      expect(liveOnly(before, activity).at(-1)).toEqual({ event: "end", status: "complete", priority: "10" })

      // A text from just after the start, delivered only now (a bridge's late retry).
      const late = yield* post(text(session, "stale", started + 10))
      expect(late.accepted).toBe(1)
      // Settled: the late event is folded and the sender has nothing left to do.
      const after = yield* settle([activity, device], () => true)
      expect(after).toEqual(before)
      const state = yield* request(base, "GET", `/v1/sessions/${session}`, undefined, { authorization: `Bearer ${secret}` })
      expect(state.status).toBe(200)
      const shown = (state.body as { session: { contentState: { lastMessage: string; status: string } } }).session.contentState
      expect(shown).toMatchObject({ status: "complete", lastMessage: "newest" })
    }))

  it.effect("a batch posted twice (a retry after a lost answer) is stored once and pushes once", () =>
    Effect.gen(function*() {
      const session = "ses_syn_twice"
      const { activity, device, post } = yield* scenario("twice", session)
      const batch = [busy(session), text(session, "All tests pass"), idle(session)]
      expect(yield* post(...batch)).toMatchObject({ accepted: 3, duplicates: 0 })
      expect(yield* post(...batch)).toMatchObject({ accepted: 0, duplicates: 3 })
      const seen = yield* settle([activity, device], ended(activity))
      const live = liveOnly(seen, activity)
      expect(live.filter((p) => p.event === "end")).toEqual([{ event: "end", status: "complete", priority: "10" }])
      expect(alertsOf(seen, device)).toEqual(["complete"])
    }))
})
