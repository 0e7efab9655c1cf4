import { expect } from "@effect/vitest"
import { Effect, Option } from "effect"
import { createHash } from "node:crypto"
import { LocalApnsSimulator } from "../../src/apns/ApnsLive.ts"
import type { RecordedPush } from "../../src/apns/simulator/ApnsSimulator.ts"
import { uniqueTenant } from "./database.ts"
import { quiescent } from "./quiescent.ts"
import { request, RelayUrl } from "./server.ts"

/**
 * A 64-hex APNs token derived from a label: its SHA-256, so labels of any length give
 * distinct tokens (cutting a long label to 32 characters could make two the same).
 */
export const hex = (seed: string) => createHash("sha256").update(seed).digest("hex")

/** What a test asserts of a push the simulator accepted. */
export interface Seen {
  readonly type: string
  readonly event: string
  readonly status: string | undefined
  readonly priority: string
  readonly token: string
}

export const describePush = (push: RecordedPush): Seen => ({
  type: push.headers["apns-push-type"] ?? "",
  event: push.payload.aps.event ?? push.payload.eventType ?? "",
  status: push.payload.aps["content-state"]?.status,
  priority: push.headers["apns-priority"] ?? "",
  token: push.token
})

export const pushesFor = (tokens: ReadonlyArray<string>) =>
  Effect.map(LocalApnsSimulator, (sim) => Option.getOrThrow(sim).pushes.filter((p) => tokens.includes(p.token)))

/** Waits until `done` holds for the pushes to these tokens and the relay has gone quiet: then they are all it sends. */
export const settle = (tokens: ReadonlyArray<string>, done: (pushes: ReadonlyArray<RecordedPush>) => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 300; i++) {
      if (done(yield* pushesFor(tokens))) break
      yield* Effect.sleep("50 millis")
    }
    yield* quiescent
    return (yield* pushesFor(tokens)).map(describePush)
  })

/** A tenant with one device (alert token and push-to-start token) registered. */
export const registeredDevice = (label: string) =>
  Effect.gen(function*() {
    const base = yield* RelayUrl
    const secret = `secret-${uniqueTenant(label)}`
    const device = hex(`${label}-alert`)
    const pushToStart = hex(`${label}-start`)
    const activity = hex(`${label}-activity`)
    const registered = yield* request(base, "POST", "/v1/device/register", { secret, deviceToken: device, pushToStartToken: pushToStart, apnsEnv: "sandbox" })
    expect(registered.status).toBe(200)
    return { base, secret, device, pushToStart, activity }
  })
