import { describe, expect, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Fiber, Random, TestClock } from "effect"
import * as fs from "node:fs"
import { backoffDelay, forward } from "../../src/bridge/Forwarder.ts"
import { DEFAULT_LIMITS, Spool } from "../../src/bridge/Spool.ts"
import { frame, startRecordingRelay, tempDir } from "./support.ts"

/** Real I/O (the relay's answer) advances on real time: poll it in small real steps (at least one, so I/O runs). */
const realWait = (check: () => boolean) =>
  Effect.promise(async () => {
    const deadline = Date.now() + 10_000
    do {
      if (Date.now() > deadline) throw new Error("timed out")
      await new Promise((resolve) => setTimeout(resolve, 5))
    } while (!check())
  })

describe("forwarder under TestClock", () => {
  it.effect("backs off exponentially with the jitter Effect's Random draws, and delivers once the relay takes it", () =>
    Effect.gen(function*() {
      const relay = yield* Effect.promise(() => startRecordingRelay())
      let calls = 0
      relay.answer = (body) => (++calls <= 3
        ? { status: 503, body: { ok: false, error: "database unavailable" } }
        : { status: 202, body: { ok: true, accepted: body.events.length, duplicates: 0 } })
      const dir = tempDir("forwarder-clock")
      const settings = {
        relay: { url: relay.url, secret: "clock-secret-0123456789" },
        maxBatch: 10,
        linger: Duration.zero,
        backoffBase: Duration.seconds(1),
        backoffMax: Duration.seconds(3)
      }
      const seed = "forwarder-clock"
      const program = Effect.gen(function*() {
        const spool = yield* Spool
        yield* spool.append([{ ...frame("evt_clock_1", "session.status", { sessionID: "ses_c", status: { type: "busy" } }), seenAt: 1 }])
        return yield* forward(settings)
      }).pipe(Effect.provide(Spool.layer(dir, DEFAULT_LIMITS)), Effect.withRandom(Random.make(seed)))
      const fiber = yield* Effect.fork(program)

      // The same seed draws the same jitters: the delays the forwarder must sleep.
      const expected: Array<number> = []
      const draws = Random.make(seed)
      for (let attempt = 0; attempt < 3; attempt++) {
        expected.push(Duration.toMillis(backoffDelay(attempt, settings.backoffBase, settings.backoffMax, yield* draws.next)))
      }
      expect(expected[0]).toBeGreaterThanOrEqual(500)
      expect(expected[2]).toBeLessThanOrEqual(3000)

      for (let attempt = 0; attempt < 3; attempt++) {
        yield* realWait(() => calls === attempt + 1)
        // Failed: asleep until exactly now + the drawn delay, and not a moment sooner.
        let sleeps = yield* TestClock.sleeps()
        while (Chunk.isEmpty(sleeps)) {
          yield* realWait(() => true)
          sleeps = yield* TestClock.sleeps()
        }
        const now = yield* TestClock.currentTimeMillis
        expect(Chunk.toReadonlyArray(sleeps)).toEqual([now + expected[attempt]!])
        yield* TestClock.adjust(Duration.millis(expected[attempt]! - 1))
        expect(calls).toBe(attempt + 1)
        yield* TestClock.adjust(Duration.millis(1))
      }
      yield* realWait(() => relay.batches.length === 1)
      expect(calls).toBe(4)
      expect(relay.events().map((event) => event.payload.id)).toEqual(["evt_clock_1"])
      yield* Fiber.interrupt(fiber)
      yield* Effect.promise(() => relay.close())
      fs.rmSync(dir, { recursive: true, force: true })
    }))
})
