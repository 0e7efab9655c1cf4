import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { initialSessionState, SessionState } from "../../domain/SessionState.ts"
import { tenantOf } from "../../src/http/Authentication.ts"
import { uniqueTenant } from "../support/database.ts"
import { request, RelayUrl, testServerLayer } from "../support/server.ts"

const encode = Schema.encodeSync(SessionState)

layer(testServerLayer(), { excludeTestServices: true })("GET /v1/sessions pages", (it) => {
  it.effect("newest first, by cursor, every session exactly once, ties broken by id; bad cursor and limit are 400s naming them", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = `secret-${uniqueTenant("paging")}`
      const auth = { authorization: `Bearer ${secret}` }
      const sql = yield* SqlClient.SqlClient
      // 7 sessions; three share one updated_at to the microsecond.
      const times = ["2026-01-01 10:00:00.000001+00", "2026-01-01 10:00:00.000002+00", "2026-01-01 10:00:00.000002+00", "2026-01-01 10:00:00.000002+00", "2026-01-01 11:00:00+00", "2026-01-02 09:30:00.5+00", "2026-01-03 00:00:00+00"]
      for (const [i, time] of times.entries()) {
        const id = `ses_page_${i}`
        yield* sql`insert into session_states (tenant, session_id, state, last_position, updated_at)
                   values (${tenantOf(secret)}, ${id}, ${JSON.stringify(encode(initialSessionState(id)))}::jsonb, ${i + 1}, ${time}::timestamptz)`
      }
      const pages: Array<Array<string>> = []
      let cursor: string | null = null
      do {
        const response: { status: number; body: any } = yield* request(base, "GET", `/v1/sessions?limit=3${cursor === null ? "" : `&cursor=${cursor}`}`, undefined, auth)
        expect(response.status).toBe(200)
        pages.push(response.body.sessions.map((s: { sessionID: string }) => s.sessionID))
        cursor = response.body.nextCursor
      } while (cursor !== null)
      expect(pages).toEqual([
        ["ses_page_6", "ses_page_5", "ses_page_4"],
        ["ses_page_3", "ses_page_2", "ses_page_1"],
        ["ses_page_0"]
      ])
      // A page of exactly what is left has no next cursor.
      const all = yield* request(base, "GET", "/v1/sessions?limit=7", undefined, auth)
      expect(all.body.nextCursor).toBe(null)
      expect(all.body.sessions).toHaveLength(7)

      expect(yield* request(base, "GET", "/v1/sessions?cursor=nonsense", undefined, auth)).toMatchObject({
        status: 400,
        body: { ok: false, error: "cursor: not a cursor this relay gave (pass nextCursor as it is)" }
      })
      for (const limit of ["0", "1001", "2.5", "ten"]) {
        expect(yield* request(base, "GET", `/v1/sessions?limit=${limit}`, undefined, auth)).toMatchObject({
          status: 400,
          body: { ok: false, error: "limit: must be an integer from 1 to 1000" }
        })
      }
    }))
})
