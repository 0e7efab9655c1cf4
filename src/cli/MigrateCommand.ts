import { Command } from "@effect/cli"
import { Console, Effect, Layer } from "effect"
import { RelayConfig } from "../config/RelayConfig.ts"
import { DatabaseLive } from "../db/Database.ts"
import { runMigrations } from "../db/Migrator.ts"

export const migrateCommand = Command.make("migrate", {}, () =>
  runMigrations().pipe(
    Effect.flatMap((applied) =>
      Console.log(applied.length === 0 ? "database is up to date" : `applied: ${applied.join(", ")}`)
    ),
    Effect.provide(DatabaseLive("shared").pipe(Layer.provide(RelayConfig.layer)))
  )
).pipe(Command.withDescription("Apply database migrations (also done at start-up by serve)"))
