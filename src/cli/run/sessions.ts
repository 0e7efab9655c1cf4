/**
 * `pushline sessions`: the sessions of every tenant, newest first.
 * Loaded only when the command runs, so `pushline --help` stays quick.
 */
import type { SessionsOptions } from "../SessionsCommand.ts"
import { Clock, Console, Effect, Option } from "effect"
import { contentStateOf } from "../../../projections/PushPlanner.ts"
import { findSessionsOfAllTenants } from "../../sessions/Repo.ts"
import { pageOf, readCursor } from "../../http/Paging.ts"
import { OperatorLive, SessionNotFound, tenantPrefix } from "../OperatorDatabase.ts"
import { ago, bold, dim, green, red, status, table } from "../Terminal.ts"

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`)

export const run = (options: SessionsOptions) =>
  Effect.gen(function*() {
    const before = Option.isNone(options.cursor) ? null : readCursor(options.cursor.value, 3)
    if (before === undefined) return yield* Effect.fail(new SessionNotFound({ message: "--cursor: not a cursor this command printed" }))
    // One more than asked: whether there is a next page.
    const found = yield* findSessionsOfAllTenants(Option.getOrNull(options.tenant), options.limit + 1, before === null ? null : [before[0]!, before[1]!, before[2]!])
    const { keys, nextCursor } = pageOf(found.read, options.limit)
    const shown = new Set(keys.map(([, tenant, id]) => `${tenant}\u0000${id}`))
    const now = yield* Clock.currentTimeMillis
    const sessions = found.sessions.filter((row) => shown.has(`${row.tenant}\u0000${row.session_id}`)).map((row) => ({
      tenant: tenantPrefix(row.tenant),
      sessionID: row.session_id,
      contentState: contentStateOf(row.state),
      turn: row.state.turn,
      updatedAt: new Date(row.updated_at).toISOString(),
      lastPush: row.last_delivery === null
        ? null
        : { ...row.last_delivery, attemptedAt: new Date(row.last_delivery.attemptedAt).toISOString() }
    }))
    if (options.json) return yield* Console.log(JSON.stringify({ sessions, nextCursor }, null, 2))
    if (sessions.length === 0) return yield* Console.log("no sessions yet")
    const header = ["TENANT", "SESSION", "STATUS", "TURN", "TITLE", "LAST PUSH", "UPDATED"].map(bold)
    yield* Console.log(table([
      header,
      ...sessions.map((s) => [
        dim(s.tenant),
        s.sessionID,
        status(s.turn === 0 ? "idle" : s.contentState.status),
        String(s.turn),
        clip(s.contentState.sessionTitle || "-", 32),
        s.lastPush === null
          ? dim("none")
          : `${s.lastPush.event} ${(s.lastPush.outcome === "delivered" ? green : red)(String(s.lastPush.status ?? s.lastPush.outcome))} ${dim(ago(Date.parse(s.lastPush.attemptedAt), now))}`,
        ago(Date.parse(s.updatedAt), now)
      ])
    ]))
    if (nextCursor !== null) yield* Console.log(dim(`more: pushline sessions --cursor ${nextCursor}`))
  }).pipe(Effect.provide(OperatorLive))
