import { Config, ConfigError, Effect, Either, Option } from "effect"
import * as fs from "node:fs"
import { importPKCS8 } from "jose"
import type { ProviderCredentials } from "./ProviderToken.ts"

/**
 * APNs settings from the environment. Either all of APNS_TEAM_ID, APNS_KEY_ID
 * and a private key (APNS_PRIVATE_KEY or APNS_PRIVATE_KEY_FILE) are given, and
 * the relay talks to Apple (or APNS_HOST), or none is, and it uses the local
 * simulator. Anything in between stops start-up naming the variable.
 */
export const PRODUCTION_HOST = "api.push.apple.com"
export const SANDBOX_HOST = "api.sandbox.push.apple.com"

export interface ApnsSettings {
  /** None: no credentials configured; run the local simulator. */
  readonly credentials: Option.Option<ProviderCredentials>
  readonly defaultBundleId: Option.Option<string>
  /** Overrides both environments' hosts, e.g. `127.0.0.1:2197` for a simulator. */
  readonly host: Option.Option<string>
  /** Override one environment's host (over APNS_HOST). */
  readonly productionHost: Option.Option<string>
  readonly sandboxHost: Option.Option<string>
  /** Extra CA (PEM) to trust, e.g. a simulator's certificate. */
  readonly caPem: Option.Option<string>
  readonly connections: number
  readonly requestTimeoutMs: number
}

const invalid = (path: string, message: string) => ConfigError.InvalidData([path], message)

const readFileConfig = (name: string) =>
  Config.string(name).pipe(
    Config.mapOrFail((file) =>
      Either.try({
        try: () => fs.readFileSync(file, "utf8"),
        catch: (error) => invalid(name, `cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`)
      })
    ),
    Config.option
  )

const tenChars = (name: string) =>
  Config.string(name).pipe(
    Config.validate({ message: `${name} must be the 10-character id from the Apple developer account`, validation: (v) => /^[A-Z0-9]{10}$/.test(v) }),
    Config.option
  )

const hostConfig = (name: string) =>
  Config.string(name).pipe(
    Config.validate({ message: `${name} must be host or host:port (no scheme)`, validation: (v) => /^[A-Za-z0-9.\-\[\]:]+$/.test(v) }),
    Config.option
  )

const rawSettings = Config.all({
  teamId: tenChars("APNS_TEAM_ID"),
  keyId: tenChars("APNS_KEY_ID"),
  privateKey: Config.string("APNS_PRIVATE_KEY").pipe(Config.option),
  privateKeyFile: readFileConfig("APNS_PRIVATE_KEY_FILE"),
  defaultBundleId: Config.string("APNS_DEFAULT_BUNDLE_ID").pipe(Config.option),
  host: hostConfig("APNS_HOST"),
  productionHost: hostConfig("APNS_PRODUCTION_HOST"),
  sandboxHost: hostConfig("APNS_SANDBOX_HOST"),
  caPem: readFileConfig("APNS_CA_FILE"),
  connections: Config.integer("APNS_CONNECTIONS").pipe(
    Config.validate({ message: "APNS_CONNECTIONS must be between 1 and 16", validation: (n) => n >= 1 && n <= 16 }),
    Config.withDefault(2)
  ),
  requestTimeoutMs: Config.integer("APNS_REQUEST_TIMEOUT_MS").pipe(
    Config.validate({ message: "APNS_REQUEST_TIMEOUT_MS must be positive", validation: (n) => n > 0 }),
    Config.withDefault(10_000)
  )
})

/** Accepts a PEM with real newlines or with literal `\n` (as env files often carry it). */
export const normalisePem = (pem: string) => pem.replace(/\\n/g, "\n").trim() + "\n"

export const importApnsKey = (pem: string, variable: string) =>
  Effect.tryPromise({
    try: () => importPKCS8(normalisePem(pem), "ES256"),
    catch: (error) =>
      invalid(
        variable,
        `${variable} is not an APNs auth key (a PKCS#8 P-256 .p8 PEM): ${error instanceof Error ? error.message : String(error)}`
      )
  })

export const loadApnsSettings: Effect.Effect<ApnsSettings, ConfigError.ConfigError> = Effect.gen(function*() {
  const raw = yield* rawSettings
  if (Option.isSome(raw.privateKey) && Option.isSome(raw.privateKeyFile)) {
    return yield* Effect.fail(invalid("APNS_PRIVATE_KEY", "set APNS_PRIVATE_KEY or APNS_PRIVATE_KEY_FILE, not both"))
  }
  const keyPem = Option.orElse(raw.privateKey, () => raw.privateKeyFile)
  const keyVariable = Option.isSome(raw.privateKey) ? "APNS_PRIVATE_KEY" : "APNS_PRIVATE_KEY_FILE"
  const given = [Option.isSome(raw.teamId), Option.isSome(raw.keyId), Option.isSome(keyPem)]
  let credentials = Option.none<ProviderCredentials>()
  if (given.some(Boolean)) {
    if (Option.isNone(raw.teamId)) return yield* Effect.fail(invalid("APNS_TEAM_ID", "APNS_TEAM_ID is required when APNS_KEY_ID or a private key is set"))
    if (Option.isNone(raw.keyId)) return yield* Effect.fail(invalid("APNS_KEY_ID", "APNS_KEY_ID is required when APNS_TEAM_ID or a private key is set"))
    if (Option.isNone(keyPem)) {
      return yield* Effect.fail(invalid("APNS_PRIVATE_KEY", "APNS_PRIVATE_KEY or APNS_PRIVATE_KEY_FILE is required when APNS_TEAM_ID/APNS_KEY_ID are set"))
    }
    const privateKey = yield* importApnsKey(keyPem.value, keyVariable)
    credentials = Option.some({ teamId: raw.teamId.value, keyId: raw.keyId.value, privateKey })
  }
  return {
    credentials,
    defaultBundleId: raw.defaultBundleId,
    host: raw.host,
    productionHost: raw.productionHost,
    sandboxHost: raw.sandboxHost,
    caPem: raw.caPem,
    connections: raw.connections,
    requestTimeoutMs: raw.requestTimeoutMs
  }
})
