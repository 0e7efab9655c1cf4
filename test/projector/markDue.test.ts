import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { initialMemory } from "../../domain/PlannerMemory.ts"
import { Effect, Layer } from "effect"
import type { NewEvent } from "../../domain/LoggedEvent.ts"
import { pgLayer } from "../../src/db/Database.ts"
import { runMigrations } from "../../src/db/Migrator.ts"
import { claimDueSessions } from "../../src/sender/claimDueSessions.ts"
import { recordOutcomes } from "../../src/sender/recordOutcomes.ts"
import { createFreshDatabase } from "../support/database.ts"
import { projectNew } from "../support/projectNew.ts"

// A database of its own: the projector here folds the whole log.
const DueDatabase = Layer.unwrapEffect(
  Effect.promise(() => createFreshDatabase("mark-due")).pipe(
    Effect.map((url) => Layer.effectDiscard(runMigrations()).pipe(Layer.provideMerge(pgLayer(url, 5))))
  )
)

let seq = 0
const opencode = (type: string, properties: Record<string, unknown>): NewEvent => {
  seq++
  const eventId = `evt_due_${seq}`
  return { tenant: "t-due", sessionId: "ses_due", eventId, type, payload: { id: eventId, type, properties }, meta: {}, sourceTime: 1_795_000_000_000 + seq * 1000 }
}
const busy = () => opencode("session.status", { sessionID: "ses_due", status: { type: "busy" } })
const text = (t: string) => opencode("message.part.updated", { sessionID: "ses_due", part: { id: `prt_${seq}`, messageID: "msg_a", sessionID: "ses_due", type: "text", text: t } })
const idle = () => opencode("session.status", { sessionID: "ses_due", status: { type: "idle" } })

const project = projectNew

const due = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* sql<{ in_ms: number; version: string; status: string; lease_ms: number }>`
    select (extract(epoch from (s.due_at - now())) * 1000)::float8 as in_ms, s.version::text as version, st.state->>'status' as status,
           coalesce(extract(epoch from (s.leased_until - now())) * 1000, 0)::float8 as lease_ms
    from sender_sessions s join session_states st using (tenant, session_id)
    where s.tenant = 't-due' and s.session_id = 'ses_due'`
  return row!
})

/** The sender, having sent, waits for its throttle window: due in 10 s. */
const waitForWindow = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql`update sender_sessions set due_at = now() + interval '10 seconds' where tenant = 't-due' and session_id = 'ses_due'`)

layer(DueDatabase, { excludeTestServices: true })("marking sessions due", (it) => {
  it.effect("progress keeps a session's pending time; a sender releasing an older state, transitions and first changes make it due now", () =>
    Effect.gen(function*() {
      yield* project(busy())
      const started = yield* due
      expect(started.status).toBe("working")
      expect(started.in_ms).toBeLessThanOrEqual(0)

      yield* waitForWindow
      yield* project(text("step 1"))
      const paced = yield* due
      expect(paced.in_ms).toBeGreaterThan(9_000)
      expect(paced.version).toBe(started.version) // not even written

      // Nothing pending (the sender cleared due_at): progress is due now.
      yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`update sender_sessions set due_at = null where session_id = 'ses_due'`)
      yield* project(text("step 2"))
      expect((yield* due).in_ms).toBeLessThanOrEqual(0)

      // A sender holds the lease, planned on the state before a paced change: its release
      // leaves the session due now, not at the time it planned for.
      yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`update sender_sessions set due_at = now() where session_id = 'ses_due'`)
      const [claim] = yield* claimDueSessions(10, 30)
      const plannedOn = (claim!.session as { lastPosition: string }).lastPosition
      expect((yield* due).lease_ms).toBeGreaterThan(29_000)
      yield* project(text("step 3"))
      expect(yield* claimDueSessions(10, 30)).toEqual([]) // still leased
      yield* recordOutcomes([{ claim: claim!, run: null, attempts: [], memory: initialMemory(), nextDueAt: Date.now() + 10_000, settled: true, plannedOn }])
      expect((yield* due).in_ms).toBeLessThanOrEqual(0)
      // Planned on the newest state, the release keeps the time asked for.
      const [again] = yield* claimDueSessions(10, 30)
      yield* recordOutcomes([{ claim: again!, run: null, attempts: [], memory: initialMemory(), nextDueAt: Date.now() + 10_000, settled: true, plannedOn: (again!.session as { lastPosition: string }).lastPosition }])
      expect((yield* due).in_ms).toBeGreaterThan(9_000)

      yield* project(idle())
      const ended = yield* due
      expect(ended.status).toBe("complete")
      expect(ended.in_ms).toBeLessThanOrEqual(0)
    }))
})
