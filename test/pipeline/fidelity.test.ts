import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { isSessionFrame, readCapture } from "../support/captures.ts"
import { eventually } from "../support/eventually.ts"
import { pipelineLayer } from "../support/pipeline.ts"
import { request } from "../support/server.ts"
import { pushesFor, registeredDevice, settle } from "../support/simulatorPushes.ts"

const setup = registeredDevice

/** Posts the capture as the bridge would: a few events at a time, as they happen. */
const stream = (base: string, secret: string, frames: ReadonlyArray<Record<string, any>>) =>
  Effect.gen(function*() {
    for (let i = 0; i < frames.length; i += 4) {
      const response = yield* request(base, "POST", "/v1/opencode/events", { events: frames.slice(i, i + 4) }, { authorization: `Bearer ${secret}` })
      expect(response.status).toBe(202)
      yield* Effect.sleep("15 millis")
    }
  })

const sessionOf = (frames: ReadonlyArray<Record<string, any>>) =>
  frames.find((f) => f.payload?.type === "session.created")!.payload.properties.sessionID as string

const finalTitle = (frames: ReadonlyArray<Record<string, any>>) =>
  frames.filter((f) => f.payload?.type === "session.updated").at(-1)!.payload.properties.info.title as string

const captures: Array<[string, "complete" | "error"]> = [
  ["text.global.jsonl", "complete"],
  ["tool-allow.global.jsonl", "complete"],
  ["retry429.global.jsonl", "complete"],
  ["error400.global.jsonl", "error"]
]

layer(pipelineLayer({ endSettleMs: 1000 }), { excludeTestServices: true, timeout: 120_000 })("captured OpenCode sessions through the real relay", (it) => {
  for (const [capture, outcome] of captures) {
    it.effect(`${capture}: push-to-start, then ${outcome}; a late activity token gets the end`, () =>
      Effect.gen(function*() {
        const { activity, base, device, pushToStart, secret } = yield* setup(capture.split(".")[0]!)
        const frames = readCapture(capture).filter(isSessionFrame)
        yield* stream(base, secret, frames)
        const seen = yield* settle([device, pushToStart], (p) => p.some((x) => x.token === device))
        expect(seen[0]).toMatchObject({ type: "liveactivity", event: "start", priority: "10", token: pushToStart })
        expect(seen.filter((p) => p.event === "start")).toHaveLength(1)
        expect(seen.filter((p) => p.type === "alert")).toEqual([{ type: "alert", event: outcome, status: undefined, priority: "10", token: device }])
        expect(seen.some((p) => p.status === "permission")).toBe(false)

        // The phone registers the started activity's token after the turn ended.
        yield* request(base, "POST", "/v1/activity/register", { secret, sessionID: sessionOf(frames), activityToken: activity, apnsEnv: "sandbox" })
        const late = yield* settle([activity], (p) => p.length > 0)
        expect(late).toEqual([{ type: "liveactivity", event: "end", status: outcome, priority: "10", token: activity }])
      }))

    it.effect(`${capture}: with an activity token, updates end in ${outcome}, never older after newer`, () =>
      Effect.gen(function*() {
        const { activity, base, device, pushToStart, secret } = yield* setup(`${capture.split(".")[0]}-act`)
        const frames = readCapture(capture).filter(isSessionFrame)
        yield* request(base, "POST", "/v1/activity/register", { secret, sessionID: sessionOf(frames), activityToken: activity, apnsEnv: "sandbox" })
        // Up to the turn's end, then (once the relay has acted on it: the alert is out) the rest,
        // as when the relay keeps up with OpenCode.
        const idle = frames.findIndex((f) => f.payload?.type === "session.idle") + 1
        yield* stream(base, secret, frames.slice(0, idle))
        yield* eventually("the turn's alert", Effect.map(pushesFor([device]), (p) => (p.length > 0 ? p : undefined)))
        yield* stream(base, secret, frames.slice(idle))
        const seen = yield* settle([device, pushToStart, activity], (p) => p.some((x) => x.token === device))
        const live = seen.filter((p) => p.token === activity)
        expect(seen.filter((p) => p.token === pushToStart)).toEqual([])
        expect(live.at(-1)).toEqual({ type: "liveactivity", event: "end", status: outcome, priority: "10", token: activity })
        expect(live.filter((p) => p.event === "end")).toHaveLength(1)
        expect(live.slice(0, -1).every((p) => p.event === "update" && (p.status === "working" || p.status === "retry"))).toBe(true)
        expect(seen.some((p) => p.status === "permission")).toBe(false)
        expect(seen.filter((p) => p.type === "alert").map((p) => p.event)).toEqual([outcome])
        const pushes = yield* pushesFor([activity])
        const stamps = pushes.map((p) => p.payload.aps.timestamp as number)
        expect(stamps).toEqual([...stamps].sort((a, b) => a - b))
        // OpenCode sends the generated title just after the turn ends: the end shows it.
        expect(pushes.at(-1)!.payload.aps["content-state"].sessionTitle).toBe(finalTitle(frames))
      }))
  }
})
