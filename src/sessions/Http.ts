import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { contentStateOf } from "../../projections/PushPlanner.ts"
import { NotFound } from "../http/ApiErrors.ts"
import { Tenant } from "../http/Authentication.ts"
import { decodeCursor, pageOf, parseLimit } from "../http/Paging.ts"
import { orUnavailable } from "../http/Persistence.ts"
import { PushlineApi } from "../api/PushlineApi.ts"
import { LastDelivery, SessionList, SessionResponse, SessionView } from "./Api.ts"
import { findSessions, type SessionRow } from "./Repo.ts"
import { sessionIdFromPath } from "../http/PathParams.ts"

const toView = (row: SessionRow): SessionView => {
  const state = row.state
  const started = row.memory.started
  const delivery = row.last_delivery
  return new SessionView({
    sessionID: row.session_id,
    parentID: state.parentId,
    contentState: contentStateOf(state),
    lifecycle: {
      state: state.turn === 0 ? "idle" : state.status === "complete" || state.status === "error" ? "ended" : "active",
      turn: state.turn,
      activityTokenKnown: state.activity !== null,
      pushToStartUsed: Object.values(started).includes(state.turn),
      pendingPermissions: state.permissions.length
    },
    updatedAt: new Date(row.updated_at).toISOString(),
    lastDelivery: delivery === null || delivery === undefined
      ? null
      : new LastDelivery({ ...delivery, attemptedAt: new Date(delivery.attemptedAt).toISOString() })
  })
}

export const SessionsLive = HttpApiBuilder.group(PushlineApi, "sessions", (handlers) =>
  handlers
    .handle("listSessions", ({ urlParams }) =>
      Effect.gen(function*() {
        const limit = yield* parseLimit(urlParams.limit)
        const before = yield* decodeCursor(urlParams.cursor, 2)
        // One more than asked: whether there is a next page.
        const found = yield* orUnavailable(findSessions(yield* Tenant, null, limit + 1, before === null ? null : [before[0]!, before[1]!]))
        const page = pageOf(found.read, limit)
        const shown = new Set(page.keys.map(([, id]) => id))
        return new SessionList({
          ok: true,
          sessions: found.sessions.filter((row) => shown.has(row.session_id)).map(toView),
          nextCursor: page.nextCursor
        })
      }))
    .handle("getSession", ({ path }) =>
      Effect.gen(function*() {
        const sessionId = yield* sessionIdFromPath(path.sessionID)
        const row = (yield* orUnavailable(findSessions(yield* Tenant, sessionId, 1))).sessions[0]
        // Another tenant's session is indistinguishable from one that does not exist.
        if (row === undefined) return yield* Effect.fail(NotFound.because(`no session ${sessionId} for this secret`))
        return new SessionResponse({ ok: true, session: toView(row) })
      }))
)
