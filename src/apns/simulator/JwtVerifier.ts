import { compactVerify, importSPKI, type CryptoKey, type KeyObject } from "jose"
import { createPublicKey } from "node:crypto"
import type { Rejection } from "./validateRequest.ts"

/**
 * Checks provider tokens as APNs does: ES256 signature by a known key id, `iss`
 * matching that key's team, `iat` not older than an hour. Signatures are
 * verified once per distinct token (they cannot change); age is checked per request.
 */
export interface SigningKey {
  readonly teamId: string
  readonly keyId: string
  /** SPKI PEM of the public key, or the private key (its public half is used). */
  readonly publicKeyPem: string
}

const MAX_TOKEN_AGE_MS = 60 * 60 * 1000
const TOKEN_UPDATE_WINDOW_MS = 20 * 60 * 1000
const EXPIRED: Rejection = { status: 403, reason: "ExpiredProviderToken" }
const TOO_MANY_UPDATES: Rejection = { status: 429, reason: "TooManyProviderTokenUpdates" }

interface AcceptedToken {
  readonly token: string
  readonly iatMs: number
}

interface Verified {
  readonly ok: boolean
  readonly reason: string
  readonly iatMs: number
}

const decodePart = (part: string | undefined): Record<string, unknown> | undefined => {
  if (part === undefined) return undefined
  try {
    const value = JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as unknown
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

export class JwtVerifier {
  private readonly keys = new Map<string, { teamId: string; key: Promise<CryptoKey | KeyObject> }>()
  private readonly verified = new Map<string, Promise<Verified>>()

  constructor(keys: ReadonlyArray<SigningKey>) {
    for (const key of keys) this.addKey(key)
  }

  addKey(key: SigningKey) {
    const spki = key.publicKeyPem.includes("PRIVATE KEY")
      ? createPublicKey(key.publicKeyPem).export({ type: "spki", format: "pem" }).toString()
      : key.publicKeyPem
    this.keys.set(key.keyId, { teamId: key.teamId, key: importSPKI(spki, "ES256") })
  }

  private verifySignature(token: string): Promise<Verified> {
    const cached = this.verified.get(token)
    if (cached !== undefined) return cached
    const result = (async (): Promise<Verified> => {
      const [headerPart, claimsPart] = token.split(".")
      const header = decodePart(headerPart)
      const claims = decodePart(claimsPart)
      if (header === undefined || claims === undefined) return { ok: false, reason: "InvalidProviderToken", iatMs: 0 }
      if (header.alg !== "ES256" || typeof header.kid !== "string") return { ok: false, reason: "InvalidProviderToken", iatMs: 0 }
      const entry = this.keys.get(header.kid)
      if (entry === undefined) return { ok: false, reason: "InvalidProviderToken", iatMs: 0 }
      if (claims.iss !== entry.teamId) return { ok: false, reason: "InvalidProviderToken", iatMs: 0 }
      if (typeof claims.iat !== "number") return { ok: false, reason: "InvalidProviderToken", iatMs: 0 }
      try {
        await compactVerify(token, await entry.key)
      } catch {
        return { ok: false, reason: "InvalidProviderToken", iatMs: 0 }
      }
      return { ok: true, reason: "", iatMs: claims.iat * 1000 }
    })()
    if (this.verified.size > 10_000) this.verified.clear()
    this.verified.set(token, result)
    return result
  }

  /**
   * Checks an `authorization` header. On success returns the token and its
   * `iat`, so a caller can keep it per connection and only re-check its age.
   */
  async check(authorization: string | undefined, now: number): Promise<Rejection | AcceptedToken> {
    if (authorization === undefined || !/^bearer /i.test(authorization)) return { status: 403, reason: "MissingProviderToken" }
    const token = authorization.slice(7).trim()
    const verified = await this.verifySignature(token)
    if (!verified.ok) return { status: 403, reason: verified.reason }
    return now - verified.iatMs > MAX_TOKEN_AGE_MS ? EXPIRED : { token, iatMs: verified.iatMs }
  }
}

/**
 * The provider token of one connection: a new token is refused within 20
 * minutes of the previous one (TooManyProviderTokenUpdates). The header
 * accepted last is remembered, as Apple does: it only needs its age re-checked.
 */
export class ConnectionToken {
  private authorization: string | undefined
  private token: string | undefined
  private iatMs = 0
  private since = 0

  private readonly verifier: JwtVerifier

  constructor(verifier: JwtVerifier) {
    this.verifier = verifier
  }

  /** null when accepted; a promise only when the header is not the one accepted last. */
  check(authorization: string | undefined, now: number): Rejection | null | Promise<Rejection | null> {
    if (authorization !== undefined && authorization === this.authorization) {
      return now - this.iatMs > MAX_TOKEN_AGE_MS ? EXPIRED : null
    }
    return this.verifier.check(authorization, now).then((result) => {
      if ("reason" in result) return result
      if (this.token !== result.token) {
        if (this.token !== undefined && now - this.since < TOKEN_UPDATE_WINDOW_MS) return TOO_MANY_UPDATES
        this.token = result.token
        this.since = now
      }
      this.authorization = authorization
      this.iatMs = result.iatMs
      return null
    })
  }
}
