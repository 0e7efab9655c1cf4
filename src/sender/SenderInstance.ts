import { SqlClient } from "@effect/sql"
import { Deferred, Effect, Random, Schedule } from "effect"

/**
 * Who this relay's sender is, as other relays on the database can tell: a random key
 * whose session-level advisory lock (class SENDER_LOCK_CLASS) it holds on a reserved
 * connection for as long as it runs. Leases it takes carry the key. When the relay dies
 * its connection closes and PostgreSQL frees the lock, so the next claim (by any relay,
 * its own restart included) takes those sessions at once instead of after the lease.
 */
export const SENDER_LOCK_CLASS = 0x50534e44

export const holdSenderInstance = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const key = yield* Random.nextIntBetween(1, 2 ** 31 - 1)
  const held = yield* Deferred.make<void>()
  const holdOnce = Effect.scoped(
    Effect.gen(function*() {
      const connection = yield* sql.reserve
      const rows = yield* connection.executeUnprepared(`select pg_try_advisory_lock(${SENDER_LOCK_CLASS}, ${key}) as locked`, [], undefined)
      // False also while an old connection of ours still holds it (the database stalled):
      // the lock is held either way, so try again until this connection has it.
      if ((rows[0] as { locked?: boolean } | undefined)?.locked !== true) return yield* Effect.fail("not locked" as const)
      yield* Deferred.succeed(held, undefined)
      // Fails when the connection is gone (the database restarted): then lock again.
      yield* connection.executeUnprepared("select 1", [], undefined).pipe(Effect.repeat(Schedule.spaced("5 seconds")))
    })
  )
  yield* holdOnce.pipe(Effect.ignore, Effect.repeat(Schedule.spaced("1 second")), Effect.forkScoped)
  yield* Deferred.await(held)
  return key
})
