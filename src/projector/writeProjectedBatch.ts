import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { ProjectedWrites } from "../../projections/FoldBatch.ts"
import type { Checkpoint } from "../eventstore/readAfter.ts"
import { CheckpointMoved } from "./Checkpoints.ts"

/** Sessions the sender should look at: their state changed. */
export const SENDER_CHANNEL = "pushline_due"

/**
 * Writes what a batch folded to, and moves the checkpoint from `from` to `to`,
 * in ONE statement (so one implicit transaction and one round trip): states,
 * registrations, per-event outcomes, timeline steps and, with `markDue`, the
 * sessions now due for the sender. The checkpoint is a fence: every write is
 * conditional on it still standing at `from`, so a relay that lost its lock
 * unnoticed writes nothing and dies with CheckpointMoved.
 *
 * Marking due: due now, except a change the throttle paces for a session that
 * already has a time (window end, backoff, or due and leased): that row is not
 * touched. A sender holding the lease sees the newer state when it releases,
 * and a session due now while leased is claimed once the lease is released. A transition
 * raises the claim priority until the sender has handled the session.
 *
 * Committed asynchronously (`synchronous_commit = off`) to keep a disk sync out
 * of every push's path. Safe: state and checkpoint commit together, so a
 * PostgreSQL crash can only lose both, and the (durable) events fold again.
 */
export const writeProjectedBatch = (
  projector: string,
  from: Checkpoint,
  to: Checkpoint,
  writes: ProjectedWrites,
  options: {
    readonly markDue: boolean
    /** The NOTIFY's payload: who projected, so that relay's own sender, already woken in process, can skip it. */
    readonly projectedBy?: string | undefined
  }
) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const due = options.markDue ? writes.sessions.map(({ claim_priority, last_position, session_id, tenant, urgent }) => ({ tenant, session_id, last_position, urgent, claim_priority })) : []
    const notify = due.length > 0 ? sql`, pg_notify(${SENDER_CHANNEL}, ${options.projectedBy ?? "due"}) as notified` : sql``
    const rows = yield* sql<{ fenced: number; commit_mode: string }>`
      with cp as (
        insert into projector_checkpoints (projector, transaction_id, position)
        values (${projector}, ${to.transactionId}::xid8, ${to.position.toString()}::bigint)
        on conflict (projector) do update
          set transaction_id = excluded.transaction_id, position = excluded.position, updated_at = now()
          where projector_checkpoints.transaction_id = ${from.transactionId}::xid8
            and projector_checkpoints.position = ${from.position.toString()}::bigint
        returning projector
      ),
      states as (
        insert into session_states (tenant, session_id, state, last_position)
        select x.tenant, x.session_id, x.state, x.last_position
        from jsonb_to_recordset(${JSON.stringify(writes.sessions)}::jsonb)
          as x(tenant text, session_id text, state jsonb, last_position bigint)
        where exists (select 1 from cp)
        on conflict (tenant, session_id) do update
          set state = excluded.state, last_position = excluded.last_position, updated_at = now()
      ),
      due as (
        select * from jsonb_to_recordset(${JSON.stringify(due)}::jsonb)
          as x(tenant text, session_id text, last_position bigint, urgent boolean, claim_priority smallint)
        where exists (select 1 from cp)
      ),
      marked as (
        update sender_sessions s
          set due_at = least(coalesce(s.due_at, now()), now()),
              version = s.version + 1,
              claim_priority = greatest(s.claim_priority, x.claim_priority),
              caused_by = x.last_position, updated_at = now()
        from due x
        where s.tenant = x.tenant and s.session_id = x.session_id and (x.urgent or s.due_at is null)
      ),
      added as (
        insert into sender_sessions (tenant, session_id, due_at, caused_by, claim_priority)
        select x.tenant, x.session_id, now(), x.last_position, x.claim_priority from due x
        where not exists (select 1 from sender_sessions s where s.tenant = x.tenant and s.session_id = x.session_id)
      ),
      registrations as (
        insert into tenant_registrations (tenant, state, last_position)
        select x.tenant, x.state, x.last_position
        from jsonb_to_recordset(${JSON.stringify(writes.tenants)}::jsonb)
          as x(tenant text, state jsonb, last_position bigint)
        where exists (select 1 from cp)
        on conflict (tenant) do update
          set state = excluded.state, last_position = excluded.last_position, updated_at = now()
      ),
      outcomes as (
        insert into event_outcomes (position, tenant, session_id, applied, reason)
        select x.position, x.tenant, x.session_id, x.applied, x.reason
        from jsonb_to_recordset(${JSON.stringify(writes.outcomes)}::jsonb)
          as x(position bigint, tenant text, session_id text, applied boolean, reason text)
        where exists (select 1 from cp)
        on conflict (position) do update set applied = excluded.applied, reason = excluded.reason
      ),
      steps as (
        insert into session_steps (tenant, session_id, position, applied, reason, content_state)
        select x.tenant, x.session_id, x.position, x.applied, x.reason, x.content_state
        from jsonb_to_recordset(${JSON.stringify(writes.steps)}::jsonb)
          as x(tenant text, session_id text, position bigint, applied boolean, reason text, content_state jsonb)
        where exists (select 1 from cp)
        on conflict (tenant, session_id, position) do update
          set applied = excluded.applied, reason = excluded.reason, content_state = excluded.content_state
      )
      select 1 as fenced, set_config('synchronous_commit', 'off', true) as commit_mode ${notify}
      from cp`
    if (rows.length === 0) return yield* Effect.die(new CheckpointMoved(`checkpoint of ${projector} moved under us`))
  })
