import { Clock, Effect, Option } from "effect"
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
  /** `current` without minting, for the hot path: the token if one younger than 50 minutes exists at `now`. */
  readonly peek: (now: number) => string | undefined
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
    // Plain variables: read synchronously on every push, written only under the lock.
    let latest: Minted | undefined
    let mints = 0
    const lock = yield* Effect.makeSemaphore(1)

    const mint = (now: number) =>
      Effect.map(signProviderToken(credentials, now), (token) => {
        latest = { token, mintedAt: now }
        mints++
        return token
      })

    const peek = (now: number) => (latest !== undefined && now - latest.mintedAt < REFRESH_AFTER_MS ? latest.token : undefined)

    const mintIfStale = lock.withPermits(1)(
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const fresh = peek(now)
        return fresh !== undefined ? Effect.succeed(fresh) : mint(now)
      })
    )
    const current = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const fresh = peek(now)
      return fresh !== undefined ? Effect.succeed(fresh) : mintIfStale
    })

    const renewAfterRejection = (rejected: string) =>
      lock.withPermits(1)(
        Effect.flatMap(Clock.currentTimeMillis, (now): Effect.Effect<Option.Option<string>> => {
          if (latest === undefined) return Effect.asSome(mint(now))
          // Another request already renewed it: use that one.
          if (latest.token !== rejected) return Effect.succeed(Option.some(latest.token))
          if (now - latest.mintedAt < MIN_REMINT_INTERVAL_MS) return Effect.succeedNone
          return Effect.asSome(mint(now))
        })
      )

    return { current, peek, renewAfterRejection, mintCount: Effect.sync(() => mints) } satisfies ProviderToken
  })
