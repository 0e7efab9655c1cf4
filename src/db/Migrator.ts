import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { packageFile } from "../config/packageFiles.ts"

/**
 * Applies `migrations/NNNN_name.sql` in order, each once. Everything runs in
 * one transaction under an advisory lock, so relays starting together on one
 * database queue up instead of racing (the second finds nothing to do).
 */
export const migrationsDir = packageFile("migrations")

export const MIGRATION_LOCK = 7_406_511_001 // arbitrary, constant: "pushline migrations"

export interface MigrationFile {
  readonly id: number
  readonly name: string
  readonly sql: string
}

export const readMigrations = (dir = migrationsDir) =>
  Effect.promise(async () => {
    const files = (await fs.readdir(dir)).filter((file) => /^\d+_.+\.sql$/.test(file)).sort()
    return Promise.all(
      files.map(async (file): Promise<MigrationFile> => ({
        id: Number.parseInt(file, 10),
        name: file.replace(/\.sql$/, ""),
        sql: await fs.readFile(path.join(dir, file), "utf8")
      }))
    )
  })

/** Returns the names of the migrations this call applied. */
export const runMigrations = (dir = migrationsDir) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const migrations = yield* readMigrations(dir)
    return yield* sql.withTransaction(
      Effect.gen(function*() {
        yield* sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`
        yield* sql`create table if not exists pushline_migrations (
          id integer primary key,
          name text not null,
          applied_at timestamptz not null default now()
        )`
        const rows = yield* sql<{ id: number }>`select id from pushline_migrations`
        const applied = new Set(rows.map((row) => row.id))
        const pending = migrations.filter((migration) => !applied.has(migration.id))
        for (const migration of pending) {
          yield* sql.unsafe(migration.sql)
          yield* sql`insert into pushline_migrations (id, name) values (${migration.id}, ${migration.name})`
        }
        return pending.map((migration) => migration.name)
      })
    )
  })
