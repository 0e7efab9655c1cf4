import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { LoggedEvent } from "../../domain/LoggedEvent.ts"

/**
 * Where a reader stands in the log: the last event it has taken, in
 * (transaction id, position) order. Positions come from a sequence, so a
 * transaction can commit a lower position after a higher one became visible;
 * reading by position alone would skip it for good.
 */
export class Checkpoint extends Schema.Class<Checkpoint>("Checkpoint")({
  transactionId: Schema.String,
  position: Schema.BigIntFromSelf
}) {
  static readonly start = new Checkpoint({ transactionId: "0", position: 0n })
}

export interface EventRow {
  readonly position: string
  readonly transaction_id: string
  readonly tenant: string
  readonly session_id: string
  readonly event_id: string
  readonly type: string
  readonly payload: unknown
  readonly meta: Record<string, unknown>
  readonly source_time: Date
  readonly received_time: Date
}

// Rows of our own table (typed columns, validated at ingest): the constructor's
// runtime validation is skipped, as it cost more than the fold on the read path.
export const toLoggedEvent = (row: EventRow) =>
  new LoggedEvent({
    position: BigInt(row.position),
    tenant: row.tenant,
    sessionId: row.session_id,
    eventId: row.event_id,
    type: row.type,
    payload: row.payload,
    meta: row.meta ?? {},
    sourceTime: new Date(row.source_time).getTime(),
    receivedTime: new Date(row.received_time).getTime()
  }, true)

export interface ReadBatch {
  readonly events: ReadonlyArray<LoggedEvent>
  /** Where to continue from; equals the input when nothing was read. */
  readonly checkpoint: Checkpoint
  /**
   * Committed events wait behind an older transaction still running: they
   * become readable when it ends, which nobody announces (a rollback sends no
   * NOTIFY), so look again soon.
   */
  readonly heldBack: boolean
}

/**
 * Events after `checkpoint`, in commit-safe order. Only transactions older than
 * every transaction still running (`pg_snapshot_xmin`) are delivered, so
 * everything returned is final and nothing can later appear before it.
 */
export const readAfter = (checkpoint: Checkpoint, limit: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const after = sql`(transaction_id, position) > (${checkpoint.transactionId}::xid8, ${checkpoint.position.toString()}::bigint)`
    // One statement: the final events, and whether a committed one waits beyond them
    // (a single row of nulls carries that when there are no final events). The probe is
    // a scalar subquery with `order by ... limit 1`, which keeps the planner on the
    // reading-order index; an `exists` chose a sequential scan of the whole log.
    const result = yield* sql<{ held_back: boolean } & (EventRow | { [K in keyof EventRow]: null })>`
      select coalesce((
               select true from events
               where ${after} and transaction_id >= pg_snapshot_xmin(pg_current_snapshot())
               order by events.transaction_id, events.position limit 1), false) as held_back,
             f.*
      from (select 1) as one
      left join lateral (
        select position, transaction_id::text as transaction_id, tenant, session_id, event_id, type,
               payload, meta, source_time, received_time
        from events
        where ${after} and transaction_id < pg_snapshot_xmin(pg_current_snapshot())
        -- Qualified: a bare name would sort by the text alias above ('1000' < '741').
        order by events.transaction_id, events.position
        limit ${limit}
      ) as f on true
      order by f.transaction_id::xid8, f.position`
    const heldBack = result[0]?.held_back === true
    const rows = result.filter((row): row is { held_back: boolean } & EventRow => row.position !== null)
    const last = rows[rows.length - 1]
    return {
      events: rows.map(toLoggedEvent),
      checkpoint: last === undefined
        ? checkpoint
        : new Checkpoint({ transactionId: last.transaction_id, position: BigInt(last.position) }),
      heldBack
    } satisfies ReadBatch
  })
