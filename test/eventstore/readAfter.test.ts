import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import pg from "pg"
import type { NewEvent } from "../../domain/LoggedEvent.ts"
import { appendEvents } from "../../src/eventstore/appendEvents.ts"
import { Checkpoint, readAfter } from "../../src/eventstore/readAfter.ts"
import { createFreshDatabase } from "../support/database.ts"
import { pgLayer } from "../../src/db/Database.ts"
import { runMigrations } from "../../src/db/Migrator.ts"
import { Layer } from "effect"

const event = (eventId: string): NewEvent => ({
  tenant: "tenant-reader",
  sessionId: "ses_r",
  eventId,
  type: "session.status",
  payload: { id: eventId },
  meta: {},
  sourceTime: 1_795_000_000_000
})

const insertSql = `insert into events (tenant, session_id, event_id, type, payload, source_time)
  values ('tenant-reader', 'ses_r', $1, 'session.status', '{}'::jsonb, now()) returning position::text`

// One fresh database for this file: the reader sees the whole log.
const ReaderDatabase = Layer.unwrapEffect(
  Effect.promise(() => createFreshDatabase("reader")).pipe(
    Effect.map((url) =>
      Layer.merge(
        Layer.effectDiscard(runMigrations()).pipe(Layer.provideMerge(pgLayer(url, 5))),
        Layer.succeed(DatabaseUrl, url)
      )
    )
  )
)

import { Context } from "effect"
class DatabaseUrl extends Context.Tag("test/DatabaseUrl")<DatabaseUrl, string>() {}

/**
 * Everything readable from `from`, page by page. Transaction ids are the cluster's, so a
 * transaction another suite holds open (in another database) can hold committed events
 * back for a moment: unless `once`, the read waits while the reader says so (at most 10 s).
 */
const readAll = (from: Checkpoint, once = false) =>
  Effect.gen(function*() {
    const events: Array<string> = []
    let checkpoint = from
    for (let waits = 0; ;) {
      const batch = yield* readAfter(checkpoint, 2)
      if (batch.events.length > 0) {
        events.push(...batch.events.map((e) => e.eventId))
        checkpoint = batch.checkpoint
        continue
      }
      if (once || !batch.heldBack || waits++ >= 500) return { events, checkpoint }
      yield* Effect.sleep("20 millis")
    }
  })

layer(ReaderDatabase, { excludeTestServices: true })("readAfter", (it) => {
  it.effect("pages through the log in order and resumes from a checkpoint", () =>
    Effect.gen(function*() {
      yield* appendEvents([event("p1"), event("p2"), event("p3")])
      yield* appendEvents([event("p4"), event("p5")])
      const first = yield* readAll(Checkpoint.start)
      expect(first.events).toEqual(["p1", "p2", "p3", "p4", "p5"])
      yield* appendEvents([event("p6")])
      const next = yield* readAll(first.checkpoint)
      expect(next.events).toEqual(["p6"])
      const logged = (yield* readAfter(Checkpoint.start, 1)).events[0]!
      expect(logged.tenant).toBe("tenant-reader")
      expect(logged.sessionId).toBe("ses_r")
      expect(logged.sourceTime).toBe(1_795_000_000_000)
      expect(typeof logged.position).toBe("bigint")
    }))

  it.effect("never skips an event whose transaction commits after a later position", () =>
    Effect.gen(function*() {
      const url = yield* DatabaseUrl
      const { checkpoint: start } = yield* readAll(Checkpoint.start)
      const early = new pg.Client({ connectionString: url })
      const late = new pg.Client({ connectionString: url })
      yield* Effect.promise(() => Promise.all([early.connect(), late.connect()]))
      try {
        // `early` takes the lower position but keeps its transaction open...
        yield* Effect.promise(() => early.query("begin"))
        const earlyPos = (yield* Effect.promise(() => early.query(insertSql, ["gap-early"]))).rows[0].position
        // ...while `late` takes a higher position and commits first.
        yield* Effect.promise(() => late.query("begin"))
        const latePos = (yield* Effect.promise(() => late.query(insertSql, ["gap-late"]))).rows[0].position
        yield* Effect.promise(() => late.query("commit"))
        expect(BigInt(earlyPos) < BigInt(latePos)).toBe(true)

        // A position-ordered reader would deliver gap-late now and never see gap-early.
        const sql = yield* SqlClient.SqlClient
        const visible = yield* sql<{ event_id: string }>`select event_id from events where position > ${start.position.toString()}::bigint order by position`
        expect(visible.map((r) => r.event_id)).toEqual(["gap-late"])

        const whileOpen = yield* readAll(start, true)
        expect(whileOpen.events).toEqual([])
        // gap-late is committed but waits behind the open transaction: the reader says so.
        expect((yield* readAfter(start, 10)).heldBack).toBe(true)

        yield* Effect.promise(() => early.query("commit"))
        const after = yield* readAll(whileOpen.checkpoint)
        expect(after.events).toEqual(["gap-early", "gap-late"])
        expect((yield* readAfter(after.checkpoint, 10)).heldBack).toBe(false)
      } finally {
        yield* Effect.promise(() => Promise.all([early.end(), late.end()]))
      }
    }))

  it.effect("a rolled-back transaction leaves no event and does not block readers", () =>
    Effect.gen(function*() {
      const url = yield* DatabaseUrl
      const { checkpoint: start } = yield* readAll(Checkpoint.start)
      const client = new pg.Client({ connectionString: url })
      yield* Effect.promise(() => client.connect())
      yield* Effect.promise(() => client.query("begin"))
      yield* Effect.promise(() => client.query(insertSql, ["rolled-back"]))
      yield* Effect.promise(() => client.query("rollback"))
      yield* Effect.promise(() => client.end())
      yield* appendEvents([event("after-rollback")])
      expect((yield* readAll(start)).events).toEqual(["after-rollback"])
    }))
})
