import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, TestClock } from "effect"
import { decodeJwt, decodeProtectedHeader, importPKCS8 } from "jose"
import { makeProviderToken } from "../../src/apns/ProviderToken.ts"
import { generateSigningKey } from "../../src/apns/simulator/localKeys.ts"

const minutes = (n: number) => n * 60_000
const T0 = Date.parse("2026-11-22T10:00:00Z")

const setup = Effect.gen(function*() {
  const key = generateSigningKey("TEAM123456", "KEY1234567")
  const privateKey = yield* Effect.promise(() => importPKCS8(key.privateKeyPem, "ES256"))
  yield* TestClock.setTime(T0)
  return yield* makeProviderToken({ teamId: key.teamId, keyId: key.keyId, privateKey })
})

describe("ProviderToken", () => {
  it.effect("is ES256 with kid, iss and iat in seconds, minted once and reused", () =>
    Effect.gen(function*() {
      const token = yield* setup
      const first = yield* token.current
      expect(decodeProtectedHeader(first)).toEqual({ alg: "ES256", kid: "KEY1234567" })
      expect(decodeJwt(first)).toEqual({ iss: "TEAM123456", iat: T0 / 1000 })
      for (let i = 0; i < 20; i++) expect(yield* token.current).toBe(first)
      yield* TestClock.adjust(minutes(49))
      expect(yield* token.current).toBe(first)
      expect(yield* token.mintCount).toBe(1)
    }))

  it.effect("is refreshed after 50 minutes", () =>
    Effect.gen(function*() {
      const token = yield* setup
      const first = yield* token.current
      yield* TestClock.adjust(minutes(50))
      const second = yield* token.current
      expect(second).not.toBe(first)
      expect(decodeJwt(second).iat).toBe((T0 + minutes(50)) / 1000)
      expect(yield* token.mintCount).toBe(2)
    }))

  it.effect("after ExpiredProviderToken: re-minted only if the last mint is 20 minutes old", () =>
    Effect.gen(function*() {
      const token = yield* setup
      const first = yield* token.current
      yield* TestClock.adjust(minutes(19))
      expect(yield* token.renewAfterRejection(first)).toEqual(Option.none())
      yield* TestClock.adjust(minutes(1))
      const renewed = yield* token.renewAfterRejection(first)
      expect(Option.isSome(renewed) && renewed.value !== first).toBe(true)
      // Other requests rejected with the old token share the renewed one.
      expect(yield* token.renewAfterRejection(first)).toEqual(renewed)
      expect(yield* token.current).toEqual(Option.getOrThrow(renewed))
      expect(yield* token.mintCount).toBe(2)
    }))
})
