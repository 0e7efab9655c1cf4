import { Args, Command, Options } from "@effect/cli"
import { Effect } from "effect"

const sessionID = Args.text({ name: "sessionID" }).pipe(Args.withDescription("OpenCode session id (or --all)"), Args.optional)
const all = Options.boolean("all").pipe(Options.withDescription("Replay every session (of --tenant, if given) and print how many differ"))
const tenant = Options.text("tenant").pipe(Options.withDescription("Tenant prefix, when the session id exists for several"), Options.optional)
const json = Options.boolean("json").pipe(Options.withDescription("Print JSON (for scripts)"))
const throttle = Options.integer("throttle-ms").pipe(Options.withDescription("Replay with this throttle window instead of the recorded one"), Options.optional)
const grace = Options.integer("grace-ms").pipe(Options.withDescription("Replay with this permission grace instead of the recorded one"), Options.optional)

const config = { sessionID, all, tenant, json, throttle, grace }
export type ReplayOptions = Command.Command.ParseConfig<typeof config>

export const replayCommand = Command.make("replay", config, (options) =>
  Effect.promise(() => import("./run/replay.ts")).pipe(Effect.flatMap((m) => m.run(options)))
).pipe(Command.withDescription("Re-fold a session's log with today's code, run the sender's step at each recorded run, and compare pushes and decisions with the record (exit 1 on a difference); --all replays every session"))
