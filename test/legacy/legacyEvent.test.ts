import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { tenantOf } from "../../src/http/Authentication.ts"
import { uniqueTenant } from "../support/database.ts"
import { request, RelayUrl, testServerLayer } from "../support/server.ts"

layer(testServerLayer(), { excludeTestServices: true })("POST /v1/event", (it) => {
  it.effect("appends the post as an event and reports pushes", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = `secret-${uniqueTenant()}`
      const response = yield* request(base, "POST", "/v1/event", {
        secret,
        serverID: "laptop",
        eventType: "complete",
        sessionID: "ses_1",
        title: "Done",
        body: "All tests pass"
      })
      expect(response).toEqual({ status: 200, body: { ok: true, sent: 0, failed: 0 } })
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ type: string; session_id: string; payload: any }>`
        select type, session_id, payload from events where tenant = ${tenantOf(secret)}`
      expect(rows).toEqual([{
        type: "pushline.legacy.event",
        session_id: "ses_1",
        payload: {
          _tag: "pushline.legacy.event",
          serverID: "laptop",
          eventType: "complete",
          sessionID: "ses_1",
          title: "Done",
          body: "All tests pass",
          contentState: null
        }
      }])
    }))

  it.effect("bad input is a 400 naming the field", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = `secret-${uniqueTenant()}`
      const cases: Array<[unknown, string]> = [
        [{ secret, eventType: "done", sessionID: "s" }, "eventType: must be one of"],
        [{ secret, eventType: "complete" }, "sessionID: is required"],
        [{ secret, eventType: "progress", sessionID: "s", contentState: "working" }, "contentState: must be an object"],
        [{ secret: 42, eventType: "complete", sessionID: "s" }, "secret: must be a string of at least 16 characters"],
        [{ secret, eventType: "complete", sessionID: "s", title: 5 }, "title: must be a string of at most 1000 characters"]
      ]
      for (const [body, error] of cases) {
        const response = yield* request(base, "POST", "/v1/event", body)
        expect(response.status).toBe(400)
        expect(response.body.error).toContain(error)
      }
    }))
})
