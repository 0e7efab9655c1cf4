import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { tenantOf } from "../../src/http/Authentication.ts"
import { isSessionFrame, readCapture } from "../support/captures.ts"
import { request, RelayUrl, testServerLayer } from "../support/server.ts"
import { uniqueTenant } from "../support/database.ts"

const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` })
const newSecret = () => `secret-${uniqueTenant()}`

const countFor = (secret: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ n: number }>`select count(*)::int as n from events where tenant = ${tenantOf(secret)}`
    return rows[0]!.n
  })

layer(testServerLayer({ bodyLimitBytes: 64 * 1024 }), { excludeTestServices: true })("POST /v1/opencode/events", (it) => {
  it.effect("stores a captured stream once, however often it is posted", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = newSecret()
      const frames = readCapture("text.global.jsonl")
      const expected = frames.filter(isSessionFrame).length
      const first = yield* request(base, "POST", "/v1/opencode/events", { serverID: "laptop", events: frames }, bearer(secret))
      expect(first.status).toBe(202)
      expect(first.body).toEqual({ ok: true, accepted: expected, duplicates: 0, skipped: frames.length - expected })
      const second = yield* request(base, "POST", "/v1/opencode/events", { serverID: "laptop", events: frames }, bearer(secret))
      expect(second.body).toEqual({ ok: true, accepted: 0, duplicates: expected, skipped: frames.length - expected })
      expect(yield* countFor(secret)).toBe(expected)

      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ event_id: string; type: string; session_id: string; meta: any }>`
        select event_id, type, session_id, meta from events where tenant = ${tenantOf(secret)} order by position`
      const sessionFrames = frames.filter(isSessionFrame)
      expect(rows.map((row) => row.event_id)).toEqual(sessionFrames.map((frame) => frame.payload.id))
      expect(rows[0]).toMatchObject({ type: "session.created", session_id: "ses_dfd2e08b4ffeMFqSWxB3VPgG9S" })
      expect(rows[0]!.meta).toEqual({ serverID: "laptop", directory: "/home/dev/project" })
    }))

  it.effect("accepts bare events and unknown types", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = newSecret()
      const response = yield* request(base, "POST", "/v1/opencode/events", {
        events: [
          { id: "evt_bare_1", type: "session.idle", properties: { sessionID: "ses_x" } },
          { id: "evt_bare_2", type: "some.future.event", properties: { anything: [1, 2] } }
        ]
      }, bearer(secret))
      expect(response).toEqual({ status: 202, body: { ok: true, accepted: 2, duplicates: 0, skipped: 0 } })
    }))

  it.effect("rejects a batch with one bad event whole, naming its index", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = newSecret()
      const response = yield* request(base, "POST", "/v1/opencode/events", {
        events: [
          { id: "evt_good", type: "session.idle", properties: { sessionID: "ses_x" } },
          { id: "evt_no_type", properties: {} }
        ]
      }, bearer(secret))
      expect(response).toEqual({ status: 400, body: { _tag: "BadRequest", ok: false, error: "events[1].type: is required (a non-empty string)" } })
      expect(yield* countFor(secret)).toBe(0)
    }))

  it.effect("answers 400 for malformed JSON and wrong shapes", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const auth = bearer(newSecret())
      const cases: Array<[unknown, string]> = [
        ["{\"events\": [", "request body is not valid JSON"],
        ["", "request body is empty; expected a JSON object"],
        [{}, "events: is required"],
        [{ events: {} }, "events: must be an array of OpenCode events or /global/event frames"],
        [{ events: [], serverID: 7 }, "serverID: must be a string"],
        ["[1,2]", "request body: "]
      ]
      for (const [body, error] of cases) {
        const response = yield* request(base, "POST", "/v1/opencode/events", body, auth)
        expect(response.status).toBe(400)
        expect(response.body.ok).toBe(false)
        expect(response.body.error).toContain(error)
      }
    }))

  it.effect("answers 401 without a usable Bearer secret", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const body = { events: [] }
      const missing = yield* request(base, "POST", "/v1/opencode/events", body)
      expect(missing).toEqual({ status: 401, body: { _tag: "Unauthorized", ok: false, error: "missing Authorization: Bearer <secret> header" } })
      const short = yield* request(base, "POST", "/v1/opencode/events", body, bearer("short"))
      expect(short).toEqual({ status: 401, body: { _tag: "Unauthorized", ok: false, error: "the Bearer secret must be at least 16 characters" } })
      const basic = yield* request(base, "POST", "/v1/opencode/events", body, { authorization: "Basic dXNlcjpwYXNz" })
      expect(basic.status).toBe(401)
    }))

  it.effect("answers 413 over the body limit and stores nothing", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = newSecret()
      const big = "x".repeat(70 * 1024)
      const response = yield* request(base, "POST", "/v1/opencode/events", {
        events: [{ id: "evt_big", type: "message.part.delta", properties: { delta: big } }]
      }, bearer(secret))
      expect(response).toEqual({ status: 413, body: { _tag: "PayloadTooLarge", ok: false, error: "request body is over the 65536-byte limit" } })
      expect(yield* countFor(secret)).toBe(0)
    }))

  it.effect("many parallel requests store every event exactly once", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = newSecret()
      const batches = Array.from({ length: 24 }, (_, b) =>
        Array.from({ length: 50 }, (_, i) => ({
          id: `evt_par_${b}_${i}`,
          type: "message.part.delta",
          properties: { sessionID: `ses_${b % 4}`, delta: "x" }
        })))
      // Each batch is posted twice at once: duplicates race across transactions.
      const responses = yield* Effect.all(
        [...batches, ...batches].map((events) => request(base, "POST", "/v1/opencode/events", { events }, bearer(secret))),
        { concurrency: 16 }
      )
      expect(responses.every((response) => response.status === 202)).toBe(true)
      const accepted = responses.reduce((sum, response) => sum + response.body.accepted, 0)
      const duplicates = responses.reduce((sum, response) => sum + response.body.duplicates, 0)
      expect(accepted).toBe(1200)
      expect(duplicates).toBe(1200)
      expect(yield* countFor(secret)).toBe(1200)
    }))
})
