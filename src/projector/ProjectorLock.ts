import { SqlClient } from "@effect/sql"
import { Effect, Schedule } from "effect"

/**
 * Leadership for a projector: a session-level advisory lock held on a reserved
 * connection for as long as the scope lives. When the holder dies its
 * connection closes, PostgreSQL releases the lock and a waiting relay takes over.
 * Returns an effect that checks the lock connection is still alive.
 */
export const acquireProjectorLock = (lockKey: number, retryEvery = "500 millis" as const) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const connection = yield* sql.reserve
    const tryLock = connection.executeUnprepared(`select pg_try_advisory_lock(${lockKey}) as locked`, [], undefined).pipe(
      Effect.map((rows) => (rows[0] as { locked?: boolean } | undefined)?.locked === true)
    )
    yield* tryLock.pipe(
      Effect.filterOrFail((locked) => locked, () => "held elsewhere" as const),
      Effect.retry(Schedule.spaced(retryEvery))
    )
    yield* Effect.addFinalizer(() =>
      connection.executeUnprepared(`select pg_advisory_unlock(${lockKey})`, [], undefined).pipe(Effect.ignore)
    )
    return connection.executeUnprepared("select 1", [], undefined).pipe(Effect.asVoid)
  })
