import { Command, Options } from "@effect/cli"
import { Effect } from "effect"

const wait = Options.boolean("wait").pipe(Options.withDescription("Wait for the running relay's projector to let go instead of stopping here"))

const config = { wait }
export type RebuildOptions = Command.Command.ParseConfig<typeof config>

export const rebuildCommand = Command.make("rebuild", config, (options) =>
  Effect.promise(() => import("./run/rebuild.ts")).pipe(Effect.flatMap((m) => m.run(options)))
).pipe(Command.withDescription("Rebuild every projection from position 0 with today's code (sends nothing; stop the relay first, or --wait for it)"))
