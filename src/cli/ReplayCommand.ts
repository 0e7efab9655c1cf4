import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { tokenSuffix } from "../../projections/EventSummary.ts"
import type { RecordedPush, ReplayedPush } from "../../projections/Replay.ts"
import { runReplay } from "../replay/runReplay.ts"
import { toReplayResponse } from "../replay/toResponse.ts"
import { PushPlanner } from "../sender/PushPlanner.ts"
import { OperatorLive, resolveTenant, SessionNotFound, tenantPrefix } from "./OperatorDatabase.ts"
import { bold, dim, green, red, status, table, yellow } from "./Terminal.ts"

const sessionID = Args.text({ name: "sessionID" }).pipe(Args.withDescription("OpenCode session id"))
const tenant = Options.text("tenant").pipe(Options.withDescription("Tenant prefix, when the session id exists for several"), Options.optional)
const json = Options.boolean("json").pipe(Options.withDescription("Print JSON (for scripts)"))
const throttle = Options.integer("throttle-ms").pipe(Options.withDescription("Replay with this throttle window instead of the recorded one"), Options.optional)
const grace = Options.integer("grace-ms").pipe(Options.withDescription("Replay with this permission grace instead of the recorded one"), Options.optional)

const shown = (content: any) =>
  content === null || content === undefined
    ? ""
    : "status" in content
    ? `${status(String(content.status))} ${dim(JSON.stringify(String(content.lastMessage ?? "").slice(0, 48)))}`
    : "title" in content || "body" in content
    ? `${bold(String(content.title ?? ""))} ${dim(JSON.stringify(String(content.body ?? "").slice(0, 48)))}`
    : dim(JSON.stringify(content).slice(0, 60))

const replayedRow = (push: ReplayedPush) => [`${push.event}`, dim(push.pushType), tokenSuffix(push.token), `p${push.priority}`, dim(`@${push.causedBy}`), shown(push.content)]
const recordedRow = (push: RecordedPush) => [`${push.event}`, dim(push.pushType), tokenSuffix(push.token), "", dim(`delivery ${push.deliveryId}`), shown(push.content)]

export const replayCommand = Command.make("replay", { sessionID, tenant, json, throttle, grace }, (options) =>
  Effect.gen(function*() {
    const owner = yield* resolveTenant(options.sessionID, Option.getOrUndefined(options.tenant))
    const planner = yield* PushPlanner
    const overrides = {
      ...(Option.isSome(options.throttle) ? { throttleMs: options.throttle.value } : {}),
      ...(Option.isSome(options.grace) ? { permissionGraceMs: options.grace.value } : {})
    }
    const result = yield* runReplay(owner, options.sessionID, overrides, planner.settings)
    if (result === null) return yield* Effect.fail(new SessionNotFound({ message: `no session ${options.sessionID} in the log` }))
    const response = toReplayResponse(options.sessionID, result)
    // Like diff(1): exit status 1 when the replay differs from what was recorded.
    if (!response.identical) process.exitCode = 1
    if (options.json) return yield* Console.log(JSON.stringify({ ...response, tenant: tenantPrefix(owner) }, null, 2))

    const { different, extra, missing } = result.diff
    yield* Console.log(
      bold(options.sessionID) +
        dim(` (tenant ${tenantPrefix(owner)}), throttle ${result.settings.throttleMs} ms, grace ${result.settings.permissionGraceMs} ms: `) +
        `${result.pushes.length} pushes replayed, ${result.recorded.length} recorded`
    )
    if (result.pushes.length > 0) yield* Console.log(table(result.pushes.map(replayedRow)))
    if (response.identical) return yield* Console.log(green("no difference: today's code makes exactly the recorded pushes"))
    if (missing.length > 0) {
      yield* Console.log(yellow(`\nmissing (${missing.length}): today's code would send these, they were not recorded`))
      yield* Console.log(table(missing.map(replayedRow)))
    }
    if (extra.length > 0) {
      yield* Console.log(yellow(`\nextra (${extra.length}): recorded, today's code would not send them`))
      yield* Console.log(table(extra.map(recordedRow)))
    }
    if (different.length > 0) {
      yield* Console.log(red(`\ndifferent (${different.length}): the same push with another content`))
      for (const pair of different) {
        yield* Console.log(table([["recorded", ...recordedRow(pair.recorded)], ["replayed", ...replayedRow(pair.replayed)]]))
      }
    }
  }).pipe(Effect.provide(OperatorLive))
).pipe(Command.withDescription("Re-fold a session's log with today's code and compare the pushes it would make with the recorded deliveries (exit 1 on a difference)"))
