import { PgClient } from "@effect/sql-pg"
import { Cause, Chunk, Clock, Duration, Effect, Layer, Option, Queue, Random, Stream } from "effect"
import { TokenInvalidated } from "../../domain/PushlineEvent.ts"
import { describeError } from "../errors/describeError.ts"
import { appendEvents } from "../eventstore/appendEvents.ts"
import { pushlineLogEvent } from "../http/PushlineEvents.ts"
import { SENDER_CHANNEL } from "../projector/projectBatch.ts"
import { Projector } from "../projector/Projector.ts"
import { claimDueSessions, type ClaimedSession } from "./claimDueSessions.ts"
import { PushPlanner } from "./PushPlanner.ts"
import { PushTransport } from "./PushTransport.ts"
import { type Attempt, recordOutcomes, type SessionOutcome } from "./recordOutcomes.ts"

const CLAIM_LIMIT = 32
const LEASE_SECONDS = 30
const POLL_INTERVAL = Duration.millis(200)
const SESSION_CONCURRENCY = 64
const MAX_RECORD_BATCH = 64

/**
 * The sender fiber: claims due sessions, asks the pure planner what to push,
 * sends, records every attempt, and stores what it learned. A session is
 * handled by one fiber at a time, so pushes to one token keep their order.
 */
export const SenderLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const planner = yield* PushPlanner
    const transport = yield* PushTransport
    const wake = yield* Queue.sliding<void>(1)

    const projector = yield* Effect.serviceOption(Projector)
    // The projector in this process wakes us through `projected`; its NOTIFY (payload: its
    // id) is for the senders of other relays on the database, so ours would only claim twice.
    const ownProjector = Option.match(projector, { onNone: () => null, onSome: (p) => p.instanceId })
    yield* sql.listen(SENDER_CHANNEL).pipe(
      Stream.runForEach((projectedBy) => (projectedBy === ownProjector ? Effect.void : Queue.offer(wake, undefined))),
      Effect.catchAll((error) => Effect.logWarning("LISTEN for due sessions failed; polling only", error.message)),
      Effect.forever,
      Effect.forkScoped
    )
    if (Option.isSome(projector)) {
      const subscription = yield* projector.value.projected.subscribe
      yield* subscription.take.pipe(Effect.zipRight(Queue.offer(wake, undefined)), Effect.forever, Effect.forkScoped)
    }

    const handle = (claim: ClaimedSession) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        // No projected state yet (should not happen): look again shortly rather than settle.
        if (claim.session === null || claim.session === undefined) {
          const retryShortly: SessionOutcome = { claim, run: null, attempts: [], memory: claim.memory, nextDueAt: now + 200, settled: false, plannedOn: null }
          return retryShortly
        }
        const plan = planner.plan({
          tenant: claim.tenant,
          sessionId: claim.sessionId,
          session: claim.session,
          registrations: claim.registrations,
          memory: claim.memory,
          now
        })
        let memory = plan.memory
        let nextDueAt = plan.nextDueAt
        const attempts: Array<Attempt> = []
        // One at a time: pushes to one token keep their order.
        for (const planned of plan.pushes) {
          const attemptedAt = yield* Clock.currentTimeMillis
          const result = yield* transport.send(planned.push)
          attempts.push({ planned, result, attemptedAt })
          if (result.outcome === "token-gone") {
            const event = yield* pushlineLogEvent(
              claim.tenant,
              claim.sessionId,
              new TokenInvalidated({
                token: planned.push.token,
                reason: result.reason ?? "Unregistered",
                invalidatedAt: result.invalidatedAt ?? now
              }),
              undefined
            )
            yield* appendEvents([event])
          }
          if (result.outcome === "misconfigured") {
            yield* Effect.logError(
              `APNs configuration problem: ${result.status} ${result.reason} (topic ${planned.push.topic}); not retried`
            )
          }
          const jitter = yield* Random.next
          // The throttle window runs from the run's clock, which the run records and replay
          // re-creates; a retry's backoff runs from when the failure was known.
          const settledAt = result.outcome === "retryable" ? yield* Clock.currentTimeMillis : now
          const settled = planner.settle(memory, planned, result, settledAt, jitter)
          memory = settled.memory
          if (settled.nextDueAt !== null) nextDueAt = nextDueAt === null ? settled.nextDueAt : Math.min(nextDueAt, settled.nextDueAt)
        }
        const run = plan.decisions.length === 0
          ? null
          : { sessionPosition: plan.sessionPosition, plannedAt: now, settings: planner.settings, decisions: plan.decisions }
        const handled: SessionOutcome = { claim, run, attempts, memory, nextDueAt, settled: true, plannedOn: plan.sessionPosition }
        return handled
      }).pipe(
        Effect.catchAllCause((cause) =>
          Effect.logWarning(`sender: session ${claim.sessionId} failed; its lease expires and it is retried`, cause).pipe(
            Effect.as(null)
          )
        )
      )

    /** Every session due now, page by page; a short page took them all. */
    const claimPages = Stream.paginateEffect(undefined, () =>
      Effect.map(claimDueSessions(CLAIM_LIMIT, LEASE_SECONDS), (claims) =>
        [claims, claims.length === CLAIM_LIMIT ? Option.some(undefined) : Option.none()] as const)
    )

    const record = (outcomes: ReadonlyArray<SessionOutcome>) =>
      recordOutcomes(outcomes).pipe(
        // Released due now (their state moved on while they were handled): claim again.
        Effect.flatMap((dueNow) => (dueNow > 0 ? Queue.offer(wake, undefined) : Effect.void)),
        Effect.catchAll((error) =>
          Effect.logWarning("sender: could not record outcomes; their leases expire and they are retried", error.message)
        )
      )

    // In the background the sender is one continuous pipeline: a wake claims at once,
    // even while earlier sessions are still being sent or recorded, so a transition
    // never waits for another session's APNs answer or bookkeeping. Outcomes are
    // recorded by one fiber, all that finished since its last statement together
    // (their leases hold meanwhile): batches grow with the load, without a timer.
    const finished = yield* Queue.unbounded<SessionOutcome>()
    yield* Queue.takeBetween(finished, 1, MAX_RECORD_BATCH).pipe(
      Effect.flatMap((outcomes) => record(Chunk.toReadonlyArray(outcomes))),
      Effect.forever,
      Effect.forkScoped
    )
    yield* Queue.offer(wake, undefined).pipe(Effect.delay(POLL_INTERVAL), Effect.forever, Effect.forkScoped)
    yield* Stream.fromQueue(wake).pipe(
      Stream.flatMap(() => claimPages),
      Stream.flattenIterables,
      // Sessions are handled as slots free up, so one slow APNs answer holds up only its own.
      Stream.mapEffect(handle, { concurrency: SESSION_CONCURRENCY, unordered: true }),
      Stream.runForEach((outcome) => (outcome === null ? Effect.void : Queue.offer(finished, outcome))),
      // A database error (it is down, or restarting): one line, then try again. A defect
      // (a bug) is logged whole.
      Effect.catchAllCause((cause) =>
        Option.match(Cause.failureOption(cause), {
          onNone: () => Effect.logError("sender: stopped by a defect; restarting", cause),
          onSome: (error) => Effect.logWarning(`sender: database unavailable (${describeError(error)}); retrying`)
        }).pipe(Effect.zipRight(Effect.sleep(POLL_INTERVAL)))
      ),
      Effect.forever,
      Effect.forkScoped
    )
  })
)
