import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export interface SessionRow {
  readonly session_id: string
  readonly state: any
  readonly memory: any
  readonly updated_at: Date
  readonly last_delivery: any
}

/** Projected sessions of one tenant with the sender's memory and the newest delivery. */
export const findSessions = (tenant: string, sessionId: string | null, limit = 200) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql<SessionRow>`
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
  })

export interface OperatorSessionRow {
  readonly tenant: string
  readonly session_id: string
  readonly state: any
  readonly updated_at: Date
  readonly last_delivery: any
}

/** Every tenant's sessions, newest first, for operators (`pushline sessions`). */
export const findSessionsOfAllTenants = (tenantPrefix: string | null, limit: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql<OperatorSessionRow>`
      select s.tenant, s.session_id, s.state, s.updated_at,
        (select jsonb_build_object('event', d.event, 'pushType', d.push_type, 'status', d.status, 'reason', d.reason,
                'outcome', d.outcome, 'attemptedAt', d.attempted_at)
           from deliveries d where d.tenant = s.tenant and d.session_id = s.session_id
           order by d.id desc limit 1) as last_delivery
      from session_states s
      where ${tenantPrefix}::text is null or s.tenant like ${`${tenantPrefix ?? ""}%`}
      order by s.updated_at desc
      limit ${limit}`
  })
