import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { Checkpoint } from "../eventstore/readAfter.ts"

export const loadCheckpoint = (projector: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ transaction_id: string; position: string }>`
      select transaction_id::text as transaction_id, position::text as position
      from projector_checkpoints where projector = ${projector}`
    const row = rows[0]
    return row === undefined
      ? Checkpoint.start
      : new Checkpoint({ transactionId: row.transaction_id, position: BigInt(row.position) })
  })

export class CheckpointMoved extends Error {
  readonly _tag = "CheckpointMoved"
}

/**
 * Moves the checkpoint from `from` to `to`, failing when it no longer stands at
 * `from`: a fence, so a relay that lost its lock unnoticed cannot fold twice.
 */
export const advanceCheckpoint = (projector: string, from: Checkpoint, to: Checkpoint) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ projector: string }>`
      insert into projector_checkpoints (projector, transaction_id, position)
      values (${projector}, ${to.transactionId}::xid8, ${to.position.toString()}::bigint)
      on conflict (projector) do update
        set transaction_id = excluded.transaction_id, position = excluded.position, updated_at = now()
        where projector_checkpoints.transaction_id = ${from.transactionId}::xid8
          and projector_checkpoints.position = ${from.position.toString()}::bigint
      returning projector`
    if (rows.length === 0) return yield* Effect.die(new CheckpointMoved(`checkpoint of ${projector} moved under us`))
  })
