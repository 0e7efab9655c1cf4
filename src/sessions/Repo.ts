import { SqlClient } from "@effect/sql"
import { Effect, Either } from "effect"
import { decodePlannerMemory, type PlannerMemory } from "../../domain/PlannerMemory.ts"
import { decodeSessionState, type SessionState } from "../../domain/SessionState.ts"

export interface SessionRow {
  readonly session_id: string
  readonly state: SessionState
  readonly memory: PlannerMemory
  readonly updated_at: Date
  readonly last_delivery: any
}

/**
 * Projected sessions of one tenant with the sender's memory and the newest
 * delivery. A row that does not decode is logged and left out (a rebuild
 * rewrites it), never shown as something it is not.
 */
export const findSessions = (tenant: string, sessionId: string | null, limit = 200) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<Omit<SessionRow, "state" | "memory"> & { readonly state: unknown; readonly memory: unknown }>`
      select s.session_id, s.state, coalesce(m.memory, '{}'::jsonb) as memory, s.updated_at,
        (select jsonb_build_object('event', d.event, 'pushType', d.push_type, 'priority', d.priority,
                'status', d.status, 'reason', d.reason, 'outcome', d.outcome, 'apnsId', d.apns_id,
                'tokenSuffix', right(d.token, 8), 'latencyMs', d.latency_ms, 'attemptedAt', d.attempted_at)
           from deliveries d where d.tenant = s.tenant and d.session_id = s.session_id
           order by d.id desc limit 1) as last_delivery
      from session_states s
      left join sender_sessions m on m.tenant = s.tenant and m.session_id = s.session_id
      where s.tenant = ${tenant} and (${sessionId}::text is null or s.session_id = ${sessionId})
      order by s.updated_at desc
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
    return sessions
  })

export interface OperatorSessionRow {
  readonly tenant: string
  readonly session_id: string
  readonly state: SessionState
  readonly updated_at: Date
  readonly last_delivery: any
}

/** Every tenant's sessions, newest first, for operators (`pushline sessions`). */
export const findSessionsOfAllTenants = (tenantPrefix: string | null, limit: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<Omit<OperatorSessionRow, "state"> & { readonly state: unknown }>`
      select s.tenant, s.session_id, s.state, s.updated_at,
        (select jsonb_build_object('event', d.event, 'pushType', d.push_type, 'status', d.status, 'reason', d.reason,
                'outcome', d.outcome, 'attemptedAt', d.attempted_at)
           from deliveries d where d.tenant = s.tenant and d.session_id = s.session_id
           order by d.id desc limit 1) as last_delivery
      from session_states s
      where ${tenantPrefix}::text is null or s.tenant like ${`${tenantPrefix ?? ""}%`}
      order by s.updated_at desc
      limit ${limit}`
    const sessions: Array<OperatorSessionRow> = []
    for (const row of rows) {
      const state = decodeSessionState(row.state)
      if (Either.isRight(state)) sessions.push({ ...row, state: state.right })
      else yield* Effect.logError(`sessions: ${row.session_id} left out, its stored state: ${state.left}`)
    }
    return sessions
  })
