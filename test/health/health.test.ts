import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { logHead } from "../../src/eventstore/logHead.ts"
import { request, RelayUrl, testServerLayer } from "../support/server.ts"

layer(testServerLayer(), { excludeTestServices: true })("GET /health and the API's edges", (it) => {
  it.effect("reports the database and the log head", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const response = yield* request(base, "GET", "/health")
      expect(response.status).toBe(200)
      expect(response.body.ok).toBe(true)
      expect(response.body.database).toBe("ok")
      expect(BigInt(response.body.logHead) <= (yield* logHead)).toBe(true)
    }))

  it.effect("/ready reports the projector's lag, the sender's backlog and APNs; /metrics counts ingest by result", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const ready = yield* request(base, "GET", "/ready")
      expect(ready.status).toBe(200)
      expect(ready.body).toMatchObject({
        ok: true,
        database: "ok",
        projector: { lagEvents: expect.any(Number), lagSeconds: expect.any(Number) },
        sender: { due: expect.any(Number), claimed: expect.any(Number) },
        apns: { description: "not configured", connections: 0, ready: 0 }
      })

      const auth = { authorization: "Bearer metrics-secret-0123456789" }
      const events = [
        { id: "evt_metrics_1", type: "session.status", properties: { sessionID: "ses_metrics", status: { type: "busy" } } },
        { id: "evt_metrics_2", type: "session.status", properties: { sessionID: "ses_metrics", status: { type: "idle" } } }
      ]
      expect((yield* request(base, "POST", "/v1/opencode/events", { events }, auth)).status).toBe(202)
      expect((yield* request(base, "POST", "/v1/opencode/events", { events: events.slice(0, 1) }, auth)).status).toBe(202)
      expect((yield* request(base, "POST", "/v1/opencode/events", { events: "no" }, auth)).status).toBe(400)

      const response = yield* Effect.promise(() => fetch(`${base}/metrics`))
      expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8")
      const text = yield* Effect.promise(() => response.text())
      expect(text).toContain('pushline_ingest_events_total{result="accepted"} 2\n')
      expect(text).toContain('pushline_ingest_events_total{result="duplicate"} 1\n')
      expect(text).toContain('pushline_ingest_rejected_total{error="BadRequest"} 1\n')
      expect(text).toContain("# TYPE pushline_projector_lag_events gauge\n")
      expect(text).toContain("# TYPE pushline_sender_due_sessions gauge\n")
    }))

  it.effect("serves the OpenAPI document and the docs page", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const openapi = yield* request(base, "GET", "/docs/openapi.json")
      expect(openapi.status).toBe(200)
      expect(Object.keys(openapi.body.paths).sort()).toEqual([
        "/health",
        "/metrics",
        "/ready",
        "/v1/activity/register",
        "/v1/activity/unregister",
        "/v1/device/register",
        "/v1/device/unregister",
        "/v1/event",
        "/v1/opencode/events",
        "/v1/replay",
        "/v1/sessions",
        "/v1/sessions/{sessionID}",
        "/v1/sessions/{sessionID}/replay",
        "/v1/sessions/{sessionID}/timeline"
      ])
      const docs = yield* request(base, "GET", "/docs")
      expect(docs.status).toBe(200)
      expect(String(docs.body)).toContain("swagger")
    }))

  it.effect("an unknown route is a JSON 404", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      expect(yield* request(base, "GET", "/v1/nothing")).toEqual({
        status: 404,
        body: { ok: false, error: "no route for GET /v1/nothing" }
      })
    }))
})
