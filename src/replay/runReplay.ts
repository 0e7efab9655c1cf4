import { Clock, Effect } from "effect"
import type { PlannerSettings } from "../../projections/PushPlanner.ts"
import { replaySession, type ReplayResult } from "../../projections/Replay.ts"
import { readDeliveries, readRuns } from "../timeline/Repo.ts"
import { readSessionLog } from "./Repo.ts"

/** Replays one session against its recorded deliveries; null when the session has no events. */
export const runReplay = (
  tenant: string,
  sessionId: string,
  overrides: Partial<Pick<PlannerSettings, "throttleMs" | "permissionGraceMs">>,
  fallback: PlannerSettings
) =>
  Effect.gen(function*() {
    const events = yield* readSessionLog(tenant, sessionId)
    if (!events.some((event) => event.sessionId === sessionId)) return null
    const runs = yield* readRuns(tenant, sessionId)
    const deliveries = yield* readDeliveries(tenant, sessionId, null)
    const now = yield* Clock.currentTimeMillis
    return replaySession({
      sessionId,
      events,
      runs: runs.map((run) => ({
        id: run.id,
        sessionPosition: run.sessionPosition,
        registrationsPosition: run.registrationsPosition,
        plannedAt: run.plannedAt,
        settings: { ...fallback, ...run.settings },
        decisions: run.decisions
      })),
      deliveries,
      overrides,
      fallback,
      now
    }) satisfies ReplayResult
  })
