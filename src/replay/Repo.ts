import { SqlClient } from "@effect/sql"
import { Effect, Either } from "effect"
import { decodeRegistrations, initialRegistrations } from "../../domain/SessionState.ts"
import { rootOf } from "../../projections/RegistrationsFold.ts"
import { type EventRow, toLoggedEvent } from "../eventstore/readAfter.ts"

/**
 * The log a session's replay needs, in the projector's order: the session's
 * own events, the tenant's registrations, and its subagents' session and
 * permission events (a subagent's permission request shows on its root).
 */
export const readSessionLog = (tenant: string, sessionId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const stored = yield* sql<{ state: unknown }>`select state from tenant_registrations where tenant = ${tenant}`
    // Which sessions are subagents of this one; registrations that do not decode name none.
    const registrations = Either.getOrElse(decodeRegistrations(stored[0]?.state ?? null), initialRegistrations)
    const children = Object.keys(registrations.parents).filter((child) => child !== sessionId && rootOf(registrations, child) === sessionId)
    const rows = yield* sql<EventRow>`
      select position::text as position, transaction_id::text as transaction_id, tenant, session_id, event_id, type,
             payload, meta, source_time, received_time
      from events
      where tenant = ${tenant}
        and (session_id = ${sessionId} or session_id = ''
             or (session_id = any(${`{${children.map((c) => JSON.stringify(c)).join(",")}}`}::text[])
                 and type in ('session.created', 'session.updated', 'permission.asked', 'permission.replied',
                              'question.asked', 'question.replied', 'question.rejected')))
      -- Qualified: a bare name would sort by the text alias ('1000' < '741'), not as xid8.
      order by events.transaction_id, events.position`
    return rows.map(toLoggedEvent)
  })
