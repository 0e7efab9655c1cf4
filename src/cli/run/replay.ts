/**
 * `pushline replay`: re-runs a session's record with today's code and compares.
 * Loaded only when the command runs, so `pushline --help` stays quick.
 */
import type { ReplayOptions } from "../ReplayCommand.ts"
import { Console, Effect, Option } from "effect"
import type { PushDecision } from "../../../domain/PushDecision.ts"
import { tokenSuffix } from "../../../projections/EventSummary.ts"
import type { RecordedPush, ReplayedPush } from "../../../projections/Replay.ts"
import { replayAll } from "../../replay/replayAll.ts"
import { runReplay } from "../../replay/runReplay.ts"
import { toReplayResponse } from "../../replay/toResponse.ts"
import { PushPlanner } from "../../sender/PushPlanner.ts"
import { OperatorLive, resolveTenant, resolveTenantPrefix, SessionNotFound, tenantPrefix } from "../OperatorDatabase.ts"
import { bold, dim, green, red, status, table, yellow } from "../Terminal.ts"

const shown = (content: any) =>
  content === null || content === undefined
    ? ""
    : "status" in content
    ? `${status(String(content.status))} ${dim(JSON.stringify(String(content.lastMessage ?? "").slice(0, 48)))}`
    : "title" in content || "body" in content
    ? `${bold(String(content.title ?? ""))} ${dim(JSON.stringify(String(content.body ?? "").slice(0, 48)))}`
    : dim(JSON.stringify(content).slice(0, 60))

const describeDecision = (d: PushDecision) =>
  `${d.decision}${d.event === undefined ? "" : ` ${d.event}`} ${d.target.length > 12 ? tokenSuffix(d.target) : d.target}${d.reason === undefined ? "" : ` (${d.reason})`}`

const replayedRow = (push: ReplayedPush) => [`${push.event}`, dim(push.pushType), tokenSuffix(push.token), `p${push.priority}`, dim(`@${push.causedBy}`), shown(push.content)]
const recordedRow = (push: RecordedPush) => [`${push.event}`, dim(push.pushType), tokenSuffix(push.token), "", dim(`delivery ${push.deliveryId}`), shown(push.content)]

const replayEverySession = (prefix: string | undefined, asJson: boolean, overrides: Parameters<typeof replayAll>[1]) =>
  Effect.gen(function*() {
    const planner = yield* PushPlanner
    const owner = prefix === undefined ? null : yield* resolveTenantPrefix(prefix)
    const summary = yield* replayAll(owner, overrides, planner.settings)
    if (summary.differing.length > 0) process.exitCode = 1
    const line = `${summary.sessions} sessions replayed, ${summary.differing.length} with differences`
    if (asJson) {
      return yield* Console.log(JSON.stringify({
        sessions: summary.sessions,
        withDifferences: summary.differing.length,
        differing: summary.differing.map((d) => ({ ...d, tenant: tenantPrefix(d.tenant) }))
      }, null, 2))
    }
    if (summary.differing.length > 0) {
      yield* Console.log(table(summary.differing.map((d) => [
        d.sessionId,
        dim(`tenant ${tenantPrefix(d.tenant)}`),
        `${d.missing} missing`,
        `${d.extra} extra`,
        `${d.different} different`,
        `${d.decisions} decisions`
      ])))
    }
    yield* Console.log(summary.differing.length === 0 ? green(line) : yellow(line))
  })

export const run = (options: ReplayOptions) =>
  Effect.gen(function*() {
    const overrides = {
      ...(Option.isSome(options.throttle) ? { throttleMs: options.throttle.value } : {}),
      ...(Option.isSome(options.grace) ? { permissionGraceMs: options.grace.value } : {})
    }
    if (options.all) return yield* replayEverySession(Option.getOrUndefined(options.tenant), options.json, overrides)
    if (Option.isNone(options.sessionID)) {
      return yield* Effect.fail(new SessionNotFound({ message: "name a session id, or pass --all" }))
    }
    const id = options.sessionID.value
    const owner = yield* resolveTenant(id, Option.getOrUndefined(options.tenant))
    const planner = yield* PushPlanner
    const result = yield* runReplay(owner, id, overrides, planner.settings)
    if (result === null) return yield* Effect.fail(new SessionNotFound({ message: `no session ${id} in the log` }))
    const response = toReplayResponse(id, result)
    // Like diff(1): exit status 1 when the replay differs from what was recorded.
    if (!response.identical) process.exitCode = 1
    if (options.json) return yield* Console.log(JSON.stringify({ ...response, tenant: tenantPrefix(owner) }, null, 2))

    const { decisions, different, extra, missing } = result.diff
    yield* Console.log(
      bold(id) +
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
    if (decisions.length > 0) {
      yield* Console.log(red(`\ndecided otherwise (${decisions.length}): runs where today's code makes other decisions`))
      for (const run of decisions) {
        yield* Console.log(`${dim(`run ${run.runId}`)}\n  recorded: ${run.recorded.map(describeDecision).join(", ")}\n  replayed: ${run.replayed.map(describeDecision).join(", ")}`)
      }
    }
  }).pipe(Effect.provide(OperatorLive))
