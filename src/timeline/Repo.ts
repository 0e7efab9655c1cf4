import { SqlClient } from "@effect/sql"
import { Effect, Either, Schema } from "effect"
import { decodeStored } from "../../domain/decodeStored.ts"
import { AttemptAnswer, DeliveryOutcome, PushDecision } from "../../domain/PushDecision.ts"
import type { PlannerSettings } from "../../projections/PushPlanner.ts"
import type { RecordedDelivery, RecordedRun, TimelineEventRow } from "../../projections/Timeline.ts"

/** A run's record as stored: its decisions and the settings it planned with. */
const StoredRun = Schema.Struct({
  decisions: Schema.Array(PushDecision),
  settings: Schema.Struct({
    throttleMs: Schema.Number,
    permissionGraceMs: Schema.Number,
    // Runs recorded before the end waited planned without a settle window.
    endSettleMs: Schema.optionalWith(Schema.Number, { default: () => 0 }),
    resumedAt: Schema.optionalWith(Schema.Number, { default: () => 0 }),
    defaultBundleId: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
    collapseAlerts: Schema.optionalWith(Schema.Boolean, { exact: true })
  })
})
const decodeRun = decodeStored(StoredRun)
const decodeAnswer = decodeStored(AttemptAnswer)

/** Runs whose record does not decode: shown as one failed decision saying so, never guessed at. */
const undecodableRun = (reason: string) => ({
  decisions: [{ decision: "failed" as const, target: "session", reason: `recorded run does not decode: ${reason}` }],
  // No settings of its own: whoever reads it (replay) falls back to the relay's.
  settings: {}
})

/**
 * What the timeline reads: the session's events (its own, a subagent's
 * permission requests shown on it, and the tenant's registrations in between)
 * with the fold's outcome per event, the sender's runs and the deliveries.
 */
export const readTimelineEvents = (tenant: string, sessionId: string, after: bigint, limit: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{
      position: string
      session_id: string
      event_id: string
      type: string
      payload: unknown
      meta: Record<string, unknown>
      source_time: Date
      received_time: Date
      applied: boolean | null
      reason: string | null
      content_state: unknown
    }>`
      with bounds as (
        select min(position) as lo, max(position) as hi from session_steps
        where tenant = ${tenant} and session_id = ${sessionId}
      ),
      page as (
        select position from session_steps where tenant = ${tenant} and session_id = ${sessionId} and position > ${after.toString()}::bigint
        union
        select position from events where tenant = ${tenant} and session_id = ${sessionId} and position > ${after.toString()}::bigint
        union
        select e.position from events e, bounds b
        where e.tenant = ${tenant} and e.session_id = '' and e.position > ${after.toString()}::bigint
          and e.position between b.lo and b.hi
        order by position
        limit ${limit}
      )
      select e.position::text as position, e.session_id, e.event_id, e.type, e.payload, e.meta, e.source_time, e.received_time,
             case when e.session_id = '' then o.applied else st.applied end as applied,
             case when e.session_id = '' then o.reason else st.reason end as reason,
             st.content_state
      from page p
      join events e on e.position = p.position
      left join session_steps st on st.tenant = e.tenant and st.session_id = ${sessionId} and st.position = e.position
      left join event_outcomes o on o.position = e.position
      order by e.position`
    return rows.map((row): TimelineEventRow => ({
      position: row.position,
      sessionId: row.session_id,
      eventId: row.event_id,
      type: row.type,
      payload: row.payload,
      meta: row.meta,
      sourceTime: new Date(row.source_time).getTime(),
      receivedTime: new Date(row.received_time).getTime(),
      applied: row.applied,
      reason: row.reason,
      contentState: row.content_state
    }))
  })

export const readRuns = (tenant: string, sessionId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ id: string; session_position: string; registrations_position: string | null; planned_at_ms: string; settings: unknown; decisions: unknown }>`
      select id::text as id, session_position::text as session_position, registrations_position::text as registrations_position,
             planned_at_ms::text as planned_at_ms, settings, decisions
      from sender_runs where tenant = ${tenant} and session_id = ${sessionId}
      order by sender_runs.id` // qualified: a bare `id` would sort by the text alias (10 before 9)
    return rows.map((row) => {
      const stored = Either.getOrElse(decodeRun({ decisions: row.decisions, settings: row.settings }), undecodableRun)
      return {
        id: row.id,
        sessionPosition: row.session_position,
        registrationsPosition: row.registrations_position,
        plannedAt: Number(row.planned_at_ms),
        settings: stored.settings satisfies Partial<PlannerSettings>,
        decisions: stored.decisions
      } satisfies RecordedRun & Record<string, unknown>
    })
  })

/** Deliveries caused by events in [from, to], plus any without a cause. */
export const readDeliveries = (tenant: string, sessionId: string, range: { readonly from: string; readonly to: string } | null) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{
      id: string
      run_id: string | null
      caused_by: string | null
      token: string
      push_type: string
      event: string
      priority: number
      headers: unknown
      payload: unknown
      status: number | null
      reason: string | null
      apns_id: string | null
      latency_ms: number | null
      outcome: string
      retry_after_ms: number | null
      jitter: number | null
      answered_at_ms: string | null
      attempted_at: Date
    }>`
      select id::text as id, run_id::text as run_id, caused_by::text as caused_by, token, push_type, event, priority,
             headers, payload, status, reason, apns_id, latency_ms, outcome, retry_after_ms, jitter,
             answered_at_ms::text as answered_at_ms, attempted_at
      from deliveries
      where tenant = ${tenant} and session_id = ${sessionId}
        and (${range === null}::boolean or caused_by is null
             or caused_by between ${range?.from ?? "0"}::bigint and ${range?.to ?? "0"}::bigint)
      order by deliveries.id` // qualified: a bare `id` would sort by the text alias
    return rows.map((row): RecordedDelivery => ({
      id: row.id,
      runId: row.run_id,
      causedBy: row.caused_by,
      token: row.token,
      pushType: row.push_type,
      event: row.event,
      priority: row.priority,
      headers: row.headers,
      payload: row.payload,
      status: row.status,
      reason: row.reason,
      apnsId: row.apns_id,
      latencyMs: row.latency_ms,
      outcome: row.outcome,
      // Attempts recorded before answers were have none: replay then assumes the run's own clock.
      answer: row.jitter === null || row.answered_at_ms === null
        ? null
        : Either.getOrNull(decodeAnswer({
          outcome: row.outcome,
          retryAfterMs: row.retry_after_ms,
          jitter: row.jitter,
          answeredAt: Number(row.answered_at_ms)
        })),
      attemptedAt: new Date(row.attempted_at).getTime()
    }))
  })
