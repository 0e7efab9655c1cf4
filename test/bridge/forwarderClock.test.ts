import { describe, expect, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Fiber, Logger, Random, TestClock } from "effect"
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

  const settingsFor = (url: string) => ({
    relay: { url, secret: "clock-secret-0123456789" },
    maxBatch: 10,
    linger: Duration.zero,
    backoffBase: Duration.seconds(1),
    backoffMax: Duration.seconds(3)
  })

  /** Runs the forwarder over a spool holding `ids` against a relay answering `answer`; the logs are collected. */
  const forwarding = (ids: ReadonlyArray<string>, answer: (body: any, call: number) => { status: number; body: unknown }) =>
    Effect.gen(function*() {
      const relay = yield* Effect.promise(() => startRecordingRelay())
      let calls = 0
      relay.answer = (body) => answer(body, ++calls)
      const dir = tempDir("forwarder-4xx")
      const logs: Array<string> = []
      const logger = Logger.make(({ message }) => void logs.push(String(Array.isArray(message) ? message.join(" ") : message)))
      let spoolSize: Effect.Effect<number> = Effect.succeed(-1)
      const fiber = yield* Effect.gen(function*() {
        const spool = yield* Spool
        spoolSize = spool.size
        yield* spool.append(ids.map((id) => ({ ...frame(id, "session.status", { sessionID: "ses_c", status: { type: "busy" } }), seenAt: 1 })))
        return yield* forward(settingsFor(relay.url))
      }).pipe(
        Effect.provide(Spool.layer(dir, DEFAULT_LIMITS)),
        Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
        Effect.fork
      )
      const stop = Effect.gen(function*() {
        yield* Fiber.interrupt(fiber)
        yield* Effect.promise(() => relay.close())
        fs.rmSync(dir, { recursive: true, force: true })
      })
      return { relay, calls: () => calls, logs, spoolSize: Effect.suspend(() => spoolSize), stop }
    })

  for (const status of [401, 403, 404, 405]) {
    it.effect(`a ${status} stops forwarding with the spool kept: never retried, whatever the time`, () =>
      Effect.gen(function*() {
        const run = yield* forwarding(["evt_r1", "evt_r2"], () => ({ status, body: { ok: false, error: `refused with ${status}` } }))
        yield* realWait(() => run.logs.some((line) => line.includes("forwarding stopped")))
        expect(run.logs.find((line) => line.includes("forwarding stopped"))).toContain(status < 404 ? "check the secret" : "check the relay URL")
        expect(Chunk.toReadonlyArray(yield* TestClock.sleeps())).toEqual([])
        yield* TestClock.adjust(Duration.hours(1))
        yield* realWait(() => true)
        expect(run.calls()).toBe(1)
        expect(yield* run.spoolSize).toBe(2)
        yield* run.stop
      }))
  }

  for (const status of [409, 415, 422]) {
    it.effect(`a ${status} is not retried: the batch it refused is dropped and the next goes on`, () =>
      Effect.gen(function*() {
        const run = yield* forwarding(["evt_d1"], (body, call) =>
          call === 1 ? { status, body: { ok: false, error: `no (${status})` } } : { status: 202, body: { ok: true, accepted: body.events.length, duplicates: 0 } })
        yield* realWait(() => run.calls() === 1 && run.logs.some((line) => line.includes("dropped")))
        expect(yield* run.spoolSize).toBe(0)
        expect(Chunk.toReadonlyArray(yield* TestClock.sleeps())).toEqual([])
        yield* run.stop
      }))
  }

  for (const status of [408, 429, 500, 503]) {
    it.effect(`a ${status} is retried after a backoff`, () =>
      Effect.gen(function*() {
        const run = yield* forwarding(["evt_t1"], (body, call) =>
          call === 1 ? { status, body: { ok: false, error: "later" } } : { status: 202, body: { ok: true, accepted: body.events.length, duplicates: 0 } })
        yield* realWait(() => run.calls() === 1)
        let sleeps = yield* TestClock.sleeps()
        while (Chunk.isEmpty(sleeps)) {
          yield* realWait(() => true)
          sleeps = yield* TestClock.sleeps()
        }
        yield* TestClock.adjust(Duration.seconds(1))
        yield* realWait(() => run.relay.batches.length === 1)
        expect(run.relay.events().map((event) => event.payload.id)).toEqual(["evt_t1"])
        expect(yield* run.spoolSize).toBe(0)
        yield* run.stop
      }))
  }
})
