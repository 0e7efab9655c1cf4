import { expect } from "@effect/vitest"
import { Effect, Option } from "effect"
import { LocalApnsSimulator } from "../../src/apns/ApnsLive.ts"
import { isSessionFrame, readCapture } from "./captures.ts"
import { uniqueTenant } from "./database.ts"
import { quiescent } from "./quiescent.ts"
import { request, RelayUrl } from "./server.ts"
import { hex } from "./simulatorPushes.ts"

/** The capture's event ids moved to now (they encode their time), so the permission grace runs on today's clock. */
export const restamp = (frames: ReadonlyArray<Record<string, any>>) => {
  const first = BigInt(`0x${frames[0]!.payload.id.slice(4, 16)}`) / 0x1000n
  const shift = (BigInt(Date.now()) - first) * 0x1000n
  return frames.map((frame) => {
    const prefix = (BigInt(`0x${frame.payload.id.slice(4, 16)}`) + shift) % (1n << 48n)
    return { ...frame, payload: { ...frame.payload, id: `evt_${prefix.toString(16).padStart(12, "0")}${frame.payload.id.slice(16)}` } }
  })
}

/** Relay settings for suites that record sessions: a grace long enough that a loaded machine still holds the ask. */
export const recordingSettings = { throttleMs: 1000, permissionGraceMs: 2000, endSettleMs: 500 }

/** Waits until the sender has held the session's permission for its grace (a recorded run says so). */
const heldForGrace = (base: string, sessionId: string, auth: Record<string, string>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 75; i++) {
      const timeline = yield* request(base, "GET", `/v1/sessions/${sessionId}/timeline?limit=1000`, undefined, auth)
      const steps: Array<{ decisions: Array<{ decision: string }> }> = timeline.body.steps ?? []
      if (steps.some((step) => step.decisions.some((d) => d.decision === "permission-grace"))) return
      yield* Effect.sleep("20 millis")
    }
    expect.fail("the sender did not hold the permission for its grace within 1.5 s")
  })

/**
 * A recorded session through the real relay (`recordingSettings`): the
 * tool-allow capture streamed as the bridge would, plus a late duplicate-time
 * event that arrives out of order. Then the timeline and replay over HTTP.
 */
export const recordSession = (label: string) =>
  Effect.gen(function*() {
    const base = yield* RelayUrl
    const secret = `secret-${uniqueTenant(label)}`
    const device = hex(`${label}-alert`)
    const activity = hex(`${label}-activity`)
    const frames = restamp(readCapture("tool-allow.global.jsonl").filter(isSessionFrame))
    const sessionId = frames.find((f) => f.payload.type === "session.created")!.payload.properties.sessionID as string
    const auth = { authorization: `Bearer ${secret}` }
    expect((yield* request(base, "POST", "/v1/device/register", { secret, deviceToken: device, apnsEnv: "sandbox" })).status).toBe(200)
    expect((yield* request(base, "POST", "/v1/activity/register", { secret, sessionID: sessionId, activityToken: activity, apnsEnv: "sandbox" })).status).toBe(200)
    // Batches of up to 4, as they happen; the permission's answer comes in its own batch, after the ask.
    const batches: Array<Array<Record<string, any>>> = [[]]
    for (const frame of frames) {
      if (batches.at(-1)!.length === 4 || frame.payload.type === "permission.replied") batches.push([])
      batches.at(-1)!.push(frame)
    }
    for (const batch of batches) {
      // Answer only once the ask is held, so the timeline always has a grace decision.
      if (batch[0]!.payload.type === "permission.replied") yield* heldForGrace(base, sessionId, auth)
      expect((yield* request(base, "POST", "/v1/opencode/events", { events: batch }, auth)).status).toBe(202)
      yield* Effect.sleep("40 millis")
    }
    // The first `busy` again, under another id with the same (old) time: out of order.
    const busy = frames.find((f) => f.payload.type === "session.status")!
    const lateId = `${busy.payload.id.slice(0, 16)}zzzzzzzzzzzzzz`
    expect((yield* request(base, "POST", "/v1/opencode/events", { events: [{ ...busy, payload: { ...busy.payload, id: lateId } }] }, auth)).status).toBe(202)
    // Wait for the alert (the turn's end), then for the sender to go quiet.
    const simulator = Option.getOrThrow(yield* LocalApnsSimulator)
    for (let i = 0; i < 200 && !simulator.pushes.some((p) => p.token === device); i++) yield* Effect.sleep("50 millis")
    yield* quiescent
    return { base, secret, sessionId, device, activity, lateId, auth, pushes: simulator.pushes.filter((p) => p.token === activity || p.token === device) }
  })

