import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { ClaimedSession } from "./claimDueSessions.ts"
import type { PlanDecision, PlannedPush, PushPlannerShape } from "./PushPlanner.ts"
import type { DeliveryResult } from "./PushTransport.ts"

/** A planning run that decided something (a send or a hold); the timeline shows it, replay re-plans at it. */
export interface RecordedRun {
  readonly sessionPosition: string
  readonly plannedAt: number
  readonly settings: PushPlannerShape["settings"]
  readonly decisions: ReadonlyArray<PlanDecision>
}

/** One APNs attempt and its answer. */
export interface Attempt {
  readonly planned: PlannedPush
  readonly result: DeliveryResult
  readonly attemptedAt: number
}

/** What handling one claimed session produced. */
export interface SessionOutcome {
  readonly claim: ClaimedSession
  readonly run: RecordedRun | null
  readonly attempts: ReadonlyArray<Attempt>
  readonly memory: unknown
  readonly nextDueAt: number | null
  /** Whether the claim's cause counts as handled (not when there was no state to plan on). */
  readonly settled: boolean
  /** Log position of the state planned on: a newer state makes the session due again at once. */
  readonly plannedOn: string | null
}

/**
 * Records a handled session in ONE statement: its run, every attempt (linked
 * to the run), and the release of the claim with what the sender learned and
 * when the session is next due; if the state moved on meanwhile (the projector
 * marked the session again, or a change it paces landed), it stays due now.
 *
 * Committed asynchronously (`synchronous_commit = off`): this is bookkeeping
 * about pushes already sent, and waiting for the WAL flush would put a disk
 * sync in every push's path. A PostgreSQL crash can forget the last moments of
 * it; the sessions are then claimed again and their newest state re-sent. The
 * event log itself is always committed synchronously.
 */
export const recordOutcome = (outcome: SessionOutcome) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { claim } = outcome
    const run = outcome.run === null ? [] : [{
      session_position: outcome.run.sessionPosition,
      registrations_position: claim.registrationsPosition,
      planned_at_ms: outcome.run.plannedAt,
      settings: outcome.run.settings,
      decisions: outcome.run.decisions
    }]
    const attempts = outcome.attempts.map(({ attemptedAt, planned, result }, seq) => ({
      seq,
      caused_by: planned.causedBy,
      token: planned.push.token,
      environment: planned.push.environment,
      push_type: planned.push.pushType,
      event: planned.event,
      priority: planned.push.priority,
      headers: result.headers,
      payload: planned.push.payload,
      status: result.status,
      reason: result.reason,
      apns_id: result.apnsId,
      latency_ms: result.latencyMs,
      outcome: result.outcome,
      attempted_at: new Date(attemptedAt).toISOString()
    }))
    const next = outcome.nextDueAt === null ? null : new Date(outcome.nextDueAt).toISOString()
    yield* sql`
      with run as (
        insert into sender_runs (tenant, session_id, session_position, registrations_position, planned_at_ms, settings, decisions)
        select ${claim.tenant}, ${claim.sessionId}, r.session_position, r.registrations_position, r.planned_at_ms, r.settings, r.decisions
        from jsonb_to_recordset(${JSON.stringify(run)}::jsonb)
          as r(session_position bigint, registrations_position bigint, planned_at_ms bigint, settings jsonb, decisions jsonb)
        returning id
      ),
      attempts as (
        insert into deliveries (tenant, session_id, caused_by, token, environment, push_type, event, priority,
                                headers, payload, status, reason, apns_id, latency_ms, outcome, attempted_at, run_id)
        select ${claim.tenant}, ${claim.sessionId}, a.caused_by, a.token, a.environment, a.push_type, a.event, a.priority,
               a.headers, a.payload, a.status, a.reason, a.apns_id, a.latency_ms, a.outcome, a.attempted_at,
               (select id from run)
        from jsonb_to_recordset(${JSON.stringify(attempts)}::jsonb)
          as a(seq int, caused_by bigint, token text, environment text, push_type text, event text, priority int,
               headers jsonb, payload jsonb, status int, reason text, apns_id text, latency_ms double precision,
               outcome text, attempted_at timestamptz)
        order by a.seq
      ),
      released as (
        update sender_sessions
          set memory = ${JSON.stringify(outcome.memory)}::jsonb,
              due_at = case
                when version = ${claim.version}::bigint and not exists (
                  select 1 from session_states st
                  where st.tenant = ${claim.tenant} and st.session_id = ${claim.sessionId}
                    and st.last_position > ${outcome.plannedOn}::bigint)
                then ${next}::timestamptz else now() end,
              settled_position = greatest(settled_position, ${outcome.settled ? claim.causedBy : null}::bigint),
              updated_at = now()
        where tenant = ${claim.tenant} and session_id = ${claim.sessionId}
      )
      select set_config('synchronous_commit', 'off', true)`
  })
