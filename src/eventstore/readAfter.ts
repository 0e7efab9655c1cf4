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
  })

export interface ReadBatch {
  readonly events: ReadonlyArray<LoggedEvent>
  /** Where to continue from; equals the input when nothing was read. */
  readonly checkpoint: Checkpoint
  /**
   * Committed events wait behind an older transaction still running: they
   * become readable when it ends, which nobody announces, so look again soon.
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
    const rows = yield* sql<EventRow & { final: boolean }>`
      select position, transaction_id::text as transaction_id, tenant, session_id, event_id, type,
             payload, meta, source_time, received_time,
             transaction_id < pg_snapshot_xmin(pg_current_snapshot()) as final
      from events
      where (transaction_id, position) > (${checkpoint.transactionId}::xid8, ${checkpoint.position.toString()}::bigint)
      order by transaction_id, position
      limit ${limit}`
    // In this order the final rows come first: take them, up to the first one that is not.
    const firstPending = rows.findIndex((row) => !row.final)
    const final = firstPending === -1 ? rows : rows.slice(0, firstPending)
    const last = final[final.length - 1]
    return {
      events: final.map(toLoggedEvent),
      checkpoint: last === undefined
        ? checkpoint
        : new Checkpoint({ transactionId: last.transaction_id, position: BigInt(last.position) }),
      heldBack: firstPending !== -1
    } satisfies ReadBatch
  })
