import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import * as crypto from "node:crypto"
import pg from "pg"
import { inject } from "vitest"
import { pgLayer } from "../../src/db/Database.ts"
import { runMigrations } from "../../src/db/Migrator.ts"

/**
 * A new, empty, migrated database on the test cluster, so a suite that reads
 * the whole log (readers, projectors) sees only its own events while suites
 * run in parallel.
 */
export const createFreshDatabase = async (label = "t"): Promise<string> => {
  const base = new URL(inject("databaseUrl"))
  const name = `pushline_${label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${crypto.randomBytes(4).toString("hex")}`
  const admin = new pg.Client({ connectionString: base.toString() })
  await admin.connect()
  try {
    await admin.query(`create database ${name}`)
  } finally {
    await admin.end()
  }
  base.pathname = `/${name}`
  return base.toString()
}

/** A migrated pool on a fresh database. */
export const freshDatabaseLayer = (label?: string) =>
  Layer.unwrapEffect(
    Effect.promise(() => createFreshDatabase(label)).pipe(
      Effect.map((url) => Layer.effectDiscard(runMigrations()).pipe(Layer.provideMerge(pgLayer(url, 10))))
    )
  )

/** A pool on the shared test database (migrated); use unique tenants per test. */
export const sharedDatabaseLayer = Layer.effectDiscard(runMigrations()).pipe(
  Layer.provideMerge(Layer.suspend(() => pgLayer(inject("databaseUrl"), 10)))
)

export const uniqueTenant = (label = "tenant") => `${label}-${crypto.randomBytes(6).toString("hex")}`

/** The URL of the database the pool in context is on (a fresh one, say), for a client of its own. */
export const currentDatabaseUrl = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* sql<{ name: string }>`select current_database() as name`
  const url = new URL(inject("databaseUrl"))
  url.pathname = `/${row!.name}`
  return url.toString()
})
