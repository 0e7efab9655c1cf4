import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import { ApnsClient, type ApnsRequest } from "../../src/apns/ApnsClient.ts"
import { importApnsKey } from "../../src/apns/ApnsConfig.ts"
import type { ApnsResult } from "../../src/apns/ApnsResult.ts"
import { generateSigningKey } from "../../src/apns/simulator/localKeys.ts"
import { clientLayer, startSimulator, TOKEN, tokenN } from "./support/simulator.ts"

const alert = (token: string, overrides: Partial<ApnsRequest["headers"]> = {}): ApnsRequest => ({
  deviceToken: token,
  environment: "sandbox",
  headers: { pushType: "alert", topic: "com.example.app", priority: 10, ...overrides },
  payload: { aps: { alert: { title: "Done", body: "All tests pass" } }, sessionID: "ses_1" }
})

const liveActivity = (token: string, aps: Record<string, unknown>, priority: 1 | 5 | 10 = 5): ApnsRequest => ({
  deviceToken: token,
  environment: "production",
  headers: { pushType: "liveactivity", topic: "com.example.app.push-type.liveactivity", priority },
  payload: { aps }
})

const withClient = <A>(
  body: (fixture: Awaited<ReturnType<typeof startSimulator>>) => Effect.Effect<A, never, ApnsClient>,
  options: Parameters<typeof startSimulator>[0] = {},
  clientOverrides: Parameters<typeof clientLayer>[1] = {}
) =>
  Effect.acquireUseRelease(
    Effect.promise(() => startSimulator(options)),
    (fixture) => body(fixture).pipe(Effect.provide(clientLayer(fixture, clientOverrides))),
    (fixture) => Effect.promise(() => fixture.close())
  )

const send = (request: ApnsRequest) => Effect.flatMap(ApnsClient, (client) => client.send(request))

const summary = (result: ApnsResult) =>
  result._tag === "Delivered" ? { _tag: result._tag, status: 200 } : { _tag: result._tag, status: result.status, reason: result.reason }

