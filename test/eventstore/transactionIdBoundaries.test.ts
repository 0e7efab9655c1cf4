/**
 * The log is read in (transaction id, position) order compared as xid8, also
 * where the transaction id crosses a digit boundary (999 -> 1000, 9999 ->
 * 10000): as text, '1000' sorts before '741'. A cluster of its own, so its
 * transaction ids start low and are burned exactly up to each boundary.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Scope } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { pgLayer } from "../../src/db/Database.ts"
import { startCluster } from "../../src/db/EmbeddedPostgres.ts"
import { runMigrations } from "../../src/db/Migrator.ts"
import { logHead } from "../../src/eventstore/logHead.ts"
import { NotificationsLive } from "../../src/server/RelayLive.ts"
import { Projector } from "../../src/projector/Projector.ts"
import { rebuildProjections } from "../../src/projector/rebuild.ts"
import { readSessionLog } from "../../src/replay/Repo.ts"

const TENANT = "t-xid"
const SESSIONS = 30
/** Larger than every batch (the live projector reads 500, rebuild 1000). */
const BACKLOG = 1300

/** One OpenCode-shaped event per row; sessions interleave, each runs turns of busy, text, idle. */
const eventRows = (round: string, offset: number) =>
  Array.from({ length: BACKLOG }, (_, i) => {
    const n = offset + i
    const session = `ses_${n % SESSIONS}`
    const step = Math.floor(n / SESSIONS) % 4
    const id = `evt_${(1_795_000_000_000 + n).toString(16).padStart(12, "0")}${round}${i.toString().padStart(8, "0")}`
    const properties = step === 0
      ? { sessionID: session, status: { type: "busy" } }
      : step === 3
      ? { sessionID: session, status: { type: "idle" } }
      : { sessionID: session, part: { type: "text", messageID: "msg_a", text: `step ${n}` } }
    const type = step === 0 || step === 3 ? "session.status" : "message.part.updated"
    return {
      tenant: TENANT,
      session_id: session,
      event_id: id,
      type,
      payload: { id, type, properties },
      source_time: new Date(1_795_000_000_000 + n).toISOString()
    }
  })

const currentXid = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ xid: string }>`select pg_current_xact_id()::text as xid`
  return BigInt(rows[0]!.xid)
})

/** Burns transaction ids (one committed transaction each) until the next one is `next`. */
const burnUntil = (next: bigint) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const now = yield* currentXid
    const n = Number(next - now - 1n)
    if (n > 0) yield* sql.unsafe(`call burn_xids(${n})`)
  })

/** Appends every row in a transaction of its own, so the backlog spans as many transaction ids. */
const appendEach = (rows: ReturnType<typeof eventRows>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`call append_each(${JSON.stringify(rows)}::jsonb)`
  })

const snapshot = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const states = yield* sql<{ session_id: string; state: unknown }>`select session_id, state from session_states order by session_id`
  const results = yield* sql<{ position: string; n: number }>`
    select position::text as position, count(*)::int as n from event_results group by position`
  const steps = yield* sql<{ n: number }>`select count(*)::int as n from session_steps`
  return { states, folded: results.length, foldedTwice: results.filter((row) => row.n !== 1).length, steps: steps[0]!.n }
})

const caughtUp = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const head = yield* logHead
  for (let i = 0; i < 600; i++) {
    const rows = yield* sql<{ position: string }>`select position::text as position from projector_checkpoints where projector = 'sessions'`
    if (rows[0] !== undefined && BigInt(rows[0].position) >= head) return
    yield* Effect.sleep("50 millis")
  }
  return yield* Effect.die(new Error("projector did not catch up"))
})

