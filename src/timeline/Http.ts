import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { BadRequest, NotFound } from "../http/ApiErrors.ts"
import { Tenant } from "../http/Authentication.ts"
import { parseLimit } from "../http/Paging.ts"
import { orUnavailable } from "../http/Persistence.ts"
import { PushlineApi } from "../api/PushlineApi.ts"
import { TimelineResponse } from "./Api.ts"
import { loadTimeline } from "./loadTimeline.ts"
import { sessionIdFromPath } from "../http/PathParams.ts"

/** `after` and `limit` as given in the query, or a BadRequest naming the parameter. */
export const parsePage = (after: string | undefined, limit: string | undefined) =>
  Effect.gen(function*() {
    if (after !== undefined && !/^\d{1,18}$/.test(after)) {
      return yield* Effect.fail(BadRequest.because("after: must be a log position (a non-negative integer)"))
    }
    return { after: BigInt(after ?? "0"), limit: yield* parseLimit(limit) }
  })

export const TimelineLive = HttpApiBuilder.group(PushlineApi, "timeline", (handlers) =>
  handlers.handle("getTimeline", ({ path, urlParams }) =>
    Effect.gen(function*() {
      const sessionId = yield* sessionIdFromPath(path.sessionID)
      const page = yield* parsePage(urlParams.after, urlParams.limit)
      const timeline = yield* orUnavailable(loadTimeline(yield* Tenant, sessionId, page.after, page.limit))
      if (timeline === null) return yield* Effect.fail(NotFound.because(`no session ${sessionId} for this secret`))
      return new TimelineResponse({ ok: true, sessionID: sessionId, ...timeline })
    }))
)
