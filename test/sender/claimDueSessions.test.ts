import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import pg from "pg"
import { initialMemory } from "../../domain/PlannerMemory.ts"
import { Checkpoint } from "../../src/eventstore/readAfter.ts"
import { writeProjectedBatch } from "../../src/projector/writeProjectedBatch.ts"
import { claimDueSessions, type ClaimedSession } from "../../src/sender/claimDueSessions.ts"
import { SENDER_LOCK_CLASS } from "../../src/sender/SenderInstance.ts"
import { recordOutcomes, type SessionOutcome } from "../../src/sender/recordOutcomes.ts"
import { currentDatabaseUrl, freshDatabaseLayer } from "../support/database.ts"

/** The sender finished with `claim`: nothing sent, next due as given. */
const handled = (claim: ClaimedSession, fields: Partial<SessionOutcome> = {}): SessionOutcome => ({
  claim, run: null, attempts: [], memory: initialMemory(), nextDueAt: null, settled: true, plannedOn: null, ...fields
})

/** The only session in sender_sessions, due now. */
const onlyDue = (tenant: string, sessionId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.zipRight(
      sql`delete from sender_sessions`,
      sql`insert into sender_sessions (tenant, session_id, due_at, version) values (${tenant}, ${sessionId}, now(), 1)`
    ))

