import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { ClaimedSession } from "./claimDueSessions.ts"

/**
 * Gives claims back unfinished (a drain ran out of time): the sessions are due at once
 * for the next relay instead of after their lease. Only a claim still holding its
 * lease is released; one recorded meanwhile is left as recorded.
 */
export const releaseClaims = (claims: ReadonlyArray<ClaimedSession>) =>
  Effect.gen(function*() {
    if (claims.length === 0) return 0
    const sql = yield* SqlClient.SqlClient
    const keys = JSON.stringify(claims.map((claim) => ({ tenant: claim.tenant, session_id: claim.sessionId, leased_until: claim.leasedUntil })))
    const released = yield* sql<{ session_id: string }>`
      update sender_sessions s set leased_until = null, updated_at = now()
      from jsonb_to_recordset(${keys}::jsonb) as k(tenant text, session_id text, leased_until timestamptz)
      where s.tenant = k.tenant and s.session_id = k.session_id and s.leased_until = k.leased_until
      returning s.session_id`
    return released.length
  })
