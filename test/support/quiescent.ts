import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Waits until the relay has caught up with everything it was given: the projector has
 * folded the whole log, and no session is due, held (throttle, grace, retry) or claimed.
 * What the simulator received by then is all the relay will ever send for it, so a test
 * can assert that something was NOT pushed without sleeping and hoping.
 */
export const quiescent = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (let i = 0; i < 600; i++) {
    const [row] = yield* sql<{ behind: boolean; pending: number }>`
      select
        coalesce((select max(position) from events), 0) >
          coalesce((select position from projector_checkpoints where projector = 'sessions'), 0) as behind,
        (select count(*) from sender_sessions where due_at is not null or leased_until > now())::int as pending`
    if (row !== undefined && !row.behind && row.pending === 0) return
    yield* Effect.sleep("25 millis")
  }
  return yield* Effect.die(new Error("the relay did not go quiet within 15 s"))
})