// A database of its own: claims take any due session.
layer(freshDatabaseLayer("claims"), { excludeTestServices: true })("claiming due sessions", (it) => {
  it.effect("transitions are claimed before older progress; a handled session goes back to the common queue", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`
        insert into sender_sessions (tenant, session_id, due_at, claim_priority, version) values
          ('t', 'ses_progress_old', now() - interval '10 seconds', 0, 1),
          ('t', 'ses_progress_new', now() - interval '5 seconds', 0, 1),
          ('t', 'ses_end', now() - interval '1 second', 1, 1),
          ('t', 'ses_later', now() + interval '1 hour', 1, 1)`

      const first = yield* claimDueSessions(2, 30)
      expect(first.map((c) => c.sessionId)).toEqual(["ses_end", "ses_progress_old"])
      const second = yield* claimDueSessions(10, 30)
      expect(second.map((c) => c.sessionId)).toEqual(["ses_progress_new"]) // not the one due in an hour
      expect(yield* claimDueSessions(10, 30)).toEqual([]) // leased

      const dueAgain = { nextDueAt: Date.now() - 1000 }
      yield* recordOutcomes([handled(first[0]!, dueAgain), handled(first[1]!, dueAgain)])
      const rows = yield* sql<{ session_id: string; claim_priority: number }>`
        select session_id, claim_priority from sender_sessions where session_id in ('ses_end', 'ses_progress_old') order by session_id`
      expect(rows).toEqual([{ session_id: "ses_end", claim_priority: 0 }, { session_id: "ses_progress_old", claim_priority: 0 }])

      // Marked again (by the projector: version bumped) while claimed: it keeps its priority.
      yield* sql`update sender_sessions set claim_priority = 1, version = version + 1, due_at = now() where session_id = 'ses_end'`
      const [again] = yield* claimDueSessions(1, 30)
      expect(again?.sessionId).toBe("ses_end")
      yield* sql`update sender_sessions set version = version + 1 where session_id = 'ses_end'`
      yield* recordOutcomes([handled(again!, dueAgain)])
      const [kept] = yield* sql<{ claim_priority: number; due: boolean }>`
        select claim_priority, due_at <= now() as due from sender_sessions where session_id = 'ses_end'`
      expect(kept).toEqual({ claim_priority: 1, due: true })
    }))

  it.effect("a lease whose relay died (its instance lock free) is taken at once; a living relay's is not", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`delete from sender_sessions`
      yield* sql`
        insert into sender_sessions (tenant, session_id, due_at, version, leased_until, leased_by) values
          ('t', 'ses_dead_holder', now(), 1, now() + interval '1 hour', 4242),
          ('t', 'ses_live_holder', now(), 1, now() + interval '1 hour', 5151),
          ('t', 'ses_old_lease', now(), 1, now() + interval '1 hour', null)`
      // Another relay, alive: its own connection holds its instance lock.
      const other = new pg.Client({ connectionString: yield* currentDatabaseUrl })
      yield* Effect.promise(() => other.connect().then(() => other.query(`select pg_advisory_lock(${SENDER_LOCK_CLASS}, 5151)`)))
      const claimed = yield* claimDueSessions(10, 30, 7)
      expect(claimed.map((c) => c.sessionId)).toEqual(["ses_dead_holder"])
      const [row] = yield* sql<{ leased_by: number }>`select leased_by from sender_sessions where session_id = 'ses_dead_holder'`
      expect(row?.leased_by).toBe(7)
      // Our own leases stay ours until recorded.
      expect(yield* claimDueSessions(10, 30, 7)).toEqual([])

      // The other relay dies: its connection closes and its lock is free.
      yield* Effect.promise(() => other.end())
      expect((yield* claimDueSessions(10, 30, 7)).map((c) => c.sessionId)).toEqual(["ses_live_holder"])
      // A lease taken before leases named their holder still runs until it expires.
      expect(yield* sql`select 1 from sender_sessions where session_id = 'ses_old_lease' and leased_by is null and leased_until > now()`).toHaveLength(1)
    }))

  it.effect("a session being handled is not claimed again when a transition lands, only after its release", () =>
    Effect.gen(function*() {
      yield* onlyDue("t2", "ses_busy")
      const [held] = yield* claimDueSessions(10, 30)
      expect(held?.sessionId).toBe("ses_busy")

      // The projector marks it due now (the turn completed) while the first claim is in flight.
      yield* writeProjectedBatch("claims-test", Checkpoint.start, new Checkpoint({ transactionId: "5", position: 5n }), {
        sessions: [{ tenant: "t2", session_id: "ses_busy", state: { status: "complete" }, last_position: "5", urgent: true, claim_priority: 1 }],
        tenants: [], outcomes: [], steps: []
      }, { markDue: true })
      // Two handlers of one session could deliver its pushes out of order.
      expect(yield* claimDueSessions(10, 30)).toEqual([])

      yield* recordOutcomes([handled(held!, { plannedOn: "1" })])
      const [next] = yield* claimDueSessions(10, 30)
      expect(next?.sessionId).toBe("ses_busy") // marked again meanwhile: due at once after the release
      expect(next?.version).not.toBe(held?.version)
    }))

  it.effect("a release after the lease expired and another claim took the session leaves the new holder's lease and memory", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* onlyDue("t3", "ses_slow")
      const [slow] = yield* claimDueSessions(10, 30)
      // The slow holder outlives its lease; another relay claims the session.
      yield* sql`update sender_sessions set leased_until = now() - interval '1 second' where session_id = 'ses_slow'`
      const [taken] = yield* claimDueSessions(10, 30)
      expect(taken?.sessionId).toBe("ses_slow")
      expect(taken?.leasedUntil).not.toBe(slow?.leasedUntil)

      yield* recordOutcomes([handled(slow!, { memory: { ...initialMemory(), alertsDone: 7 } })])
      const [row] = yield* sql<{ leased: boolean; memory: unknown }>`
        select leased_until > now() as leased, memory from sender_sessions where session_id = 'ses_slow'`
      expect(row).toEqual({ leased: true, memory: {} })

      yield* recordOutcomes([handled(taken!, { memory: { ...initialMemory(), alertsDone: 9 } })])
      const [released] = yield* sql<{ leased_until: string | null; memory: unknown }>`
        select leased_until, memory from sender_sessions where session_id = 'ses_slow'`
      expect(released).toEqual({ leased_until: null, memory: { ...initialMemory(), alertsDone: 9 } })
    }))
})
