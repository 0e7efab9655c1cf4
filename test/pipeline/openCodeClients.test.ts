/**
 * The request bodies OpenCode's own clients build, posted as they build them
 * (test/fixtures/opencode-clients: the server's poster in
 * packages/opencode/src/server/push-relay.ts, the app's relay client), with
 * a pairing secret of the app's shape (24 characters of base64url), through
 * the real relay. And a real capture of the question tool.
 */
import { expect, layer } from "@effect/vitest"
import { Effect, Option } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { LocalApnsSimulator } from "../../src/apns/ApnsLive.ts"
import { serverIdFor } from "../../src/pairing/ServerId.ts"
import { isSessionFrame, readCapture } from "../support/captures.ts"
import { eventually } from "../support/eventually.ts"
import { pipelineLayer } from "../support/pipeline.ts"
import { restamp } from "../support/recordedSession.ts"
import { request, RelayUrl } from "../support/server.ts"

const fixture = (name: string): Record<string, any> =>
  JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, `../fixtures/opencode-clients/${name}.json`), "utf8"))

const simulator = Effect.map(LocalApnsSimulator, Option.getOrThrow)

/** Each test its own copy of the app's pairing: the fixture's secret with a suffix keeps tenants apart. */
let pairings = 0
const pairing = (label: string) => {
  const secret = `${fixture("app-device-register").secret.slice(0, 20)}${(++pairings).toString().padStart(2, "0")}${label.slice(0, 2)}`
  return { secret, auth: { authorization: `Bearer ${secret}` } }
}

