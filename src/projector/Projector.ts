import { PgClient } from "@effect/sql-pg"
import { Clock, Context, Duration, Effect, Layer, PubSub, Queue, Stream } from "effect"
import type { Folds } from "../../projections/FoldBatch.ts"
import { sessionFolds } from "../../projections/SessionProjection.ts"
import { EVENTS_CHANNEL } from "../eventstore/appendEvents.ts"
import { readAfter } from "../eventstore/readAfter.ts"
import { Notifications } from "../db/Notifications.ts"
import { loadCheckpoint } from "./Checkpoints.ts"
import { FoldedStateCache } from "./FoldedStateCache.ts"
import { projectBatch } from "./projectBatch.ts"
import { acquireProjectorLock } from "./ProjectorLock.ts"

export const SESSIONS_PROJECTOR = "sessions"
export const PROJECTOR_LOCK_KEY = 7_406_511_002 // arbitrary, constant: "pushline sessions projector"
const BATCH_SIZE = 500
const POLL_INTERVAL = Duration.millis(250)
const MAX_HELD_BACK_DELAY_MS = 64
const LOCK_CHECK_INTERVAL_MS = 1_000

/**
 * Runs the folds over the log, forever: leader election by advisory lock,
 * woken by NOTIFY on new events with polling as the fallback, each batch
 * committed with its checkpoint. `projected` tells in-process listeners (the
 * sender) which sessions changed, so they need not wait for their own poll.
 */
export class Projector extends Context.Tag("pushline/Projector")<Projector, {
  readonly projected: PubSub.PubSub<ReadonlyArray<{ readonly tenant: string; readonly sessionId: string }>>
  /** The payload of this projector's NOTIFY to senders: its own process's sender skips it, `projected` told it already. */
  readonly instanceId: string
}>() {
  /** The relay's projector, folding with `folds` (the session projection; tests give their own). */
  static readonly layerWith = <S, T>(folds: Folds<S, T>) => Layer.scoped(
    Projector,
    Effect.gen(function*() {
      const sql = yield* PgClient.PgClient
      const projected = yield* PubSub.unbounded<ReadonlyArray<{ readonly tenant: string; readonly sessionId: string }>>()
      const wake = yield* Queue.sliding<void>(1)
      const instanceId = `projector-${crypto.randomUUID()}`

      const notifications = yield* Notifications
      yield* notifications.listen(EVENTS_CHANNEL).pipe(Stream.runForEach(() => Queue.offer(wake, undefined)), Effect.forkScoped)

      const waitForEvents = Queue.take(wake).pipe(Effect.timeoutOption(POLL_INTERVAL), Effect.asVoid)

      const lead = Effect.scoped(
        Effect.gen(function*() {
          const stillHeld = yield* acquireProjectorLock(PROJECTOR_LOCK_KEY)
          yield* Effect.logInfo("projector: leading (advisory lock held)")
          let checkpoint = yield* loadCheckpoint(SESSIONS_PROJECTOR)
          // What this leader committed; a new leadership starts from the database again.
          const cache = new FoldedStateCache<S, T>()
          let heldBackDelay = 1
          let lockCheckedAt = 0
          while (true) {
            const batch = yield* readAfter(checkpoint, BATCH_SIZE)
            if (batch.events.length > 0) {
              const result = yield* projectBatch(folds, SESSIONS_PROJECTOR, checkpoint, batch.checkpoint, batch.events, {
                markDue: true,
                cache,
                projectedBy: instanceId
              })
              checkpoint = batch.checkpoint
              if (result.changedSessions.length > 0) yield* PubSub.publish(projected, result.changedSessions)
              // A full batch: more is there. A short one took all that was final.
              if (batch.events.length === BATCH_SIZE) continue
            }
            if (batch.heldBack) {
              // Held back by an older open transaction: it ends within milliseconds as a
              // rule, and no NOTIFY says when (a rollback sends none), so look again soon.
              yield* Effect.sleep(Duration.millis(heldBackDelay))
              heldBackDelay = Math.min(heldBackDelay * 2, MAX_HELD_BACK_DELAY_MS)
              continue
            }
            heldBackDelay = 1
            // Caught up. Every commit after this read's snapshot sends a NOTIFY that
            // wakes us (the queue keeps one that came while we worked).
            const now = yield* Clock.currentTimeMillis
            if (now - lockCheckedAt >= LOCK_CHECK_INTERVAL_MS) {
              // Early notice of a lost lock connection; the checkpoint fence is the guarantee.
              yield* stillHeld
              lockCheckedAt = now
            }
            yield* waitForEvents
          }
        })
      )

      yield* lead.pipe(
        Effect.catchAllCause((cause) =>
          Effect.logWarning("projector stopped; retrying in 1 s", cause).pipe(Effect.zipRight(Effect.sleep("1 second")))
        ),
        Effect.forever,
        Effect.forkScoped
      )
      return { projected, instanceId }
    })
  )

  static readonly layer = Projector.layerWith(sessionFolds)
}
