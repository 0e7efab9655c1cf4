import { Command } from "@effect/cli"
import { Effect } from "effect"

export const migrateCommand = Command.make("migrate", {}, () =>
  Effect.promise(() => import("./run/migrate.ts")).pipe(Effect.flatMap((m) => m.run))
).pipe(Command.withDescription("Apply database migrations (also done at start-up by serve)"))
