import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { isSessionFrame, readCapture } from "../support/captures.ts"
import { uniqueTenant } from "../support/database.ts"
import { pipelineLayer } from "../support/pipeline.ts"
import { request, RelayUrl } from "../support/server.ts"

const device = "d1".repeat(32)
const pushToStart = "e2".repeat(32)

layer(pipelineLayer(), { excludeTestServices: true, timeout: 120_000 })("sessions API and /v1/event through the real relay", (it) => {
  it.effect("GET /v1/sessions shows the projected state, lifecycle and last delivery; other tenants get 404", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = `secret-${uniqueTenant("sessions")}`
      const auth = { authorization: `Bearer ${secret}` }
      yield* request(base, "POST", "/v1/device/register", { secret, deviceToken: device, pushToStartToken: pushToStart })
      const frames = readCapture("tool-allow.global.jsonl").filter(isSessionFrame)
      const sessionID = frames.find((f) => f.payload.type === "session.created")!.payload.properties.sessionID
      expect((yield* request(base, "POST", "/v1/opencode/events", { events: frames }, auth)).status).toBe(202)

      let session: any
      for (let i = 0; i < 100; i++) {
        const response = yield* request(base, "GET", `/v1/sessions/${sessionID}`, undefined, auth)
        session = response.body.session
        if (response.status === 200 && session.lastDelivery?.event === "complete") break
        yield* Effect.sleep("100 millis")
      }
      expect(session.contentState).toMatchObject({ status: "complete", retryInfo: null })
      expect(session.contentState.sessionTitle).toBe("Mock title: USE_TOOL run echo for me")
      expect(session.lifecycle).toEqual({ state: "ended", turn: 1, activityTokenKnown: false, pushToStartUsed: true, pendingPermissions: 0 })
      expect(session.lastDelivery).toMatchObject({ event: "complete", pushType: "alert", status: 200, outcome: "delivered", tokenSuffix: device.slice(-8) })

      const list = yield* request(base, "GET", "/v1/sessions", undefined, auth)
      expect(list.body.sessions.map((s: any) => s.sessionID)).toContain(sessionID)
      const stranger = { authorization: `Bearer secret-${uniqueTenant("other")}` }
      expect((yield* request(base, "GET", `/v1/sessions/${sessionID}`, undefined, stranger)).status).toBe(404)
      expect((yield* request(base, "GET", "/v1/sessions", undefined, stranger)).body).toEqual({ ok: true, sessions: [], nextCursor: null })
      expect((yield* request(base, "GET", "/v1/sessions")).status).toBe(401)
    }))

  it.effect("POST /v1/event waits for its pushes and reports them", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = `secret-${uniqueTenant("legacy")}`
      yield* request(base, "POST", "/v1/device/register", { secret, deviceToken: device })
      yield* request(base, "POST", "/v1/device/register", { secret, deviceToken: "f3".repeat(32), events: ["error"] })
      const started = Date.now()
      const response = yield* request(base, "POST", "/v1/event", { secret, eventType: "complete", sessionID: "ses_legacy", title: "Done", body: "All tests pass" })
      expect(response).toEqual({ status: 200, body: { ok: true, sent: 1, failed: 0 } })
      expect(Date.now() - started).toBeLessThan(2000)
    }))
})
