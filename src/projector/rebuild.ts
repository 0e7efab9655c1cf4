import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { Folds } from "../../projections/FoldBatch.ts"
import { sessionFolds } from "../../projections/SessionProjection.ts"
import { Checkpoint, readAfter } from "../eventstore/readAfter.ts"
import { FoldedStateCache } from "./FoldedStateCache.ts"
import { projectBatch } from "./projectBatch.ts"
import { acquireProjectorLock } from "./ProjectorLock.ts"
import { PROJECTOR_LOCK_KEY, SESSIONS_PROJECTOR } from "./Projector.ts"

export interface RebuildProgress {
  readonly folded: number
  readonly head: bigint
}

/**
 * Drops every projected state and folds the whole log again from position 0
 * with today's code, under the projector's lock (a running relay pauses its
 * projector meanwhile). Sends nothing: sender memory is kept as it is.
 */
export const rebuildWith = <S, T>(folds: Folds<S, T>, onProgress: (progress: RebuildProgress) => Effect.Effect<void> = () => Effect.void) =>
  Effect.scoped(
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* acquireProjectorLock(PROJECTOR_LOCK_KEY)
      const headRows = yield* sql<{ head: string }>`select coalesce(max(position), 0)::text as head from events`
      const head = BigInt(headRows[0]?.head ?? "0")
      yield* sql.withTransaction(
        Effect.gen(function*() {
          yield* sql`delete from session_states`
          yield* sql`delete from tenant_registrations`
          yield* sql`delete from event_outcomes`
          yield* sql`delete from session_steps`
          yield* sql`delete from projector_checkpoints where projector = ${SESSIONS_PROJECTOR}`
        })
      )
      let checkpoint = Checkpoint.start
      let folded = 0
      const cache = new FoldedStateCache<S, T>()
      while (true) {
        const batch = yield* readAfter(checkpoint, 1000)
        if (batch.events.length === 0) {
          if (!batch.heldBack) break
          // Committed events wait behind a transaction still open: the log is not all readable yet.
          yield* Effect.sleep("5 millis")
          continue
        }
        yield* projectBatch(folds, SESSIONS_PROJECTOR, checkpoint, batch.checkpoint, batch.events, { markDue: false, cache })
        checkpoint = batch.checkpoint
        folded += batch.events.length
        yield* onProgress({ folded, head })
      }
      return { folded, head } satisfies RebuildProgress
    })
  )

/** The relay's rebuild: the session projection. */
export const rebuildProjections = (onProgress?: (progress: RebuildProgress) => Effect.Effect<void>) => rebuildWith(sessionFolds, onProgress)
