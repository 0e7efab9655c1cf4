import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { LoggedEvent } from "../../domain/LoggedEvent.ts"
import type { Checkpoint } from "../eventstore/readAfter.ts"
import { advanceCheckpoint } from "./Checkpoints.ts"
import { ProjectionFolds } from "./ProjectionFolds.ts"

/** Sessions the sender should look at: their state changed. */
export const SENDER_CHANNEL = "pushline_due"

const sessionKey = (tenant: string, sessionId: string) => `${tenant}\u0000${sessionId}`

interface Step {
  readonly tenant: string
  readonly session_id: string
  readonly position: string
  readonly applied: boolean
  readonly reason: string | null
  readonly content_state: unknown
}

interface Outcome {
  readonly position: string
  readonly tenant: string
  readonly session_id: string
  readonly applied: boolean
  readonly reason: string | null
}

export interface ProjectedBatch {
  readonly events: number
  /** Sessions whose state changed, with the newest position that changed them. */
  readonly changedSessions: ReadonlyArray<{ readonly tenant: string; readonly sessionId: string }>
}

/**
 * Folds one batch of events and writes the new states, the per-event outcomes,
 * the sessions now due for the sender and the checkpoint in ONE transaction:
 * after a crash the projector resumes exactly where it last committed.
 * `markDue: false` is for rebuilds, which must not send anything again.
 */
