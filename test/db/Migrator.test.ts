import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Redacted } from "effect"
import pg from "pg"
import { RelayConfig } from "../../src/config/RelayConfig.ts"
import { MigratedDatabaseLive, pgLayer } from "../../src/db/Database.ts"
import { MIGRATION_LOCK, readMigrations, runMigrations } from "../../src/db/Migrator.ts"
import { createFreshDatabase } from "../support/database.ts"

describe("runMigrations", () => {
  it.live("two relays migrating one empty database at once both succeed, each migration applied once", () =>
    Effect.gen(function*() {
      const url = yield* Effect.promise(() => createFreshDatabase("migrate"))
      const migrate = runMigrations().pipe(Effect.provide(pgLayer(url, 2)))
      const [first, second] = yield* Effect.all([migrate, migrate], { concurrency: 2 })
      const all = (yield* readMigrations()).map((migration) => migration.name)
      // One of them applied everything, the other found nothing to do.
      expect([first, second].sort((a, b) => a.length - b.length)).toEqual([[], all])
      const rows = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        return yield* sql<{ name: string }>`select name from pushline_migrations order by id`
      }).pipe(Effect.provide(pgLayer(url, 1)))
      expect(rows.map((row) => row.name)).toEqual(all)
      expect(yield* runMigrations().pipe(Effect.provide(pgLayer(url, 1)))).toEqual([])
    }))

  it.live("the relay's migrations run without its statement timeout: waiting for another relay's lock does not fail start-up", () =>
    Effect.gen(function*() {
      const url = yield* Effect.promise(() => createFreshDatabase("migrate-wait"))
      // Another relay is migrating: it holds the lock for longer than the statement timeout.
      const other = new pg.Client({ connectionString: url })
      yield* Effect.promise(async () => {
        await other.connect()
        await other.query("begin")
        await other.query(`select pg_advisory_xact_lock(${MIGRATION_LOCK})`)
      })
      const release = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 1500)).then(() => other.query("commit")).then(() => other.end()))
      const relayDatabase = MigratedDatabaseLive("own").pipe(
        Layer.provide(RelayConfig.make({ databaseUrl: Option.some(Redacted.make(url)), statementTimeoutMs: 300 }))
      )
      const [tables] = yield* Effect.all([
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          return yield* sql<{ n: number }>`select count(*)::int as n from pushline_migrations`
        }).pipe(Effect.provide(relayDatabase)),
        release
      ], { concurrency: 2 })
      expect(tables).toEqual([{ n: (yield* readMigrations()).length }])
    }))

  it.live("migrations are numbered and ordered", () =>
    Effect.gen(function*() {
      const migrations = yield* readMigrations()
      expect(migrations.length).toBeGreaterThan(0)
      expect(migrations.map((migration) => migration.id)).toEqual([...migrations.map((m) => m.id)].sort((a, b) => a - b))
      expect(migrations[0]!.name).toBe("0001_events")
    }))
})

