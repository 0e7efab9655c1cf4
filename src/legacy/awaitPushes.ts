import { SqlClient } from "@effect/sql"
import { Clock, Effect } from "effect"

/**
 * Waits (at most `maxWaitMs`) until the sender has handled the session past
 * `position`, then counts the pushes that event caused: the seed relay's
 * `/v1/event` answered with sent/failed, so this one does too.
 */
export const awaitPushes = (tenant: string, sessionId: string, position: bigint, maxWaitMs: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const deadline = (yield* Clock.currentTimeMillis) + maxWaitMs
    const pos = position.toString()
    let settledSince: number | null = null
    while (true) {
      const rows = yield* sql<{ settled: boolean; ignored: boolean; attempts: number }>`
        select
          coalesce((select settled_position >= ${pos}::bigint and (due_at is null or due_at > now() + interval '1 second')
                    from sender_sessions where tenant = ${tenant} and session_id = ${sessionId}), false) as settled,
          coalesce((select not applied from event_results where position = ${pos}::bigint), false) as ignored,
          (select count(*)::int from deliveries where tenant = ${tenant} and caused_by = ${pos}::bigint) as attempts`
      const now = yield* Clock.currentTimeMillis
      const row = rows[0]
      if (row?.ignored === true || now >= deadline) break
      if (row?.settled === true) {
        if (row.attempts > 0) break
        // Settled with nothing sent yet: give a racing delivery record a moment, then accept zero.
        settledSince ??= now
        if (now - settledSince >= 300) break
      }
      yield* Effect.sleep("25 millis")
    }
    const counts = yield* sql<{ sent: number; failed: number }>`
      select count(*) filter (where outcome = 'delivered')::int as sent,
             count(*) filter (where outcome <> 'delivered')::int as failed
      from deliveries where tenant = ${tenant} and caused_by = ${pos}::bigint`
    return { sent: counts[0]?.sent ?? 0, failed: counts[0]?.failed ?? 0 }
  })
