/**
 * `pushline rebuild`: re-folds every projection from the start of the log.
 * Loaded only when the command runs, so `pushline --help` stays quick.
 */
import type { RebuildOptions } from "../RebuildCommand.ts"
import { SqlClient } from "@effect/sql"
import { Clock, Console, Data, Effect } from "effect"
import { PROJECTOR_LOCK_KEY } from "../../projector/Projector.ts"
import { rebuildProjections } from "../../projector/rebuild.ts"
import { OperatorLive } from "../OperatorDatabase.ts"

export class ProjectorBusy extends Data.TaggedError("ProjectorBusy")<{ readonly message: string }> {}

/** A running relay holds the projector lock for as long as it runs: say so rather than hang. */
const ensureProjectorFree = Effect.scoped(
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const connection = yield* sql.reserve
    const rows = yield* connection.executeUnprepared(`select pg_try_advisory_lock(${PROJECTOR_LOCK_KEY}) as locked`, [], undefined)
    if ((rows[0] as { locked?: boolean } | undefined)?.locked !== true) {
      return yield* Effect.fail(new ProjectorBusy({ message: "a relay is running on this database (it holds the projector lock): stop it first, or pass --wait" }))
    }
    yield* connection.executeUnprepared(`select pg_advisory_unlock(${PROJECTOR_LOCK_KEY})`, [], undefined)
  })
)
import { progressBar } from "../Terminal.ts"

export const run = (options: RebuildOptions) =>
  Effect.gen(function*() {
    if (!options.wait) yield* ensureProjectorFree
    const started = yield* Clock.currentTimeMillis
    const tty = process.stderr.isTTY === true
    const result = yield* rebuildProjections(({ folded, head }) =>
      Effect.sync(() => {
        const line = `${progressBar(folded, Number(head))} ${folded} events`
        if (tty) process.stderr.write(`\r${line}`)
        else if (folded % 10_000 < 1000) process.stderr.write(`${line}\n`)
      })
    )
    if (tty) process.stderr.write("\n")
    const seconds = ((yield* Clock.currentTimeMillis) - started) / 1000
    yield* Console.log(`rebuilt: ${result.folded} events folded in ${seconds.toFixed(2)} s`)
  }).pipe(Effect.provide(OperatorLive))