describe("ApnsClient against the simulator (HTTP/2 over TLS)", () => {
  it.live("delivers alerts and Live Activity pushes; the simulator records exact headers and payload", () =>
    withClient((fixture) =>
      Effect.gen(function*() {
        const first = yield* send(alert(TOKEN, { collapseId: "pl-ses_1", apnsId: "0a9e3c4d-2b1f-4e5a-9c8d-7b6a5f4e3d2c" }))
        expect(first._tag).toBe("Delivered")
        expect(first._tag === "Delivered" && first.apnsId).toBe("0a9e3c4d-2b1f-4e5a-9c8d-7b6a5f4e3d2c")
        const second = yield* send(liveActivity(tokenN(7), { timestamp: 1_795_000_000, event: "update", "content-state": { status: "working" } }))
        expect(second._tag).toBe("Delivered")
        expect(fixture.simulator.pushes.map((p) => ({ token: p.token, headers: p.headers, payload: p.payload }))).toEqual([
          {
            token: TOKEN,
            headers: {
              "apns-push-type": "alert",
              "apns-topic": "com.example.app",
              "apns-priority": "10",
              "apns-collapse-id": "pl-ses_1",
              "apns-id": "0a9e3c4d-2b1f-4e5a-9c8d-7b6a5f4e3d2c"
            },
            payload: { aps: { alert: { title: "Done", body: "All tests pass" } }, sessionID: "ses_1" }
          },
          {
            token: tokenN(7),
            headers: { "apns-push-type": "liveactivity", "apns-topic": "com.example.app.push-type.liveactivity", "apns-priority": "5" },
            payload: { aps: { timestamp: 1_795_000_000, event: "update", "content-state": { status: "working" } } }
          }
        ])
      })
    ))

  it.live("classifies every rejection the simulator (and Apple) can give", () =>
    withClient((fixture) =>
      Effect.gen(function*() {
        fixture.simulator.unregistered.set(tokenN(410), 1_795_000_000_000)
        fixture.simulator.tokenBundles.set(tokenN(77), "com.other.app")
        fixture.simulator.faultsByToken.set(tokenN(429), { kind: "status", status: 429 })
        fixture.simulator.faultsByToken.set(tokenN(500), { kind: "status", status: 500 })
        fixture.simulator.faultsByToken.set(tokenN(503), { kind: "status", status: 503 })
        fixture.simulator.faultsByToken.set(tokenN(504), { kind: "status", status: 503, reason: "Shutdown" })
        const cases: Array<[ApnsRequest, ReturnType<typeof summary>]> = [
          [alert("zz-not-hex"), { _tag: "TokenGone", status: 400, reason: "BadDeviceToken" }],
          [alert(tokenN(410)), { _tag: "TokenGone", status: 410, reason: "Unregistered" }],
          [alert(tokenN(77)), { _tag: "Misconfigured", status: 400, reason: "DeviceTokenNotForTopic" }],
          [alert(TOKEN, { topic: "com.example.app.push-type.liveactivity" }), { _tag: "Misconfigured", status: 400, reason: "TopicDisallowed" }],
          [alert(TOKEN, { topic: "" }), { _tag: "Misconfigured", status: 400, reason: "MissingTopic" }],
          [alert(TOKEN, { collapseId: "x".repeat(65) }), { _tag: "Rejected", status: 400, reason: "BadCollapseId" }],
          [alert(TOKEN, { apnsId: "NOT-A-UUID" }), { _tag: "Rejected", status: 400, reason: "BadMessageId" }],
          [alert(TOKEN, { priority: 7 as 5 }), { _tag: "Rejected", status: 400, reason: "BadPriority" }],
          [alert(TOKEN, { pushType: "banner" as "alert" }), { _tag: "Rejected", status: 400, reason: "InvalidPushType" }],
          [liveActivity(TOKEN, { timestamp: 1, event: "update", "content-state": {} }, 1), { _tag: "Rejected", status: 400, reason: "BadPriority" }],
          [{ ...alert(TOKEN), payload: { aps: { alert: "x".repeat(5000) } } }, { _tag: "Rejected", status: 413, reason: "PayloadTooLarge" }],
          [liveActivity(TOKEN, { event: "update", "content-state": {} }), { _tag: "Rejected", status: 400, reason: "MissingLiveActivityTimestamp" }],
          [liveActivity(TOKEN, { timestamp: 1_795_000_000_000, event: "update", "content-state": {} }), { _tag: "Rejected", status: 400, reason: "LiveActivityTimestampNotSeconds" }],
          [liveActivity(TOKEN, { timestamp: 1_795_000_000, "content-state": {} }), { _tag: "Rejected", status: 400, reason: "MissingLiveActivityEvent" }],
          [liveActivity(TOKEN, { timestamp: 1_795_000_000, event: "start", "content-state": {} }), { _tag: "Rejected", status: 400, reason: "MissingAttributesType" }],
          [alert(tokenN(429)), { _tag: "Retryable", status: 429, reason: "TooManyRequests" }],
          [alert(tokenN(500)), { _tag: "Retryable", status: 500, reason: "InternalServerError" }],
          [alert(tokenN(503)), { _tag: "Retryable", status: 503, reason: "ServiceUnavailable" }],
          [alert(tokenN(504)), { _tag: "Retryable", status: 503, reason: "Shutdown" }]
        ]
        for (const [request, expected] of cases) {
          expect(summary(yield* send(request))).toEqual(expected)
        }
        const gone = yield* send(alert(tokenN(410)))
        expect(gone._tag === "TokenGone" && gone.timestamp).toBe(1_795_000_000_000)
        expect(fixture.simulator.pushes).toEqual([])
      })
    ))

  it.live("a key the simulator does not know is a configuration problem", () =>
    Effect.acquireUseRelease(
      Effect.promise(() => startSimulator()),
      (fixture) =>
        Effect.gen(function*() {
          const stranger = generateSigningKey("SIMTEAM001", "OTHERKEY01")
          const privateKey = yield* Effect.orDie(importApnsKey(stranger.privateKeyPem, "APNS_PRIVATE_KEY"))
          const settings = yield* fixture.clientSettings()
          const result = yield* send(alert(TOKEN)).pipe(
            Effect.provide(Layer.scoped(ApnsClient, ApnsClient.make({ ...settings, credentials: { teamId: "SIMTEAM001", keyId: "OTHERKEY01", privateKey } }, "t")))
          )
          expect(summary(result)).toEqual({ _tag: "Misconfigured", status: 403, reason: "InvalidProviderToken" })
        }),
      (fixture) => Effect.promise(() => fixture.close())
    ))

  it.effect("re-mints after ExpiredProviderToken, but never within 20 minutes of the last mint", () => {
    const start = Date.parse("2026-11-22T10:00:00Z")
    let simulatorNow = start
    return withClient(
      () =>
        Effect.gen(function*() {
          yield* TestClock.setTime(start)
          expect((yield* send(alert(TOKEN)))._tag).toBe("Delivered")
          // An hour later by APNs' clock, our 10-minute-old token is "expired" (clock skew).
          simulatorNow = start + 61 * 60_000
          yield* TestClock.setTime(start + 10 * 60_000)
          expect(summary(yield* send(alert(TOKEN)))).toEqual({ _tag: "Retryable", status: 403, reason: "ExpiredProviderToken" })
          // 21 minutes after the mint a new token is allowed, and it is accepted.
          yield* TestClock.setTime(start + 21 * 60_000)
          expect((yield* send(alert(TOKEN)))._tag).toBe("Delivered")
        }),
      { now: () => simulatorNow },
      { connections: 1 }
    )
  })

  it.live("GOAWAY in the middle of a burst: every request ends delivered or retryable, none hangs", () =>
    withClient((fixture) =>
      Effect.gen(function*() {
        fixture.simulator.faultsByToken.set(tokenN(99), { kind: "goaway" })
        const requests = Array.from({ length: 300 }, (_, i) => alert(i === 120 ? tokenN(99) : tokenN(i + 1000)))
        const results = yield* Effect.all(requests.map(send), { concurrency: "unbounded" }).pipe(Effect.timeout("20 seconds"), Effect.orDie)
        const tags = results.map((r) => r._tag)
        expect(tags.every((tag) => tag === "Delivered" || tag === "Retryable")).toBe(true)
        expect(tags.filter((tag) => tag === "Delivered").length).toBe(fixture.simulator.pushes.length)
        expect(fixture.simulator.connectionsOpened).toBeGreaterThanOrEqual(2)
        // The client carries on over the replacement connection.
        expect((yield* send(alert(TOKEN)))._tag).toBe("Delivered")
      })
    ))

  it.live("respects the server's stream limit under a burst larger than it", () =>
    withClient(
      (fixture) =>
        Effect.gen(function*() {
          fixture.simulator.faultRate = { probability: 1, faults: [{ kind: "latency", ms: 20 }] }
          const results = yield* Effect.all(Array.from({ length: 60 }, (_, i) => send(alert(tokenN(i + 1)))), { concurrency: "unbounded" })
          expect(results.every((r) => r._tag === "Delivered")).toBe(true)
          expect(fixture.simulator.maxConcurrentSeen).toBeLessThanOrEqual(4)
          expect(fixture.simulator.maxConcurrentSeen).toBeGreaterThanOrEqual(2)
          expect(fixture.simulator.connectionsOpened).toBe(1)
        }),
      { maxConcurrentStreams: 4 },
      { connections: 1 }
    ))

  it.live("a dead connection is replaced and later pushes go through", () =>
    withClient((fixture) =>
      Effect.gen(function*() {
        expect((yield* send(alert(TOKEN)))._tag).toBe("Delivered")
        fixture.simulator.faultsByToken.set(tokenN(5), { kind: "reset" })
        const reset = yield* send(alert(tokenN(5)))
        expect(reset._tag).toBe("Retryable")
        expect(reset._tag === "Retryable" && reset.status).toBe(null)
        const after = yield* Effect.all(Array.from({ length: 5 }, () => send(alert(TOKEN))))
        expect(after.map((r) => r._tag)).toEqual(["Delivered", "Delivered", "Delivered", "Delivered", "Delivered"])
        expect(fixture.simulator.connectionsOpened).toBeGreaterThanOrEqual(2)
      })
    ))

  it.live("an unreachable host is retryable within the request timeout", () =>
    Effect.gen(function*() {
      const fixture = yield* Effect.promise(() => startSimulator())
      const settings = yield* fixture.clientSettings({ requestTimeoutMs: 1500 })
      yield* Effect.promise(() => fixture.close())
      const result = yield* send(alert(TOKEN)).pipe(Effect.provide(Layer.scoped(ApnsClient, ApnsClient.make(settings, "t"))))
      expect(result._tag).toBe("Retryable")
      expect(result._tag === "Retryable" && result.latencyMs).toBeLessThan(2500)
    }))
})
