import { Clock, Context, Deferred, Duration, Effect, Layer, Ref, Runtime } from "effect"
import { SpoolUnavailable } from "./BridgeErrors.ts"
import { SpoolFile, type SpoolEntry, type SpoolLimits } from "./SpoolFile.ts"

export type { SpoolEntry, SpoolLimits } from "./SpoolFile.ts"

/**
 * The durable spool as a service: items go in as soon as they are seen and
 * leave only when the relay acknowledged them (see SpoolFile for the format).
 */
export class Spool extends Context.Tag("pushline/bridge/Spool")<Spool, {
  readonly append: (items: ReadonlyArray<unknown>) => Effect.Effect<void, SpoolUnavailable>
  /** Waits for at least one item, then up to `linger` for more (unless `max` are already there). */
  readonly takeBatch: (max: number, linger: Duration.DurationInput) => Effect.Effect<ReadonlyArray<SpoolEntry>>
  readonly ack: (seq: number) => Effect.Effect<void, SpoolUnavailable>
  readonly discard: (seq: number) => Effect.Effect<void, SpoolUnavailable>
  readonly size: Effect.Effect<number>
}>() {
  static readonly layer = (dir: string, limits: SpoolLimits) =>
    Layer.scoped(Spool, make(dir, limits))
}

export const DEFAULT_LIMITS: SpoolLimits = { maxEvents: 50_000, maxBytes: 64 * 1024 * 1024 }

const make = (dir: string, limits: SpoolLimits) =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const io = <A>(what: string, f: () => A) =>
      Effect.try({ try: f, catch: (error) => new SpoolUnavailable({ path: dir, reason: `${what}: ${String(error)}` }) })
    // Said loudly, at most every few seconds, with the running total.
    let lastWarned = 0
    let pendingDrops = 0
    const onOverflow = (dropped: number, total: number) => {
      pendingDrops += dropped
      const now = Runtime.runSync(runtime)(Clock.currentTimeMillis)
      if (now - lastWarned < 5000) return
      lastWarned = now
      const message = `SPOOL FULL (${limits.maxEvents} events / ${limits.maxBytes} bytes in ${dir}): dropped the ${pendingDrops} oldest events the relay has not acknowledged (${total} since start). Is the relay reachable?`
      pendingDrops = 0
      Runtime.runFork(runtime)(Effect.logError(message))
    }
    const file = yield* Effect.acquireRelease(
      io("open", () => SpoolFile.open(dir, limits, onOverflow)),
      (spool) => Effect.sync(() => spool.close())
    )
    if (file.size > 0) yield* Effect.logInfo(`spool ${dir}: ${file.size} events from before are delivered first`)
    const changed = yield* Ref.make(yield* Deferred.make<void>())
    const wake = Effect.flatMap(Deferred.make<void>(), (next) =>
      Effect.flatMap(Ref.getAndSet(changed, next), (current) => Deferred.succeed(current, undefined)))

    // Take the latch before looking, so an append in between still wakes us.
    const awaitItems: Effect.Effect<void> = Effect.flatMap(Ref.get(changed), (latch) =>
      file.size > 0 ? Effect.void : Deferred.await(latch).pipe(Effect.zipRight(Effect.suspend(() => awaitItems))))

    return Spool.of({
      append: (items) => io("append", () => file.append(items)).pipe(Effect.zipLeft(wake)),
      takeBatch: (max, linger) =>
        awaitItems.pipe(
          Effect.zipRight(Effect.suspend(() => (file.size >= max ? Effect.void : Effect.sleep(linger)))),
          Effect.zipRight(Effect.sync(() => file.peek(max)))
        ),
      ack: (seq) => io("ack", () => file.ack(seq)),
      discard: (seq) => io("discard", () => file.discard(seq)),
      size: Effect.sync(() => file.size)
    })
  })
