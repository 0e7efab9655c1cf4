import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { ClaimedSession } from "./claimDueSessions.ts"
import type { Plan, PushPlannerShape } from "./PushPlanner.ts"

/**
 * Records one planning run that decided something (a send or a hold): what it
 * planned on and what it decided. The timeline shows these; replay re-plans at
 * exactly these moments. Returns the run id deliveries link to.
 */
export const recordRun = (claim: ClaimedSession, plan: Plan, now: number, settings: PushPlannerShape["settings"]) =>
  Effect.gen(function*() {
    if (plan.decisions.length === 0) return null
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ id: string }>`
      insert into sender_runs (tenant, session_id, session_position, registrations_position, planned_at_ms, settings, decisions)
      values (${claim.tenant}, ${claim.sessionId}, ${plan.sessionPosition}::bigint, ${claim.registrationsPosition}::bigint,
              ${now}, ${JSON.stringify(settings)}::jsonb, ${JSON.stringify(plan.decisions)}::jsonb)
      returning id::text as id`
    return rows[0]?.id ?? null
  })
