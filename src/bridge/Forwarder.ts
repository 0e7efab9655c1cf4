import { Clock, Duration, Effect, Match, Random } from "effect"
import { postBatch, type RelayTarget } from "./RelayClient.ts"
import { Spool } from "./Spool.ts"

/**
 * Moves spooled items to the relay in batches (at most `maxBatch`, lingering
 * `linger` for more), oldest first, and removes them only once the relay
 * answered 202: at-least-once, and the relay's idempotency by event id turns
 * repeats into duplicates. Failures worth retrying (network, 408, 429, 5xx)
 * back off exponentially with jitter; no other 4xx is ever retried: an invalid
 * item is dropped (logged) and the rest goes on, and a refused secret or a wrong
 * URL stops forwarding with the spool kept until the bridge is restarted.
 */
export interface ForwarderSettings {
  readonly relay: RelayTarget
  readonly maxBatch: number
  readonly linger: Duration.DurationInput
  readonly backoffBase: Duration.DurationInput
  readonly backoffMax: Duration.DurationInput
}

export const DEFAULT_FORWARDER = {
  maxBatch: 200,
  linger: Duration.millis(25),
  backoffBase: Duration.millis(200),
  backoffMax: Duration.seconds(10)
} as const

/** Exponential with jitter in the upper half: base·2^n capped, times [0.5, 1) by `random` in [0, 1) (from Effect's Random). */
export const backoffDelay = (attempt: number, base: Duration.DurationInput, max: Duration.DurationInput, random: number): Duration.Duration => {
  const capped = Math.min(Duration.toMillis(max), Duration.toMillis(base) * 2 ** Math.min(attempt, 30))
  return Duration.millis(Math.round(capped * (0.5 + random / 2)))
}

export const forward = (settings: ForwarderSettings) =>
  Effect.gen(function*() {
    const spool = yield* Spool
    let failures = 0
    let failingSince = 0
    let lastReported = 0
    // After a 413 the batch is halved until one goes through.
    let limit = settings.maxBatch

    const failed = (message: string) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        if (failures === 0) failingSince = now
        failures++
        if (failures === 1 || now - lastReported >= 30_000) {
          lastReported = now
          const pending = yield* spool.size
          const text = `relay ${settings.relay.url}: ${message} (${pending} events waiting in the spool, failing for ${Math.round((now - failingSince) / 1000)} s); retrying`
          yield* Effect.logWarning(text)
        }
        yield* Effect.sleep(backoffDelay(failures - 1, settings.backoffBase, settings.backoffMax, yield* Random.next))
      })

    while (true) {
      const batch = yield* spool.takeBatch(limit, settings.linger)
      const result = yield* postBatch(settings.relay, batch.map((entry) => entry.line))
      yield* Match.valueTags(result, {
        Accepted: () =>
          Effect.gen(function*() {
            yield* spool.ack(batch.at(-1)!.seq)
            if (failures > 0) yield* Effect.logInfo(`relay ${settings.relay.url} reachable again after ${failures} failed attempts`)
            failures = 0
            limit = settings.maxBatch
          }),
        Unavailable: ({ reason }) => failed(reason),
        Refused: ({ fix, reason }) =>
          Effect.gen(function*() {
            const pending = yield* spool.size
            yield* Effect.logError(
              `relay ${settings.relay.url} refused the events (${reason}): ${fix} and restart; forwarding stopped, ${pending} events kept in the spool`
            )
            return yield* Effect.never
          }),
        TooLarge: ({ reason }) =>
          batch.length > 1
            ? Effect.sync(() => void (limit = Math.max(1, Math.floor(batch.length / 2))))
            : Effect.logError(`relay refused an event as too large (${reason}); dropped it: ${batch[0]!.line.slice(0, 200)}`).pipe(
              Effect.zipRight(spool.discard(batch[0]!.seq))
            ),
        Invalid: ({ index, reason }) => {
          // One bad item must not hold up the rest: drop the one named, or the lot if none is.
          const bad = index !== undefined && index < batch.length ? [batch[index]!] : batch
          return Effect.logError(`relay refused ${bad.length} event(s) as invalid (${reason}); dropped: ${bad.map((entry) => entry.line.slice(0, 200)).join(" | ")}`).pipe(
            Effect.zipRight(Effect.forEach(bad, (entry) => spool.discard(entry.seq), { discard: true }))
          )
        }
      })
    }
  })
