import { SqlClient } from "@effect/sql"
import { Effect, Either } from "effect"
import { decodePlannerMemory, type PlannerMemory } from "../../domain/PlannerMemory.ts"
import { decodeSessionState, type SessionState } from "../../domain/SessionState.ts"

export interface SessionRow {
  readonly session_id: string
  /** updated_at exactly (microseconds), for the page's cursor. */
  readonly cursor_time: string
  readonly state: SessionState
  readonly memory: PlannerMemory
  readonly updated_at: Date
  readonly last_delivery: any
}

/**
 * Projected sessions of one tenant with the sender's memory and the newest
 * delivery, newest first; after `before` (the updated_at and session id of the
 * previous page's last row) when given. A row that does not decode is logged and
 * left out (a rebuild rewrites it), never shown as something it is not.
 */
export const findSessions = (
  tenant: string,
  sessionId: string | null,
  limit = 200,
  before: readonly [time: string, sessionId: string] | null = null
) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<Omit<SessionRow, "state" | "memory"> & { readonly state: unknown; readonly memory: unknown }>`
      select s.session_id, s.state, coalesce(m.memory, '{}'::jsonb) as memory, s.updated_at, s.updated_at::text as cursor_time,
        (select jsonb_build_object('event', d.event, 'pushType', d.push_type, 'priority', d.priority,
                'status', d.status, 'reason', d.reason, 'outcome', d.outcome, 'apnsId', d.apns_id,
                'tokenSuffix', right(d.token, 8), 'latencyMs', d.latency_ms, 'attemptedAt', d.attempted_at)
           from deliveries d where d.tenant = s.tenant and d.session_id = s.session_id
           order by d.id desc limit 1) as last_delivery
      from session_states s
      left join sender_sessions m on m.tenant = s.tenant and m.session_id = s.session_id
      where s.tenant = ${tenant} and (${sessionId}::text is null or s.session_id = ${sessionId})
        and (${before?.[0] ?? null}::timestamptz is null or (s.updated_at, s.session_id) < (${before?.[0] ?? null}::timestamptz, ${before?.[1] ?? null}::text))
      order by s.updated_at desc, s.session_id desc
      limit ${limit}`
    const sessions: Array<SessionRow> = []
    for (const row of rows) {
      const state = decodeSessionState(row.state)
      const memory = decodePlannerMemory(row.memory)
      if (Either.isRight(state) && Either.isRight(memory)) {
        sessions.push({ ...row, state: state.right, memory: memory.right })
        continue
      }
      const reason = Either.isLeft(state) ? `state: ${state.left}` : Either.isLeft(memory) ? `sender memory: ${memory.left}` : ""
      yield* Effect.logError(`sessions: ${row.session_id} left out, its stored ${reason}`)
    }
    // The rows read, decodable or not, page on: a row left out must not end the list.
    return { sessions, read: rows.map((row) => [row.cursor_time, row.session_id] as const) }
  })

export interface OperatorSessionRow {
  readonly tenant: string
  readonly cursor_time: string
  readonly session_id: string
  readonly state: SessionState
  readonly updated_at: Date
  readonly last_delivery: any
}

/** Every tenant's sessions, newest first, for operators (`pushline sessions`). */
export const findSessionsOfAllTenants = (
  tenantPrefix: string | null,
  limit: number,
  before: readonly [time: string, tenant: string, sessionId: string] | null = null
) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<Omit<OperatorSessionRow, "state"> & { readonly state: unknown }>`
      select s.tenant, s.session_id, s.state, s.updated_at, s.updated_at::text as cursor_time,
        (select jsonb_build_object('event', d.event, 'pushType', d.push_type, 'status', d.status, 'reason', d.reason,
                'outcome', d.outcome, 'attemptedAt', d.attempted_at)
           from deliveries d where d.tenant = s.tenant and d.session_id = s.session_id
           order by d.id desc limit 1) as last_delivery
      from session_states s
      where (${tenantPrefix}::text is null or s.tenant like ${`${tenantPrefix ?? ""}%`})
        and (${before?.[0] ?? null}::timestamptz is null
          or (s.updated_at, s.tenant, s.session_id) < (${before?.[0] ?? null}::timestamptz, ${before?.[1] ?? null}::text, ${before?.[2] ?? null}::text))
      order by s.updated_at desc, s.tenant desc, s.session_id desc
      limit ${limit}`
    const sessions: Array<OperatorSessionRow> = []
    for (const row of rows) {
      const state = decodeSessionState(row.state)
      if (Either.isRight(state)) sessions.push({ ...row, state: state.right })
      else yield* Effect.logError(`sessions: ${row.session_id} left out, its stored state: ${state.left}`)
    }
    return { sessions, read: rows.map((row) => [row.cursor_time, row.tenant, row.session_id] as const) }
  })