describe("transaction ids across digit boundaries", () => {
  it.live("the projector (also after a restart with a backlog), rebuild (also run again after an interruption) and replay read every event once, in commit order", () =>
    Effect.gen(function*() {
      const dir = yield* Effect.promise(() => fs.mkdtemp(path.join(os.tmpdir(), "pushline-xid-")))
      yield* Effect.promise(() => fs.chmod(dir, 0o755))
      const { cluster, stop } = yield* Effect.promise(() => startCluster({ dataDir: dir, fsync: false }))
      yield* Effect.addFinalizer(() => Effect.promise(() => stop().then(() => fs.rm(dir, { recursive: true, force: true }))))
      const db = Layer.effectDiscard(runMigrations()).pipe(Layer.provideMerge(pgLayer(cluster.url, 5)))
      const run = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) => Effect.provide(effect, db)

      yield* run(Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql.unsafe(`
          create procedure burn_xids(n int) language plpgsql as $$
          begin for i in 1..n loop perform pg_current_xact_id(); commit; end loop; end $$`)
        yield* sql.unsafe(`
          create procedure append_each(rows jsonb) language plpgsql as $$
          declare r jsonb;
          begin
            for r in select * from jsonb_array_elements(rows) loop
              insert into events (tenant, session_id, event_id, type, payload, source_time)
              values (r->>'tenant', r->>'session_id', r->>'event_id', r->>'type', r->'payload', (r->>'source_time')::timestamptz);
              commit;
            end loop;
          end $$`)
      }))

      // The first backlog straddles 999 -> 1000 (a new cluster is in the 700s), before any projector runs.
      expect(yield* run(currentXid)).toBeLessThan(1000n)
      const first = eventRows("a", 0)
      yield* run(appendEach(first))
      const xids = yield* run(Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql<{ lo: string; hi: string }>`select min(transaction_id)::text as lo, max(transaction_id)::text as hi from events`))
      expect(BigInt(xids[0]!.lo)).toBeLessThan(1000n)
      expect(BigInt(xids[0]!.hi)).toBeGreaterThanOrEqual(1000n)

      const relay = Projector.layer.pipe(Layer.provide(NotificationsLive), Layer.provide(pgLayer(cluster.url, 3)))
      const firstRelay = yield* Scope.make()
      yield* Layer.buildWithScope(relay, firstRelay)
      yield* run(caughtUp)
      const live1 = yield* run(snapshot)
      expect(live1.folded).toBe(BACKLOG)
      expect(live1.foldedTwice).toBe(0)
      yield* Scope.close(firstRelay, Exit.void)

      // The relay is down while a second backlog straddles 9999 -> 10000; it restarts behind it.
      yield* run(burnUntil(10_000n - BigInt(BACKLOG) / 2n))
      const second = eventRows("b", BACKLOG)
      yield* run(appendEach(second))
      const secondRelay = yield* Scope.make()
      yield* Layer.buildWithScope(relay, secondRelay)
      yield* run(caughtUp)
      const live = yield* run(snapshot)
      yield* Scope.close(secondRelay, Exit.void)
      expect(live.folded).toBe(2 * BACKLOG)
      expect(live.foldedTwice).toBe(0)
      expect(live.steps).toBe(2 * BACKLOG)
      // Every session ran its turns to the end: turn count and status as the events say.
      const turns = (2 * BACKLOG) / SESSIONS / 4
      for (const row of live.states) {
        const state = row.state as { turn: number; status: string }
        expect([row.session_id, state.turn]).toEqual([row.session_id, Math.ceil(turns)])
      }

      // A rebuild interrupted half-way (after its first batch) leaves a half-folded log; running it again is safe.
      const interrupted = yield* rebuildProjections(() => Effect.interrupt).pipe(Effect.provide(db), Effect.exit)
      expect(Exit.isInterrupted(interrupted)).toBe(true)
      expect((yield* run(snapshot)).folded).toBe(1000)

      // Rebuild folds all of it again and reaches the very same states.
      const rebuilt = yield* rebuildProjections().pipe(Effect.provide(db))
      expect(rebuilt.folded).toBe(2 * BACKLOG)
      expect(yield* run(snapshot)).toEqual(live)

      // Replay reads a session's log in the same (commit) order as the projector.
      const log = yield* run(readSessionLog(TENANT, "ses_7"))
      const expected = [...first, ...second].filter((row) => row.session_id === "ses_7").map((row) => row.event_id)
      expect(log.map((event) => event.eventId)).toEqual(expected)
    }).pipe(Effect.scoped), 180_000)
})
