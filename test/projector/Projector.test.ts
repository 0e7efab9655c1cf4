import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Scope, Exit } from "effect"
import type { LoggedEvent } from "../../domain/LoggedEvent.ts"
import { pgLayer } from "../../src/db/Database.ts"
import { runMigrations } from "../../src/db/Migrator.ts"
import { appendEvents } from "../../src/eventstore/appendEvents.ts"
import { logHead } from "../../src/eventstore/logHead.ts"
import { NotificationsLive } from "../../src/server/RelayLive.ts"
import { Projector } from "../../src/projector/Projector.ts"
import { Either } from "effect"
import type { Folds } from "../../projections/FoldBatch.ts"
import { rebuildWith } from "../../src/projector/rebuild.ts"
import { createFreshDatabase } from "../support/database.ts"

/** A fold simple enough to check by hand: counts events per session. */
interface Count { readonly count: number; readonly last: string | null }
interface Devices { readonly devices: number }
const countingFolds: Folds<Count, Devices> = {
  sessionsOf: (event: LoggedEvent) => (event.sessionId === "" ? [] : [event.sessionId]),
  initialSession: () => ({ count: 0, last: null }),
  applySession: (state, event) =>
    event.type === "noise"
      ? { state, applied: false, reason: "noise changes nothing" }
      : { state: { count: state.count + 1, last: event.eventId }, applied: true, reason: null },
  pacedByThrottle: () => false,
  claimsFirst: () => false,
  shownState: (state) => ({ count: state.count }),
  touchesRegistrations: (event: LoggedEvent) => event.type === "device",
  initialRegistrations: () => ({ devices: 0 }),
  applyRegistrations: (state) => ({ state: { devices: state.devices + 1 }, applied: true, reason: null }),
  decodeSession: (stored) => Either.right(stored as Count),
  decodeRegistrations: (stored) => Either.right(stored as Devices)
}

const events = (prefix: string, n: number, sessions = 5) =>
  Array.from({ length: n }, (_, i) => ({
    tenant: "t1",
    sessionId: i % 7 === 6 ? "" : `s${i % sessions}`,
    eventId: `${prefix}_${i}`,
    type: i % 7 === 6 ? "device" : i % 11 === 10 ? "noise" : "tick",
    payload: {},
    meta: {},
    sourceTime: 1_795_000_000_000 + i
  }))

const expectedCounts = (all: ReturnType<typeof events>) => {
  const counts: Record<string, number> = {}
  for (const e of all) if (e.sessionId !== "" && e.type !== "noise") counts[e.sessionId] = (counts[e.sessionId] ?? 0) + 1
  return counts
}

const snapshot = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const sessions = yield* sql<{ session_id: string; state: any }>`select session_id, state from session_states order by session_id`
  const registrations = yield* sql<{ tenant: string; state: any }>`select tenant, state from tenant_registrations`
  const outcomes = yield* sql<{ applied: boolean; reason: string | null; n: number }>`
    select applied, reason, count(*)::int as n from event_results group by applied, reason order by applied`
  return { sessions, registrations, outcomes }
})

const caughtUp = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const head = yield* logHead
  for (let i = 0; i < 200; i++) {
    const rows = yield* sql<{ position: string }>`select position::text from projector_checkpoints where projector = 'sessions'`
    if (rows[0] !== undefined && BigInt(rows[0].position) >= head) return
    yield* Effect.sleep("50 millis")
  }
  return yield* Effect.die(new Error("projector did not catch up"))
})

const database = (url: string) => Layer.effectDiscard(runMigrations()).pipe(Layer.provideMerge(pgLayer(url, 5)))

describe("Projector", () => {
  it.live("folds every event once, commits state with its checkpoint, and a rebuild reaches the same state", () =>
    Effect.gen(function*() {
      const url = yield* Effect.promise(() => createFreshDatabase("projector"))
      const db = database(url)
      const first = events("a", 700)
      yield* appendEvents(first).pipe(Effect.provide(db))
      yield* Effect.gen(function*() {
        yield* caughtUp
        const second = events("b", 300)
        yield* appendEvents(second)
        yield* caughtUp
        const state = yield* snapshot
        const counts = expectedCounts([...first, ...second])
        expect(Object.fromEntries(state.sessions.map((row) => [row.session_id, row.state.count]))).toEqual(counts)
        expect(state.registrations).toEqual([{ tenant: "t1", state: { devices: 142 } }])
        const noise = [...first, ...second].filter((e) => e.type === "noise").length
        expect(state.outcomes).toEqual([
          { applied: false, reason: "noise changes nothing", n: noise },
          { applied: true, reason: null, n: 1000 - noise }
        ])
        const sql = yield* SqlClient.SqlClient
        const due = yield* sql<{ n: number }>`select count(*)::int as n from sender_sessions where due_at is not null`
        expect(due[0]!.n).toBe(5)
        return state
      }).pipe(Effect.provide(Projector.layerWith(countingFolds).pipe(Layer.provide(NotificationsLive), Layer.provideMerge(db))))

      // The relay is gone; rebuild from position 0 with the same code.
      const before = yield* snapshot.pipe(Effect.provide(db))
      const rebuilt = yield* rebuildWith(countingFolds).pipe(Effect.provide(db))
      expect(rebuilt.folded).toBe(1000)
      expect(yield* snapshot.pipe(Effect.provide(db))).toEqual(before)
    }), 60_000)

  it.live("two relays on one database never fold the same events twice, and the other takes over", () =>
    Effect.gen(function*() {
      const url = yield* Effect.promise(() => createFreshDatabase("projector2"))
      const db = database(url)
      yield* Effect.provide(Effect.void, db) // migrated before the relays start
      const relay = () => Projector.layerWith(countingFolds).pipe(Layer.provide(NotificationsLive), Layer.provide(pgLayer(url, 3)))
      const scopeA = yield* Scope.make()
      const scopeB = yield* Scope.make()
      yield* Layer.buildWithScope(relay(), scopeA)
      yield* Layer.buildWithScope(relay(), scopeB)

      const all: Array<ReturnType<typeof events>[number]> = []
      for (let round = 0; round < 5; round++) {
        const batch = events(`r${round}`, 200)
        all.push(...batch)
        yield* appendEvents(batch).pipe(Effect.provide(db))
      }
      yield* caughtUp.pipe(Effect.provide(db))
      // Whoever leads, stop it: both scopes are closed in turn, the survivor carries on.
      yield* Scope.close(scopeA, Exit.void)
      const more = events("after", 150)
      all.push(...more)
      yield* appendEvents(more).pipe(Effect.provide(db))
      yield* caughtUp.pipe(Effect.provide(db))
      const state = yield* snapshot.pipe(Effect.provide(db))
      expect(Object.fromEntries(state.sessions.map((row) => [row.session_id, row.state.count]))).toEqual(expectedCounts(all))
      yield* Scope.close(scopeB, Exit.void)
    }), 60_000)
})
