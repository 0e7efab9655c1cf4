import { SqlClient } from "@effect/sql"
import { Effect, Either } from "effect"
import { decodePlannerMemory, type PlannerMemory } from "../../domain/PlannerMemory.ts"
import { decodeSessionState, decodeRegistrations, initialRegistrations, type SessionState, type Registrations } from "../../domain/SessionState.ts"
import { SENDER_LOCK_CLASS } from "./SenderInstance.ts"

export interface ClaimedSession {
  readonly tenant: string
  readonly sessionId: string
  /** null when the stored memory does not decode (see `undecodable`). */
  readonly memory: PlannerMemory | null
  readonly version: string
  /** The lease this claim holds (exact text of the timestamp): its release must still find it. */
  readonly leasedUntil: string
  /** Newest log position that marked the session due, when claimed. */
  readonly causedBy: string | null
  /** null when no state is projected yet. */
  readonly session: SessionState | null
  readonly registrations: Registrations
  /** Log position of the newest event in `registrations`. */
  readonly registrationsPosition: string | null
  /** Which stored row did not decode, and why; the session is then not planned. */
  readonly undecodable: string | null
}

/**
 * Takes up to `limit` due sessions for this relay. SKIP LOCKED lets several
 * relays claim side by side; the lease (`leased_until`) keeps the claim after
 * this short transaction ends, until the outcome is recorded or, if we die, it
 * expires or (`holder`, see SenderInstance.ts) our instance lock is seen free. A leased session is not claimed again even when a newer state makes
 * it due meanwhile: one handler per session keeps its pushes in order.
 */
export const claimDueSessions = (limit: number, leaseSeconds: number, holder: number | null = null) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const claimed = yield* sql<{ tenant: string; session_id: string; memory: unknown; version: string; caused_by: string | null; leased_until: string }>`
      with due as (
        select tenant, session_id from sender_sessions
        where due_at <= now()
          and (leased_until is null or leased_until <= now()
            -- Leased by a relay whose instance lock is free: it died; its lease means nothing.
            or (leased_by is not null and leased_by is distinct from ${holder} and pg_try_advisory_xact_lock(${SENDER_LOCK_CLASS}, leased_by)))
        -- Transitions before progress: when the sender is behind, an end or a permission
        -- overtakes the backlog; among equals, the longest waiting first.
        order by claim_priority desc, due_at
        limit ${limit}
        for update skip locked
      )
      , claimed as (
        update sender_sessions s
          set leased_until = now() + make_interval(secs => ${leaseSeconds}), leased_by = ${holder}, updated_at = now()
        from due
        where s.tenant = due.tenant and s.session_id = due.session_id
        returning s.tenant, s.session_id, s.memory, s.version::text as version, s.caused_by::text as caused_by,
                  s.leased_until::text as leased_until
      )
      -- Asynchronous commit: a lease is worth no disk sync; after a PostgreSQL crash the
      -- sessions are simply due again.
      select c.* from claimed c, (select set_config('synchronous_commit', 'off', true)) as async_commit`
    if (claimed.length === 0) return []
    // A separate statement, so a fresh snapshot: the claim may have followed a row the
    // projector updated after the claim statement began, and must not plan on older state.
    const keys = JSON.stringify(claimed.map((row) => ({ tenant: row.tenant, session_id: row.session_id })))
    const states = yield* sql<{ tenant: string; session_id: string; state: unknown; registrations: unknown; registrations_position: string | null }>`
      select k.tenant, k.session_id, st.state, r.state as registrations, r.last_position::text as registrations_position
      from jsonb_to_recordset(${keys}::jsonb) as k(tenant text, session_id text)
      left join session_states st on st.tenant = k.tenant and st.session_id = k.session_id
      left join tenant_registrations r on r.tenant = k.tenant`
    const byKey = new Map(states.map((row) => [`${row.tenant}\u0000${row.session_id}`, row]))
    return claimed.map((row): ClaimedSession => {
      const loaded = byKey.get(`${row.tenant}\u0000${row.session_id}`)
      const storedState = loaded?.state ?? null
      const memory = decodePlannerMemory(row.memory)
      const session = storedState === null ? Either.right(null) : decodeSessionState(storedState)
      const registrations = decodeRegistrations(loaded?.registrations ?? null)
      const undecodable = Either.isLeft(memory)
        ? `sender memory does not decode: ${memory.left}`
        : Either.isLeft(session)
        ? `session state does not decode: ${session.left}`
        : Either.isLeft(registrations)
        ? `tenant registrations do not decode: ${registrations.left}`
        : null
      return {
        tenant: row.tenant,
        sessionId: row.session_id,
        memory: Either.getOrNull(memory),
        version: row.version,
        leasedUntil: row.leased_until,
        causedBy: row.caused_by,
        session: Either.getOrNull(session),
        registrations: Either.getOrElse(registrations, initialRegistrations),
        registrationsPosition: loaded?.registrations_position ?? null,
        undecodable
      }
    })
  })
