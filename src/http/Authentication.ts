import { HttpApiMiddleware, HttpApiSecurity } from "@effect/platform"
import { Context, Effect, Layer, Redacted } from "effect"
import * as crypto from "node:crypto"
import { Unauthorized } from "./ApiErrors.ts"

/** Tenant = SHA-256 of the pairing secret; the secret itself is never stored. */
export const tenantOf = (secret: string): string => crypto.createHash("sha256").update(secret, "utf8").digest("hex")

export class Tenant extends Context.Tag("pushline/Tenant")<Tenant, string>() {}

/** `Authorization: Bearer <secret>` on the event-sourced routes. */
export class Authentication extends HttpApiMiddleware.Tag<Authentication>()("pushline/Authentication", {
  failure: Unauthorized,
  provides: Tenant,
  security: { bearer: HttpApiSecurity.bearer }
}) {}

export const AuthenticationLive = Layer.succeed(
  Authentication,
  Authentication.of({
    bearer: (token) => {
      const secret = Redacted.value(token)
      if (secret === "") return Effect.fail(Unauthorized.because("missing Authorization: Bearer <secret> header"))
      if (secret.length < 16) return Effect.fail(Unauthorized.because("the Bearer secret must be at least 16 characters"))
      return Effect.succeed(tenantOf(secret))
    }
  })
)
