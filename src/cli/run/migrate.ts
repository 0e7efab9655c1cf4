/**
 * `pushline migrate`: applies the database migrations.
 * Loaded only when the command runs, so `pushline --help` stays quick.
 */
import { Console, Effect, Layer } from "effect"
import { RelayConfig } from "../../config/RelayConfig.ts"
import { DatabaseLive } from "../../db/Database.ts"
import { runMigrations } from "../../db/Migrator.ts"

export const run = runMigrations().pipe(
  Effect.flatMap((applied) => Console.log(applied.length === 0 ? "database is up to date" : `applied: ${applied.join(", ")}`)),
  Effect.provide(DatabaseLive("shared").pipe(Layer.provide(RelayConfig.layer)))
)
