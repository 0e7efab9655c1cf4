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
