/**
 * A stored row that does not decode (another shape, another version) fails
 * loudly: the projector skips the session's events saying why and leaves the
 * row as it is; the sender records a failed run instead of planning on it.
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type { NewEvent } from "../../domain/LoggedEvent.ts"
import { pgLayer } from "../../src/db/Database.ts"
import { runMigrations } from "../../src/db/Migrator.ts"
import { claimDueSessions } from "../../src/sender/claimDueSessions.ts"
import { createFreshDatabase } from "../support/database.ts"
import { projectNew } from "../support/projectNew.ts"

const Database = Layer.unwrapEffect(
  Effect.promise(() => createFreshDatabase("undecodable")).pipe(
    Effect.map((url) => Layer.effectDiscard(runMigrations()).pipe(Layer.provideMerge(pgLayer(url, 5))))
  )
)

let seq = 0
const event = (sessionId: string, type: string, properties: Record<string, unknown>): NewEvent => {
  seq++
  const eventId = `evt_undecodable_${seq}`
  return { tenant: "t-bad", sessionId, eventId, type, payload: { id: eventId, type, properties: { sessionID: sessionId, ...properties } }, meta: {}, sourceTime: 1_795_000_000_000 + seq * 1000 }
}
const busy = (sessionId: string) => event(sessionId, "session.status", { status: { type: "busy" } })
const text = (sessionId: string, t: string) => event(sessionId, "message.part.updated", { part: { type: "text", messageID: "msg_a", text: t } })

const project = projectNew

layer(Database, { excludeTestServices: true })("stored rows that do not decode", (it) => {
  it.effect("the projector skips the session with the reason and leaves its row; other sessions fold on", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* project(busy("ses_bad"), busy("ses_good"))
      // A row of another version, as an older or newer relay might have left it.
      yield* sql`update session_states set state = jsonb_set(state, '{version}', '7') where session_id = 'ses_bad'`
      const [before] = yield* sql<{ state: unknown }>`select state from session_states where session_id = 'ses_bad'`
      yield* project(text("ses_bad", "one"), text("ses_good", "two"))

      const steps = yield* sql<{ session_id: string; applied: boolean; reason: string | null }>`
        select session_id, applied, reason from session_steps order by position desc limit 2`
      const bad = steps.find((s) => s.session_id === "ses_bad")!
      expect(bad.applied).toBe(false)
      expect(bad.reason).toMatch(/^skipped: the session's stored state does not decode: .*version/s)
      expect(steps.find((s) => s.session_id === "ses_good")).toEqual({ session_id: "ses_good", applied: true, reason: null })
      const [after] = yield* sql<{ state: unknown }>`select state from session_states where session_id = 'ses_bad'`
      expect(after).toEqual(before)
      const [good] = yield* sql<{ last: string }>`select state->>'lastMessage' as last from session_states where session_id = 'ses_good'`
      expect(good!.last).toBe("two")
    }))

  it.effect("the sender's claim says which row does not decode, and plans nothing on it", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* project(busy("ses_memory"))
      yield* sql`update sender_sessions set memory = '{"targets": "not a record"}'::jsonb, due_at = now() where session_id = 'ses_memory'`
      const claims = yield* claimDueSessions(100, 30)
      const claim = claims.find((c) => c.sessionId === "ses_memory")!
      expect(claim.memory).toBe(null)
      expect(claim.undecodable).toMatch(/^sender memory does not decode: /)
      // The session of the first test, due since its first event: its state is the bad row.
      const bad = claims.find((c) => c.sessionId === "ses_bad")!
      expect(bad.session).toBe(null)
      expect(bad.undecodable).toMatch(/^session state does not decode: /)
    }))
})
