import { Args, Command, Options } from "@effect/cli"
import { Effect } from "effect"

const sessionID = Args.text({ name: "sessionID" }).pipe(Args.withDescription("OpenCode session id"))
const tenant = Options.text("tenant").pipe(Options.withDescription("Tenant prefix, when the session id exists for several"), Options.optional)
const json = Options.boolean("json").pipe(Options.withDescription("Print JSON (for scripts)"))

const config = { sessionID, tenant, json }
export type TimelineOptions = Command.Command.ParseConfig<typeof config>

export const timelineCommand = Command.make("timeline", config, (options) =>
  Effect.promise(() => import("./run/timeline.ts")).pipe(Effect.flatMap((m) => m.run(options)))
).pipe(Command.withDescription("A session's history: each event, what the fold made of it, the push decisions and the APNs attempts"))
