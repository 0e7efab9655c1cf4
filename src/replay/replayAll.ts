import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { PlannerSettings } from "../../projections/PushPlanner.ts"
import { isIdentical } from "../../projections/Replay.ts"
import { runReplay } from "./runReplay.ts"

export interface SessionDifferences {
  readonly tenant: string
  readonly sessionId: string
  readonly missing: number
  readonly extra: number
  readonly different: number
  readonly decisions: number
}

export interface ReplaySummary {
  readonly sessions: number
  readonly differing: ReadonlyArray<SessionDifferences>
}

/** Replays every folded session of one tenant (or of all tenants: null), one after another. */
export const replayAll = (
  tenant: string | null,
  overrides: Partial<Pick<PlannerSettings, "throttleMs" | "permissionGraceMs">>,
  fallback: PlannerSettings
) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const sessions = yield* sql<{ tenant: string; session_id: string }>`
      select tenant, session_id from session_states
      where ${tenant}::text is null or tenant = ${tenant}
      order by tenant, session_id`
    const differing: Array<SessionDifferences> = []
    let replayed = 0
    for (const session of sessions) {
      const result = yield* runReplay(session.tenant, session.session_id, overrides, fallback)
      if (result === null) continue
      replayed++
      if (isIdentical(result.diff)) continue
      differing.push({
        tenant: session.tenant,
        sessionId: session.session_id,
        missing: result.diff.missing.length,
        extra: result.diff.extra.length,
        different: result.diff.different.length,
        decisions: result.diff.decisions.length
      })
    }
    return { sessions: replayed, differing } satisfies ReplaySummary
  })