layer(pipelineLayer(), { excludeTestServices: true, timeout: 120_000 })("OpenCode's own clients", (it) => {
  it.effect("the app's test button: a /v1/event permission pushes an alert with serverID, eventType, sessionID and alert.wav, not collapsed", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const sim = yield* simulator
      const { secret } = pairing("tb")
      expect(secret).toMatch(/^[A-Za-z0-9_-]{24}$/)
      const device = { ...fixture("app-device-register"), secret, deviceToken: "51".repeat(32) }
      expect((yield* request(base, "POST", "/v1/device/register", device)).status).toBe(200)
      const button: Record<string, any> = { ...fixture("app-test-button"), secret }
      expect(yield* request(base, "POST", "/v1/event", button)).toEqual({ status: 200, body: { ok: true, sent: 1, failed: 0 } })
      const push = sim.pushes.find((p) => p.token === device.deviceToken)!
      expect(push.payload).toEqual({
        aps: { alert: { title: button.title, body: button.body }, sound: "alert.wav", "thread-id": "test" },
        eventType: "permission",
        sessionID: "test",
        serverID: button.serverID
      })
      expect(push.headers["apns-collapse-id"]).toBeUndefined()
      expect(push.headers["apns-topic"]).toBe("ai.opencode.mobile")
    }))

  it.effect("the bridge and OpenCode's own poster report one turn: one complete alert, the poster's a recorded duplicate", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const sim = yield* simulator
      const { auth, secret } = pairing("tp")
      const device = { ...fixture("app-device-register"), secret, deviceToken: "52".repeat(32) }
      expect((yield* request(base, "POST", "/v1/device/register", device)).status).toBe(200)
      const serverID = serverIdFor(base, secret)
      const frames = restamp(readCapture("text.global.jsonl").filter(isSessionFrame))
      const sessionID = frames.find((f) => f.payload.type === "session.created")!.payload.properties.sessionID as string
      expect((yield* request(base, "POST", "/v1/opencode/events", { serverID, events: frames }, auth)).status).toBe(202)
      const alert = yield* eventually("the bridge's complete alert", Effect.sync(() => sim.pushes.find((p) => p.token === device.deviceToken)))
      expect(alert.payload).toMatchObject({ eventType: "complete", sessionID, serverID })

      const post = { ...fixture("server-post-complete"), secret, serverID, sessionID }
      expect(yield* request(base, "POST", "/v1/event", post)).toEqual({ status: 200, body: { ok: true, sent: 0, failed: 0 } })
      const timeline = yield* request(base, "GET", `/v1/sessions/${sessionID}/timeline?limit=1000`, undefined, auth)
      const decisions = (timeline.body.steps as Array<any>).flatMap((s) => s.decisions)
      expect(decisions).toContainEqual(expect.objectContaining({ decision: "skipped", target: "alerts", event: "complete", reason: "duplicate" }))
      // The duplicate's run proves the sender handled it: no second alert came before, none after.
      expect(sim.pushes.filter((p) => p.token === device.deviceToken).map((p) => p.payload.eventType)).toEqual(["complete"])
      const replay = yield* request(base, "POST", `/v1/sessions/${sessionID}/replay`, {}, auth)
      expect(replay.body.identical).toBe(true)
    }))

  it.effect("a real question: the activity asks it (status permission, its header), an alert after the grace, then the end", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const sim = yield* simulator
      const { auth, secret } = pairing("qu")
      const device = { ...fixture("app-device-register"), secret, deviceToken: "53".repeat(32), apnsEnv: "sandbox" }
      expect((yield* request(base, "POST", "/v1/device/register", device)).status).toBe(200)
      const frames = restamp(readCapture("question.global.jsonl").filter(isSessionFrame))
      const sessionID = frames.find((f) => f.payload.type === "session.created")!.payload.properties.sessionID as string
      const activity = { ...fixture("app-activity-register"), secret, sessionID, activityToken: "54".repeat(32) }
      expect((yield* request(base, "POST", "/v1/activity/register", activity)).status).toBe(200)
      const asked = frames.findIndex((f) => f.payload.type === "question.asked")
      expect((yield* request(base, "POST", "/v1/opencode/events", { events: frames.slice(0, asked + 1) }, auth)).status).toBe(202)
      const shown = yield* eventually("the question on the activity", Effect.sync(() =>
        sim.pushes.find((p) => p.token === activity.activityToken && p.payload.aps["content-state"]?.status === "permission")))
      expect(shown.payload.aps["content-state"].lastMessage).toBe("Color")
      const alert = yield* eventually("the question's alert", Effect.sync(() => sim.pushes.find((p) => p.token === device.deviceToken)))
      expect(alert.payload).toMatchObject({ eventType: "permission", sessionID, aps: { alert: { body: "Color" } } })

      expect((yield* request(base, "POST", "/v1/opencode/events", { events: frames.slice(asked + 1) }, auth)).status).toBe(202)
      const end = yield* eventually("the end", Effect.sync(() =>
        sim.pushes.find((p) => p.token === activity.activityToken && p.payload.aps.event === "end")))
      expect(end.payload.aps["content-state"].status).toBe("complete")
      const timeline = yield* request(base, "GET", `/v1/sessions/${sessionID}/timeline?limit=1000`, undefined, auth)
      const step = (timeline.body.steps as Array<any>).find((s) => s.type === "question.asked")
      expect(step.summary).toBe('question asked: Color: "Which color should the mock use?" [Blue | Red]')
      expect((timeline.body.steps as Array<any>).find((s) => s.type === "question.replied").summary).toBe("question answered: Blue")
    }))

  it.effect("a development build's sandbox token registered as production: resent to sandbox once, then registered there; dead in both, removed", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const sim = yield* simulator
      const { auth, secret } = pairing("en")
      const device: Record<string, any> = { ...fixture("app-device-register"), secret, deviceToken: "55".repeat(32) }
      expect(device.apnsEnv).toBe("production")
      sim.tokenEnvironments.set(device.deviceToken, "sandbox")
      expect((yield* request(base, "POST", "/v1/device/register", device)).status).toBe(200)
      const button = (sessionID: string) => ({ ...fixture("app-test-button"), secret, sessionID })
      expect(yield* request(base, "POST", "/v1/event", button("ses_env_1"))).toEqual({ status: 200, body: { ok: true, sent: 1, failed: 0 } })
      expect(sim.rejections.filter((r) => r.token === device.deviceToken).map((r) => [r.environment, r.reason])).toEqual([["production", "BadDeviceToken"]])
      expect(sim.pushes.filter((p) => p.token === device.deviceToken).map((p) => p.environment)).toEqual(["sandbox"])
      // The correction is in the log: the next alert goes to sandbox straight away.
      yield* eventually("the registration's environment corrected", Effect.map(
        request(base, "GET", "/v1/sessions/ses_env_1/timeline?limit=100", undefined, auth),
        (t) => (t.body.steps as Array<any>).find((s) => s.type === "pushline.token.environment" && s.outcome !== "pending")
      ))
      expect(yield* request(base, "POST", "/v1/event", button("ses_env_2"))).toEqual({ status: 200, body: { ok: true, sent: 1, failed: 0 } })
      expect(sim.rejections.filter((r) => r.token === device.deviceToken)).toHaveLength(1)
      expect(sim.pushes.filter((p) => p.token === device.deviceToken).map((p) => p.environment)).toEqual(["sandbox", "sandbox"])

      // A token neither environment takes (not an APNs token): only then is it removed.
      const dead = { ...device, deviceToken: "0dead0" }
      expect((yield* request(base, "POST", "/v1/device/register", dead)).status).toBe(200)
      const gone = yield* request(base, "POST", "/v1/event", button("ses_env_3"))
      expect(gone.body).toMatchObject({ ok: true, sent: 1, failed: 1 })
      expect(sim.rejections.filter((r) => r.token === dead.deviceToken).map((r) => r.environment)).toEqual(["production", "sandbox"])
      yield* eventually("the dead token removed", Effect.map(
        request(base, "GET", "/v1/sessions/ses_env_3/timeline?limit=100", undefined, auth),
        (t) => (t.body.steps as Array<any>).find((s) => s.type === "pushline.token.invalidated")
      ))
    }))
})
