import { Command, Options } from "@effect/cli"
import { Effect } from "effect"

const tenant = Options.text("tenant").pipe(Options.withDescription("Only tenants whose id starts with this prefix"), Options.optional)
const json = Options.boolean("json").pipe(Options.withDescription("Print JSON (for scripts)"))
const limit = Options.integer("limit").pipe(Options.withDefault(50), Options.withDescription("At most this many sessions, newest first"))

const cursor = Options.text("cursor").pipe(Options.withDescription("Continue after the page that printed this cursor"), Options.optional)

const config = { tenant, json, limit, cursor }
export type SessionsOptions = Command.Command.ParseConfig<typeof config>

export const sessionsCommand = Command.make("sessions", config, (options) =>
  Effect.promise(() => import("./run/sessions.ts")).pipe(Effect.flatMap((m) => m.run(options)))
).pipe(Command.withDescription("List sessions of every tenant (tenant prefix, status, last push), newest first"))
