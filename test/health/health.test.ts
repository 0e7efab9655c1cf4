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

  it.effect("serves the OpenAPI document and the docs page", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const openapi = yield* request(base, "GET", "/docs/openapi.json")
      expect(openapi.status).toBe(200)
      expect(Object.keys(openapi.body.paths).sort()).toEqual([
        "/health",
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
