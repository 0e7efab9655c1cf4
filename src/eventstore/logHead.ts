import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** The highest position in the log (0 when empty); also proves the database answers. */
export const logHead = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ head: string }>`select coalesce(max(position), 0)::text as head from events`
  return BigInt(rows[0]?.head ?? "0")
})