export const projectBatch = (
  projector: string,
  from: Checkpoint,
  to: Checkpoint,
  events: ReadonlyArray<LoggedEvent>,
  options: { readonly markDue: boolean }
) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const folds = yield* ProjectionFolds

    const tenants = new Set(events.map((event) => event.tenant))
    return yield* sql.withTransaction(
      Effect.gen(function*() {
        // Asynchronous commit keeps a disk sync out of every push's path. Safe: state and
        // checkpoint commit together, so a PostgreSQL crash can only lose both, and the
        // projector folds those (durable) events again to the same state.
        yield* sql`select set_config('synchronous_commit', 'off', true)`
        const registrationRows = yield* sql<{ tenant: string; state: unknown }>`
          select tenant, state from tenant_registrations
          where tenant = any(${`{${[...tenants].map((t) => JSON.stringify(t)).join(",")}}`}::text[])`
        const registrations = new Map<string, unknown>()
        for (const row of registrationRows) registrations.set(row.tenant, row.state)

        // Routing can depend on tenant state (subagent -> root), so replay the tenant fold
        // over the batch first to learn which sessions to load.
        const routing = new Map(registrations)
        const sessionKeys = new Map<string, { tenant: string; sessionId: string }>()
        for (const event of events) {
          const current = routing.get(event.tenant) ?? folds.initialRegistrations(event.tenant)
          const tenantState = folds.touchesRegistrations(event) ? folds.applyRegistrations(current, event).state : current
          routing.set(event.tenant, tenantState)
          for (const sessionId of folds.sessionsOf(event, tenantState)) {
            sessionKeys.set(sessionKey(event.tenant, sessionId), { tenant: event.tenant, sessionId })
          }
        }
        const keys = [...sessionKeys.values()].map(({ sessionId, tenant }) => ({ tenant, session_id: sessionId }))
        const sessionRows = keys.length === 0 ? [] : yield* sql<{ tenant: string; session_id: string; state: unknown }>`
          select s.tenant, s.session_id, s.state
          from session_states s
          join jsonb_to_recordset(${JSON.stringify(keys)}::jsonb) as k(tenant text, session_id text)
            on s.tenant = k.tenant and s.session_id = k.session_id`

        const sessions = new Map<string, unknown>()
        for (const row of sessionRows) sessions.set(sessionKey(row.tenant, row.session_id), row.state)
        const changedSessions = new Map<string, { tenant: string; sessionId: string; position: bigint; urgent: boolean }>()
        const changedTenants = new Map<string, bigint>()
        const outcomes: Array<Outcome> = []
        const steps: Array<Step> = []

        for (const event of events) {
          let applied = false
          const reasons: Array<string> = []
          if (folds.touchesRegistrations(event)) {
            const current = registrations.get(event.tenant) ?? folds.initialRegistrations(event.tenant)
            const result = folds.applyRegistrations(current, event)
            registrations.set(event.tenant, result.state)
            if (result.applied) {
              applied = true
              changedTenants.set(event.tenant, event.position)
            } else if (result.reason !== null) reasons.push(result.reason)
          }
          const tenantState = registrations.get(event.tenant) ?? folds.initialRegistrations(event.tenant)
          for (const sessionId of folds.sessionsOf(event, tenantState)) {
            const key = sessionKey(event.tenant, sessionId)
            const current = sessions.get(key) ?? folds.initialSession(event.tenant, sessionId)
            const result = folds.applySession(current, event)
            sessions.set(key, result.state)
            steps.push({
              tenant: event.tenant,
              session_id: sessionId,
              position: event.position.toString(),
              applied: result.applied,
              reason: result.applied ? null : result.reason,
              content_state: result.applied ? folds.shownState(result.state) : null
            })
            if (result.applied) {
              applied = true
              const urgent = (changedSessions.get(key)?.urgent ?? false) || !folds.pacedByThrottle(current, result.state, event)
              changedSessions.set(key, { tenant: event.tenant, sessionId, position: event.position, urgent })
            } else if (result.reason !== null) reasons.push(result.reason)
          }
          outcomes.push({
            position: event.position.toString(),
            tenant: event.tenant,
            session_id: event.sessionId,
            applied,
            reason: applied ? null : (reasons[0] ?? "no projection uses this event")
          })
        }

        const sessionUpdates = [...changedSessions.entries()].map(([key, change]) => ({
          tenant: change.tenant,
          session_id: change.sessionId,
          state: sessions.get(key),
          last_position: change.position.toString(),
          urgent: change.urgent
        }))
        if (sessionUpdates.length > 0) {
          yield* sql`
            insert into session_states (tenant, session_id, state, last_position)
            select x.tenant, x.session_id, x.state, x.last_position
            from jsonb_to_recordset(${JSON.stringify(sessionUpdates)}::jsonb)
              as x(tenant text, session_id text, state jsonb, last_position bigint)
            on conflict (tenant, session_id) do update
              set state = excluded.state, last_position = excluded.last_position, updated_at = now()`
          if (options.markDue) {
            // Due now, except a change the throttle paces for a session that already has a
            // time (window end, lease, backoff): that row is not even written. A sender holding
            // the lease sees the newer state when it releases (recordOutcome).
            yield* sql`
              with x as (
                select * from jsonb_to_recordset(${JSON.stringify(sessionUpdates)}::jsonb)
                  as x(tenant text, session_id text, last_position bigint, urgent boolean)
              ),
              marked as (
                update sender_sessions s
                  set due_at = least(coalesce(s.due_at, now()), now()),
                      version = s.version + 1,
                      caused_by = x.last_position, updated_at = now()
                from x
                where s.tenant = x.tenant and s.session_id = x.session_id and (x.urgent or s.due_at is null)
              )
              insert into sender_sessions (tenant, session_id, due_at, caused_by)
              select x.tenant, x.session_id, now(), x.last_position from x
              where not exists (select 1 from sender_sessions s where s.tenant = x.tenant and s.session_id = x.session_id)`
          }
        }
        const registrationUpdates = [...changedTenants.entries()].map(([tenant, position]) => ({
          tenant,
          state: registrations.get(tenant),
          last_position: position.toString()
        }))
        if (registrationUpdates.length > 0) {
          yield* sql`
            insert into tenant_registrations (tenant, state, last_position)
            select x.tenant, x.state, x.last_position
            from jsonb_to_recordset(${JSON.stringify(registrationUpdates)}::jsonb)
              as x(tenant text, state jsonb, last_position bigint)
            on conflict (tenant) do update
              set state = excluded.state, last_position = excluded.last_position, updated_at = now()`
        }
        if (outcomes.length > 0) {
          yield* sql`
            insert into event_outcomes (position, tenant, session_id, applied, reason)
            select x.position, x.tenant, x.session_id, x.applied, x.reason
            from jsonb_to_recordset(${JSON.stringify(outcomes)}::jsonb)
              as x(position bigint, tenant text, session_id text, applied boolean, reason text)
            on conflict (position) do update set applied = excluded.applied, reason = excluded.reason`
        }
        if (steps.length > 0) {
          yield* sql`
            insert into session_steps (tenant, session_id, position, applied, reason, content_state)
            select x.tenant, x.session_id, x.position, x.applied, x.reason, x.content_state
            from jsonb_to_recordset(${JSON.stringify(steps)}::jsonb)
              as x(tenant text, session_id text, position bigint, applied boolean, reason text, content_state jsonb)
            on conflict (tenant, session_id, position) do update
              set applied = excluded.applied, reason = excluded.reason, content_state = excluded.content_state`
        }
        yield* advanceCheckpoint(projector, from, to)
        if (options.markDue && sessionUpdates.length > 0) yield* sql`select pg_notify(${SENDER_CHANNEL}, 'due')`
        return {
          events: events.length,
          changedSessions: [...changedSessions.values()].map(({ sessionId, tenant }) => ({ tenant, sessionId }))
        } satisfies ProjectedBatch
      })
    )
  })
