import { Clock, Effect, Option, Ref } from "effect"
import { type CryptoKey, type KeyObject, SignJWT } from "jose"

/**
 * The APNs provider token (JWT, ES256): minted once and reused by every
 * request; refreshed after 50 minutes (APNs rejects tokens older than 1 h);
 * re-minted after ExpiredProviderToken, but never twice within 20 minutes
 * (APNs answers TooManyProviderTokenUpdates to that).
 */
export const REFRESH_AFTER_MS = 50 * 60 * 1000
export const MIN_REMINT_INTERVAL_MS = 20 * 60 * 1000

export interface ProviderCredentials {
  readonly teamId: string
  readonly keyId: string
  readonly privateKey: CryptoKey | KeyObject
}

export interface ProviderToken {
  /** The token to send now (mints on first use or when 50 minutes old). */
  readonly current: Effect.Effect<string>
  /**
   * APNs said ExpiredProviderToken for `rejected`: mint a new one unless one was
   * minted less than 20 minutes ago. Returns the token to retry with, if any.
   */
  readonly renewAfterRejection: (rejected: string) => Effect.Effect<Option.Option<string>>
  /** How many tokens were minted so far (for tests and metrics). */
  readonly mintCount: Effect.Effect<number>
}

interface Minted {
  readonly token: string
  readonly mintedAt: number
}

export const signProviderToken = (credentials: ProviderCredentials, issuedAtMs: number) =>
  Effect.promise(() =>
    new SignJWT({})
      .setProtectedHeader({ alg: "ES256", kid: credentials.keyId })
      .setIssuer(credentials.teamId)
      .setIssuedAt(Math.floor(issuedAtMs / 1000))
      .sign(credentials.privateKey)
  )

export const makeProviderToken = (credentials: ProviderCredentials) =>
  Effect.gen(function*() {
    const state = yield* Ref.make<Option.Option<Minted>>(Option.none())
    const mints = yield* Ref.make(0)
    const lock = yield* Effect.makeSemaphore(1)

    const mint = (now: number) =>
      Effect.gen(function*() {
        const token = yield* signProviderToken(credentials, now)
        yield* Ref.set(state, Option.some({ token, mintedAt: now }))
        yield* Ref.update(mints, (n) => n + 1)
        return token
      })

    // Hot path: every push reads the token; only minting takes the lock.
    const mintIfStale = lock.withPermits(1)(
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const minted = yield* Ref.get(state)
        if (Option.isSome(minted) && now - minted.value.mintedAt < REFRESH_AFTER_MS) return minted.value.token
        return yield* mint(now)
      })
    )
    const current = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.flatMap(Ref.get(state), (minted) =>
        Option.isSome(minted) && now - minted.value.mintedAt < REFRESH_AFTER_MS ? Effect.succeed(minted.value.token) : mintIfStale
      )
    )

    const renewAfterRejection = (rejected: string) =>
      lock.withPermits(1)(
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const minted = yield* Ref.get(state)
          if (Option.isNone(minted)) return Option.some(yield* mint(now))
          // Another request already renewed it: use that one.
          if (minted.value.token !== rejected) return Option.some(minted.value.token)
          if (now - minted.value.mintedAt < MIN_REMINT_INTERVAL_MS) return Option.none()
          return Option.some(yield* mint(now))
        })
      )

    return { current, renewAfterRejection, mintCount: Ref.get(mints) } satisfies ProviderToken
  })
