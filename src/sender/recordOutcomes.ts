import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { PlannerMemory } from "../../domain/PlannerMemory.ts"
import type { AttemptAnswer, PushDecision } from "../../domain/PushDecision.ts"
import type { Intent, PlannerSettings } from "../../projections/PushPlanner.ts"
import type { ClaimedSession } from "./claimDueSessions.ts"
import type { DeliveryResult } from "./PushTransport.ts"

/** A planning run that decided something or changed memory; the timeline shows it, replay re-runs it. */
export interface RecordedRun {
  /** The state planned on; null for a run that could not plan. */
  readonly sessionPosition: string | null
  readonly plannedAt: number
  readonly settings: PlannerSettings
  readonly decisions: ReadonlyArray<PushDecision>
}

/** One APNs attempt: what was sent, APNs' answer, and what the step settled it with. */
export interface Attempt {
  readonly intent: Intent
  readonly result: DeliveryResult
  readonly answer: AttemptAnswer
  readonly attemptedAt: number
}

/** What handling one claimed session produced. */
export interface SessionOutcome {
  readonly claim: ClaimedSession
  readonly run: RecordedRun | null
  readonly attempts: ReadonlyArray<Attempt>
  /** null: keep the stored memory (it did not decode). */
  readonly memory: PlannerMemory | null
  readonly nextDueAt: number | null
  /** Whether the claim's cause counts as handled (not when there was no state to plan on). */
  readonly settled: boolean
  /** Log position of the state planned on: a newer state makes the session due again at once. */
  readonly plannedOn: string | null
}

/**
 * Records handled sessions in ONE statement: their runs, every attempt (linked
 * to its run), and the release of each claim with what the sender learned and
 * when the session is next due; if the state moved on meanwhile (the projector
 * marked the session again, or a change it paces landed), it stays due now.
 * One statement for many sessions: on a loaded relay, statements, not rows,
 * are what costs. A session is in at most one outcome: its lease holds until
 * this records it, and a release applies only to the lease its claim took.
 * Returns how many released sessions are due now (their state moved on while
 * they were handled), so the sender knows to claim again.
 *
 * Committed asynchronously (`synchronous_commit = off`): this is bookkeeping
 * about pushes already sent, and waiting for the WAL flush would put a disk
 * sync in every push's path. A PostgreSQL crash can forget the last moments of
 * it; the sessions are then claimed again and their newest state re-sent. The
 * event log itself is always committed synchronously.
 */
export const recordOutcomes = (outcomes: ReadonlyArray<SessionOutcome>) =>
  Effect.gen(function*() {
    if (outcomes.length === 0) return 0
    const sql = yield* SqlClient.SqlClient
    const runs = outcomes.flatMap(({ claim, run }) =>
      run === null ? [] : [{
        tenant: claim.tenant,
        session_id: claim.sessionId,
        session_position: run.sessionPosition ?? claim.causedBy ?? "0",
        registrations_position: claim.registrationsPosition,
        planned_at_ms: run.plannedAt,
        settings: run.settings,
        decisions: run.decisions
      }]
    )
    const attempts = outcomes.flatMap(({ attempts, claim }) =>
      attempts.map(({ answer, attemptedAt, intent, result }) => ({
        tenant: claim.tenant,
        session_id: claim.sessionId,
        caused_by: intent.causedBy,
        token: intent.token,
        environment: result.environment,
        environment_fallback: result.fallbackFrom,
        push_type: intent.pushType,
        event: intent.event,
        priority: intent.priority,
        headers: result.headers,
        payload: intent.payload,
        status: result.status,
        reason: result.reason,
        apns_id: result.apnsId,
        latency_ms: result.latencyMs,
        outcome: answer.outcome,
        retry_after_ms: answer.retryAfterMs,
        jitter: answer.jitter,
        answered_at_ms: answer.answeredAt,
        attempted_at: new Date(attemptedAt).toISOString()
      }))
    ).map((attempt, seq) => ({ ...attempt, seq }))
    const releases = outcomes.map(({ claim, memory, nextDueAt, plannedOn, settled }) => ({
      tenant: claim.tenant,
      session_id: claim.sessionId,
      memory,
      version: claim.version,
      leased_until: claim.leasedUntil,
      settled_position: settled ? claim.causedBy : null,
      next_due: nextDueAt === null ? null : new Date(nextDueAt).toISOString(),
      planned_on: plannedOn
    }))
    const released = yield* sql<{ due_now: number }>`
      with run as (
        insert into sender_runs (tenant, session_id, session_position, registrations_position, planned_at_ms, settings, decisions)
        select r.tenant, r.session_id, r.session_position, r.registrations_position, r.planned_at_ms, r.settings, r.decisions
        from jsonb_to_recordset(${JSON.stringify(runs)}::jsonb)
          as r(tenant text, session_id text, session_position bigint, registrations_position bigint, planned_at_ms bigint,
               settings jsonb, decisions jsonb)
        returning id, tenant, session_id
      ),
      attempts as (
        insert into deliveries (tenant, session_id, caused_by, token, environment, environment_fallback, push_type, event, priority,
                                headers, payload, status, reason, apns_id, latency_ms, outcome,
                                retry_after_ms, jitter, answered_at_ms, attempted_at, run_id)
        select a.tenant, a.session_id, a.caused_by, a.token, a.environment, a.environment_fallback, a.push_type, a.event, a.priority,
               a.headers, a.payload, a.status, a.reason, a.apns_id, a.latency_ms, a.outcome,
               a.retry_after_ms, a.jitter, a.answered_at_ms, a.attempted_at,
               (select run.id from run where run.tenant = a.tenant and run.session_id = a.session_id)
        from jsonb_to_recordset(${JSON.stringify(attempts)}::jsonb)
          as a(seq int, tenant text, session_id text, caused_by bigint, token text, environment text, environment_fallback jsonb, push_type text,
               event text, priority int, headers jsonb, payload jsonb, status int, reason text, apns_id text,
               latency_ms double precision, outcome text, retry_after_ms double precision, jitter double precision,
               answered_at_ms bigint, attempted_at timestamptz)
        order by a.seq
      ),
      released as (
        update sender_sessions s
          set memory = coalesce(x.memory, s.memory),
              due_at = case
                when s.version = x.version and not exists (
                  select 1 from session_states st
                  where st.tenant = x.tenant and st.session_id = x.session_id and st.last_position > x.planned_on)
                then x.next_due else now() end,
              settled_position = greatest(s.settled_position, x.settled_position),
              leased_until = null,
              -- Handled: back to the common queue, unless marked again meanwhile.
              claim_priority = case when s.version = x.version then 0 else s.claim_priority end,
              updated_at = now()
        from jsonb_to_recordset(${JSON.stringify(releases)}::jsonb)
          as x(tenant text, session_id text, memory jsonb, version bigint, settled_position bigint,
               next_due timestamptz, planned_on bigint, leased_until timestamptz)
        -- Only our own lease: if it expired and another relay claimed the session, that
        -- relay's lease and memory stand (the attempts above are recorded all the same).
        where s.tenant = x.tenant and s.session_id = x.session_id and s.leased_until = x.leased_until
        returning s.due_at <= now() as due_now
      )
      select set_config('synchronous_commit', 'off', true) as commit_mode,
             (select count(*) from released where due_now)::int as due_now`
    return released[0]?.due_now ?? 0
  })
