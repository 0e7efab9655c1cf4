import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { RelayConfig } from "../config/RelayConfig.ts"
import { NotFound } from "../http/ApiErrors.ts"
import { Tenant } from "../http/Authentication.ts"
import { orUnavailable } from "../http/Persistence.ts"
import { PushlineApi } from "../api/PushlineApi.ts"
import { readOptionalBody } from "../http/RequestBody.ts"
import { PushPlanner } from "../sender/PushPlanner.ts"
import { ReplayRequest, ReplaySummaryResponse } from "./Api.ts"
import { replayAll } from "./replayAll.ts"
import { runReplay } from "./runReplay.ts"
import { toReplayResponse } from "./toResponse.ts"
import { sessionIdFromPath } from "../http/PathParams.ts"

const overridesOf = (body: typeof ReplayRequest.Type) => ({
  ...(body.throttleMs === undefined ? {} : { throttleMs: body.throttleMs }),
  ...(body.permissionGraceMs === undefined ? {} : { permissionGraceMs: body.permissionGraceMs })
})

export const ReplayLive = HttpApiBuilder.group(PushlineApi, "replay", (handlers) =>
  handlers.handleRaw("replaySession", ({ path, request }) =>
    Effect.gen(function*() {
      const config = yield* RelayConfig
      const planner = yield* PushPlanner
      const sessionId = yield* sessionIdFromPath(path.sessionID)
      const body = yield* readOptionalBody(ReplayRequest, request, config)
      const overrides = overridesOf(body)
      const result = yield* orUnavailable(runReplay(yield* Tenant, sessionId, overrides, planner.settings))
      if (result === null) return yield* Effect.fail(NotFound.because(`no session ${sessionId} for this secret`))
      return toReplayResponse(sessionId, result)
    })).handleRaw("replayTenant", ({ request }) =>
    Effect.gen(function*() {
      const config = yield* RelayConfig
      const planner = yield* PushPlanner
      const body = yield* readOptionalBody(ReplayRequest, request, config)
      const overrides = overridesOf(body)
      const summary = yield* orUnavailable(replayAll(yield* Tenant, overrides, planner.settings))
      const settings = { ...planner.settings, ...overrides }
      return new ReplaySummaryResponse({
        ok: true,
        settings: { throttleMs: settings.throttleMs, permissionGraceMs: settings.permissionGraceMs, endSettleMs: settings.endSettleMs },
        sessions: summary.sessions,
        withDifferences: summary.differing.length,
        differing: summary.differing.map(({ tenant: _tenant, sessionId, ...counts }) => ({ sessionID: sessionId, ...counts }))
      })
    }))
)
