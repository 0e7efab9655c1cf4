import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Clock, Context, Duration, Effect, Layer, Option, Queue, Random, Stream } from "effect"
import { TokenInvalidated } from "../../domain/PushlineEvent.ts"
import { appendEvents } from "../eventstore/appendEvents.ts"
import { pushlineLogEvent } from "../http/PushlineEvents.ts"
import { SENDER_CHANNEL } from "../projector/projectBatch.ts"
import { Projector } from "../projector/Projector.ts"
import { claimDueSessions, type ClaimedSession, releaseSession } from "./claimDueSessions.ts"
import { PushPlanner } from "./PushPlanner.ts"
import { PushTransport } from "./PushTransport.ts"
import { recordDelivery } from "./recordDelivery.ts"
import { recordRun } from "./recordRun.ts"

const CLAIM_LIMIT = 32
const LEASE_SECONDS = 30
const POLL_INTERVAL = Duration.millis(200)
const SESSION_CONCURRENCY = 16

/**
 * The sender fiber: claims due sessions, asks the pure planner what to push,
 * sends, records every attempt, and stores what it learned. A session is
 * handled by one fiber at a time, so pushes to one token keep their order.
 */
export class Sender extends Context.Tag("pushline/Sender")<Sender, {
  /** Handles every session due now (tests and /v1/event use it to avoid waiting for a poll). */
  readonly runOnce: Effect.Effect<number>
}>() {
  static readonly layer = Layer.scoped(
    Sender,
    Effect.gen(function*() {
      const sql = yield* PgClient.PgClient
      const planner = yield* PushPlanner
      const transport = yield* PushTransport
      const wake = yield* Queue.sliding<void>(1)

      yield* sql.listen(SENDER_CHANNEL).pipe(
        Stream.runForEach(() => Queue.offer(wake, undefined)),
        Effect.catchAll((error) => Effect.logWarning("LISTEN for due sessions failed; polling only", error.message)),
        Effect.forever,
        Effect.forkScoped
      )
      const projector = yield* Effect.serviceOption(Projector)
      if (Option.isSome(projector)) {
        const subscription = yield* projector.value.projected.subscribe
        yield* subscription.take.pipe(Effect.zipRight(Queue.offer(wake, undefined)), Effect.forever, Effect.forkScoped)
      }

      const handle = (claim: ClaimedSession) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          // No projected state yet (should not happen): look again shortly rather than settle.
          if (claim.session === null || claim.session === undefined) {
            return yield* releaseSession({ ...claim, causedBy: null }, claim.memory, now + 200)
          }
          const plan = planner.plan({
            tenant: claim.tenant,
            sessionId: claim.sessionId,
            session: claim.session,
            registrations: claim.registrations,
            memory: claim.memory,
            now
          })
          const runId = yield* recordRun(claim, plan, now, planner.settings)
          let memory = plan.memory
          let nextDueAt = plan.nextDueAt
          for (const planned of plan.pushes) {
            const result = yield* transport.send(planned.push)
            yield* recordDelivery(claim.tenant, claim.sessionId, runId, planned, result)
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
          yield* releaseSession(claim, memory, nextDueAt)
        }).pipe(
          Effect.catchAllCause((cause) =>
            Effect.logWarning(`sender: session ${claim.sessionId} failed; its lease expires and it is retried`, cause)
          )
        )

      const runOnce = Effect.gen(function*() {
        let handled = 0
        while (true) {
          const claims = yield* claimDueSessions(CLAIM_LIMIT, LEASE_SECONDS)
          if (claims.length === 0) return handled
          yield* Effect.forEach(claims, handle, { concurrency: SESSION_CONCURRENCY, discard: true })
          handled += claims.length
        }
      }).pipe(
        Effect.catchAll((error) => Effect.logWarning("sender: database unavailable", error.message).pipe(Effect.as(0)))
      )

      yield* runOnce.pipe(
        Effect.zipRight(Queue.take(wake).pipe(Effect.timeoutOption(POLL_INTERVAL))),
        Effect.forever,
        Effect.forkScoped
      )
      return { runOnce: Effect.provideService(runOnce, PgClient.PgClient, sql).pipe(Effect.provideService(SqlClient.SqlClient, sql)) }
    })
  )
}
