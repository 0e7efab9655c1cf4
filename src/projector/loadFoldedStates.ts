import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { sessionKey } from "../../projections/FoldBatch.ts"

export interface FoldedStates {
  /** By tenant: the stored registrations state, or null when none is stored. */
  readonly tenants: Map<string, unknown>
  /** By (tenant, session) key (projections/FoldBatch.ts sessionKey): the stored state, or null. */
  readonly sessions: Map<string, unknown>
}

/**
 * Reads the stored states of some tenants and sessions (the ones the projector
 * does not remember), one statement for each kind asked for. Every asked key
 * gets an entry: a missing row is `null`, so it is not asked for again.
 */
export const loadFoldedStates = (
  tenants: ReadonlyArray<string>,
  sessions: ReadonlyArray<{ readonly key: string; readonly tenant: string; readonly sessionId: string }>
) =>
  Effect.gen(function*() {
    const found: FoldedStates = { tenants: new Map(), sessions: new Map() }
    for (const tenant of tenants) found.tenants.set(tenant, null)
    for (const { key } of sessions) found.sessions.set(key, null)
    const sql = yield* SqlClient.SqlClient
    if (tenants.length > 0) {
      const rows = yield* sql<{ tenant: string; state: unknown }>`
        select tenant, state from tenant_registrations
        where tenant = any(${`{${tenants.map((t) => JSON.stringify(t)).join(",")}}`}::text[])`
      for (const row of rows) found.tenants.set(row.tenant, row.state)
    }
    if (sessions.length > 0) {
      const rows = yield* sql<{ tenant: string; session_id: string; state: unknown }>`
        select s.tenant, s.session_id, s.state
        from session_states s
        join jsonb_to_recordset(${JSON.stringify(sessions.map(({ sessionId, tenant }) => ({ tenant, session_id: sessionId })))}::jsonb)
          as k(tenant text, session_id text)
          on s.tenant = k.tenant and s.session_id = k.session_id`
      for (const row of rows) found.sessions.set(sessionKey(row.tenant, row.session_id), row.state)
    }
    return found
  })
