import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Logger } from "effect"
import { tenantOf } from "../../src/http/Authentication.ts"
import { jsonDefects } from "../../src/http/Defects.ts"
import { MAX_JSON_DEPTH } from "../../src/http/RequestBody.ts"
import { uniqueTenant } from "../support/database.ts"
import { request, RelayUrl, testServerLayer } from "../support/server.ts"

const event = (id: string, text: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: "message.part.updated",
  properties: { sessionID: "ses_hostile", part: { type: "text", messageID: "msg_h", text }, ...extra }
})

layer(testServerLayer(), { excludeTestServices: true })("bodies PostgreSQL's jsonb cannot take", (it) => {
  it.effect("U+0000 and lone surrogates, in values and keys, are stored as U+FFFD: 202, the event kept", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = `secret-${uniqueTenant("hostile")}`
      const body = JSON.stringify({
        events: [
          event("evt_hostile_nul", "before\u0000after"),
          event("evt_hostile_lone", "high \ud800 low \udc00 pair \ud83d\ude00", { "key\u0000\udfff": "x" })
        ]
      })
      const response = yield* request(base, "POST", "/v1/opencode/events", body, { authorization: `Bearer ${secret}` })
      expect(response).toMatchObject({ status: 202, body: { accepted: 2 } })
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ event_id: string; payload: any }>`
        select event_id, payload from events where tenant = ${tenantOf(secret)} order by position`
      expect(rows.map((row) => [row.event_id, row.payload.properties.part.text])).toEqual([
        ["evt_hostile_nul", "before\ufffdafter"],
        ["evt_hostile_lone", "high \ufffd low \ufffd pair \ud83d\ude00"]
      ])
      expect(Object.keys(rows[1]!.payload.properties)).toContain("key\ufffd\ufffd")
    }))

  it.effect(`JSON nested deeper than ${MAX_JSON_DEPTH} levels is a 400 naming where, and stores nothing`, () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = `secret-${uniqueTenant("deep")}`
      const deep = `${"[".repeat(5000)}${"]".repeat(5000)}`
      const body = `{"events":[{"id":"evt_deep","type":"message.part.updated","properties":{"sessionID":"ses_deep","part":${deep}}}]}`
      const response = yield* request(base, "POST", "/v1/opencode/events", body, { authorization: `Bearer ${secret}` })
      expect(response.status).toBe(400)
      expect(response.body.ok).toBe(false)
      expect(response.body.error).toMatch(new RegExp(`^events\\[0\\]\\.properties\\.part(\\[0\\])+: nested deeper than ${MAX_JSON_DEPTH} levels$`))
      const sql = yield* SqlClient.SqlClient
      expect(yield* sql`select 1 from events where tenant = ${tenantOf(secret)}`).toEqual([])
    }))

  it.effect("seenAt outside whole epoch milliseconds is a 400 naming it; far ahead is clamped, not refused", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = `secret-${uniqueTenant("seenat")}`
      const auth = { authorization: `Bearer ${secret}` }
      const post = (seenAt: unknown) =>
        request(base, "POST", "/v1/opencode/events", JSON.stringify({ events: [{ ...event("evt_seen_ok", "fine"), seenAt: 1_700_000_000_000 }, { ...event("evt_seen", "x"), seenAt }] }), auth)
      for (const bad of [1_700_000_000_000.5, 0, -5, "1700000000000", 8.64e15 + 1, 1e300, true]) {
        const response = yield* post(bad)
        expect([bad, response.status, response.body.error]).toEqual([
          bad,
          400,
          "events[1].seenAt: must be whole epoch milliseconds from 1 to 8640000000000000"
        ])
      }
      const sql = yield* SqlClient.SqlClient
      expect(yield* sql`select 1 from events where tenant = ${tenantOf(secret)}`).toEqual([])
      const ahead = yield* post(8.64e15)
      expect(ahead).toMatchObject({ status: 202, body: { accepted: 2 } })
      const [row] = yield* sql<{ source_time: string; meta: any }>`
        select (extract(epoch from source_time) * 1000)::text as source_time, meta from events where tenant = ${tenantOf(secret)} and event_id = 'evt_seen'`
      expect(row!.meta.clampedSeenAt).toBe(8.64e15)
      expect(Math.abs(Number(row!.source_time) - Date.now())).toBeLessThan(60_000)
    }))

  it.effect("a session id in the path that PostgreSQL cannot compare is a 400 naming it, on every session route", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const auth = { authorization: `Bearer secret-${uniqueTenant("path")}` }
      const error = "sessionID: must be a non-empty string of at most 200 characters, without U+0000 or unpaired surrogates"
      for (const segment of ["a%00b", "%00"]) {
        for (const [method, path] of [["GET", `/v1/sessions/${segment}`], ["GET", `/v1/sessions/${segment}/timeline`], ["POST", `/v1/sessions/${segment}/replay`]] as const) {
          const response = yield* request(base, method, path, undefined, auth)
          expect([path, response.status, response.body.error]).toEqual([path, 400, error])
        }
      }
    }))
})

describe("a defect in a handler", () => {
  it.effect("is a JSON 500 and a log line naming the route", () =>
    Effect.gen(function*() {
      const logged: Array<string> = []
      const app = jsonDefects(Effect.die(new Error("a bug")))
      const response = yield* app.pipe(
        Effect.provideService(HttpServerRequest.HttpServerRequest, HttpServerRequest.fromWeb(new Request("http://relay/v1/boom", { method: "POST" }))),
        Effect.provide(Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logged.push(String(Array.isArray(message) ? message[0] : message)))))
      )
      expect(response.status).toBe(500)
      const web = HttpServerResponse.toWeb(response)
      expect(web.headers.get("content-type")).toBe("application/json")
      expect(yield* Effect.promise(() => web.json())).toEqual({ ok: false, error: "internal error: the relay logged it" })
      expect(logged).toEqual(["internal error (a bug) answering POST /v1/boom"])
    }))
})
