import { PgClient } from "@effect/sql-pg"
import { Cause, Chunk, Clock, Duration, Effect, Layer, Metric, Option, Queue, Random, Schedule, Stream } from "effect"
import type { AttemptAnswer } from "../../domain/PushDecision.ts"
import { TokenEnvironmentCorrected, TokenInvalidated } from "../../domain/PushlineEvent.ts"
import type { Intent } from "../../projections/PushPlanner.ts"
import { failedStep, planStep, settleStep } from "../../projections/SenderStep.ts"
import { RelayConfig } from "../config/RelayConfig.ts"
import { Notifications } from "../db/Notifications.ts"
import { describeError } from "../errors/describeError.ts"
import { appendEvents } from "../eventstore/appendEvents.ts"
import { pushlineLogEvent } from "../eventstore/pushlineLogEvent.ts"
import { SENDER_CHANNEL } from "../projector/projectBatch.ts"
import { Projector } from "../projector/Projector.ts"
import { claimDueSessions, type ClaimedSession } from "./claimDueSessions.ts"
import { releaseClaims } from "./releaseClaims.ts"
import { holdSenderInstance } from "./SenderInstance.ts"
import { recordAttempt, recordDecisions, sessionsInHand } from "./SenderMetrics.ts"
import { PushPlanner } from "./PushPlanner.ts"
import { type OutgoingPush, PushTransport } from "./PushTransport.ts"
import { type Attempt, recordOutcomes, type SessionOutcome } from "./recordOutcomes.ts"

const CLAIM_LIMIT = 32
const LEASE_SECONDS = 30
const POLL_INTERVAL = Duration.millis(200)
const SESSION_CONCURRENCY = 64
const MAX_RECORD_BATCH = 64

const pushOf = (intent: Intent): OutgoingPush => ({
  token: intent.token,
  environment: intent.environment,
  pushType: intent.pushType,
  topic: intent.topic,
  priority: intent.priority,
  collapseId: intent.collapseId,
  payload: intent.payload
})

/**
 * The sender fiber: claims due sessions, asks the pure planner what to push,
 * sends, records every attempt, and stores what it learned. A session is
 * handled by one fiber at a time, so pushes to one token keep their order.
 *
 * When its scope closes (SIGTERM, SIGINT) it drains: it stops claiming, lets the
 * sessions in hand finish their pushes and records them, for at most
 * PUSHLINE_DRAIN_TIMEOUT_MS, and releases what is still unfinished so the next relay
 * takes it at once instead of after the lease. A push whose answer was recorded is
 * never sent again by the next relay.
 */
export const SenderLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const transport = yield* PushTransport
    const wake = yield* Queue.sliding<void>(1)

    const projector = yield* Effect.serviceOption(Projector)
    // The projector in this process wakes us through `projected`; its NOTIFY (payload: its
    // id) is for the senders of other relays on the database, so ours would only claim twice.
    const ownProjector = Option.match(projector, { onNone: () => null, onSome: (p) => p.instanceId })
    const notifications = yield* Notifications
    yield* notifications.listen(SENDER_CHANNEL).pipe(
      Stream.runForEach((projectedBy) => (projectedBy === ownProjector ? Effect.void : Queue.offer(wake, undefined))),
      Effect.forkScoped
    )
    if (Option.isSome(projector)) {
      const subscription = yield* projector.value.projected.subscribe
      yield* subscription.take.pipe(Effect.zipRight(Queue.offer(wake, undefined)), Effect.forever, Effect.forkScoped)
    }

    const instance = yield* holdSenderInstance
    const planner = yield* PushPlanner
    // Since when the sender claims without failing: its start, or the end of an outage.
    let resumedAt = yield* Clock.currentTimeMillis
    let claimsFailing = false
    const currentSettings = () => ({ ...planner.settings, resumedAt })
    const { drainTimeoutMs } = yield* RelayConfig

    let draining = false
    /** Claims taken and not yet recorded, by session: what a drain waits for. */
    const inHand = new Map<string, ClaimedSession>()
    const keyOf = (claim: ClaimedSession) => `${claim.tenant}\u0000${claim.sessionId}`
    const hold = (claims: ReadonlyArray<ClaimedSession>) =>
      Effect.suspend(() => {
        for (const claim of claims) inHand.set(keyOf(claim), claim)
        return Metric.set(sessionsInHand, inHand.size)
      })
    /** Recorded (or given up on): no longer in hand, unless a newer claim of the session is. */
    const settle = (claims: ReadonlyArray<ClaimedSession>) =>
      Effect.suspend(() => {
        for (const claim of claims) if (inHand.get(keyOf(claim))?.leasedUntil === claim.leasedUntil) inHand.delete(keyOf(claim))
        return Metric.set(sessionsInHand, inHand.size)
      })

    /** One claimed session through the pure sender step: plan, send one push at a time, settle. */
    const step = (claim: ClaimedSession, now: number) =>
      Effect.gen(function*() {
        const memory = claim.memory
        if (claim.undecodable !== null || memory === null) {
          yield* Effect.logError(`sender: session ${claim.sessionId} not planned: ${claim.undecodable}`)
          return failed(claim, now, claim.undecodable ?? "sender memory does not decode", claim.causedBy)
        }
        const settings = currentSettings()
        const plan = yield* Effect.try(() =>
          planStep({ session: claim.session, registrations: claim.registrations, memory, now, settings })
        )
        const attempts: Array<Attempt> = []
        const learned: Array<TokenInvalidated | TokenEnvironmentCorrected> = []
        // One at a time: pushes to one token keep their order.
        for (const intent of plan.intents) {
          const attemptedAt = yield* Clock.currentTimeMillis
          const result = yield* transport.send(pushOf(intent))
          const answer: AttemptAnswer = {
            outcome: result.outcome,
            retryAfterMs: result.retryAfterMs,
            jitter: yield* Random.next,
            answeredAt: yield* Clock.currentTimeMillis
          }
          attempts.push({ intent, result, answer, attemptedAt })
          yield* recordAttempt(result, (answer.answeredAt - attemptedAt) / 1000)
          // What APNs taught about a token goes into the log, so the folds (and replay) learn it.
          if (result.outcome === "token-gone") {
            learned.push(new TokenInvalidated({ token: intent.token, reason: result.reason ?? "Unregistered", invalidatedAt: result.invalidatedAt ?? now }))
          } else if (result.fallbackFrom !== null && result.outcome === "delivered") {
            learned.push(new TokenEnvironmentCorrected({ token: intent.token, apnsEnv: result.environment, reason: result.fallbackFrom.reason }))
          }
          if (result.outcome === "misconfigured") {
            yield* Effect.logError(`APNs configuration problem: ${result.status} ${result.reason} (topic ${intent.topic}); not retried`)
          }
        }
        if (learned.length > 0) {
          yield* appendEvents(yield* Effect.forEach(learned, (event) => pushlineLogEvent(claim.tenant, claim.sessionId, event, undefined)))
        }
        const settled = settleStep(plan, attempts.map((attempt) => attempt.answer))
        yield* recordDecisions(plan.decisions)
        const outcome: SessionOutcome = {
          claim,
          run: plan.recorded ? { sessionPosition: plan.sessionPosition, plannedAt: now, settings, decisions: plan.decisions } : null,
          attempts,
          memory: settled.memory,
          nextDueAt: settled.nextDueAt,
          // No projected state yet: the claim's cause is not handled, look again shortly.
          settled: plan.sessionPosition !== null,
          plannedOn: plan.sessionPosition
        }
        return outcome
      })

    const failed = (claim: ClaimedSession, now: number, error: string, position: string | null): SessionOutcome => {
      const result = failedStep(claim.memory, now, error)
      return {
        claim,
        run: { sessionPosition: position, plannedAt: now, settings: currentSettings(), decisions: result.decisions },
        attempts: [],
        memory: result.memory,
        nextDueAt: result.nextDueAt,
        settled: true,
        plannedOn: null
      }
    }

    const handle = (claim: ClaimedSession) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        return yield* step(claim, now).pipe(
          // Planning threw (a bug, or a state it cannot handle): recorded, retried a few times, then given up.
          Effect.catchTag("UnknownException", (error) =>
            Effect.logError(`sender: planning session ${claim.sessionId} failed`, error.error).pipe(
              Effect.as(failed(claim, now, `planning failed: ${describeError(error.error)}`, claim.session?.lastPosition ?? claim.causedBy))
            )
          )
        )
      }).pipe(
        Effect.catchAllCause((cause) =>
          Effect.logWarning(`sender: session ${claim.sessionId} failed; its lease expires and it is retried`, cause).pipe(
            Effect.zipRight(settle([claim])),
            Effect.as(null)
          )
        )
      )

    /** Every session due now, page by page; a short page took them all. */
    const claimPages = Stream.paginateEffect(undefined, () =>
      Effect.gen(function*() {
        if (draining) return [[] as Array<ClaimedSession>, Option.none()] as const
        const claims = yield* claimDueSessions(CLAIM_LIMIT, LEASE_SECONDS, instance)
        if (claimsFailing) {
          claimsFailing = false
          resumedAt = yield* Clock.currentTimeMillis
        }
        yield* hold(claims)
        return [claims, claims.length === CLAIM_LIMIT ? Option.some(undefined) : Option.none()] as const
      })
    )

    const record = (outcomes: ReadonlyArray<SessionOutcome>) =>
      recordOutcomes(outcomes).pipe(
        Effect.tap(() => settle(outcomes.map((outcome) => outcome.claim))),
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
        }).pipe(
          Effect.zipRight(Effect.sync(() => void (claimsFailing = true))),
          Effect.zipRight(Effect.sleep(POLL_INTERVAL))
        )
      ),
      Effect.forever,
      Effect.forkScoped
    )

    // Added last, so it runs first when the scope closes: before the fibers above stop.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        draining = true
        const started = yield* Clock.currentTimeMillis
        const inHandAtStart = inHand.size
        // Finalizers are uninterruptible: the wait must be made interruptible for its timeout to end it.
        yield* Effect.sync(() => inHand.size).pipe(
          Effect.repeat({ schedule: Schedule.spaced(Duration.millis(10)), until: (size) => size === 0 }),
          Effect.interruptible,
          Effect.timeoutOption(Duration.millis(drainTimeoutMs))
        )
        const left = [...inHand.values()]
        if (left.length > 0) {
          yield* releaseClaims(left).pipe(
            Effect.catchAll((error) => Effect.logWarning(`sender: could not release ${left.length} claims; their leases expire`, error.message))
          )
        }
        const took = (yield* Clock.currentTimeMillis) - started
        yield* Effect.logInfo(
          `sender: drained in ${took} ms: ${inHandAtStart - left.length} sessions in hand finished and recorded, ${left.length} released unfinished`
        )
      })
    )
  })
)
