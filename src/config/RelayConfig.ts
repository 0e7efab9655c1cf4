import { Config, Context, Effect, Layer, Option, Redacted } from "effect"

/**
 * Relay settings from the environment. Anything invalid stops start-up with a
 * ConfigError naming the variable (Effect's Config reports the path).
 * APNs settings live with the APNs client (src/apns/ApnsConfig.ts).
 */
export interface RelaySettings {
  readonly port: number
  readonly host: string
  /** None: run the embedded PostgreSQL under `dataDir`. */
  readonly databaseUrl: Option.Option<Redacted.Redacted>
  readonly dataDir: string
  readonly bodyLimitBytes: number
  /** Progress-only pushes at most once per this many ms per session. */
  readonly throttleMs: number
  /** A permission answered within this many ms is never pushed. */
  readonly permissionGraceMs: number
  /** A Live Activity's `end` waits this many ms for what OpenCode sends just after the turn ended. */
  readonly endSettleMs: number
  /** One alert per session on the phone (each replaces the last), instead of each kept. */
  readonly collapseAlerts: boolean
  /** On SIGTERM/SIGINT, how long in-flight pushes may take to finish and be recorded. */
  readonly drainTimeoutMs: number
  /** The longest one database statement may take before the request fails with 503 (0: no limit). */
  readonly statementTimeoutMs: number
  /** The longest a request body may take to arrive before the relay answers 408. */
  readonly bodyTimeoutMs: number
}

const positiveInt = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.validate({ message: `${name} must be a positive whole number`, validation: (n) => n > 0 }),
    Config.withDefault(fallback)
  )

const nonNegativeInt = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.validate({ message: `${name} must be zero or a positive whole number`, validation: (n) => n >= 0 }),
    Config.withDefault(fallback)
  )

export const relaySettingsConfig: Config.Config<RelaySettings> = Config.all({
  port: Config.port("PORT").pipe(Config.withDefault(8787)),
  host: Config.string("HOST").pipe(Config.withDefault("0.0.0.0")),
  databaseUrl: Config.redacted("DATABASE_URL").pipe(
    Config.validate({
      message: "DATABASE_URL must be a postgres:// or postgresql:// URL",
      validation: (url) => /^postgres(ql)?:\/\//.test(Redacted.value(url))
    }),
    Config.option
  ),
  dataDir: Config.string("PUSHLINE_DATA_DIR").pipe(Config.withDefault("./.pushline")),
  bodyLimitBytes: positiveInt("PUSHLINE_BODY_LIMIT_BYTES", 1024 * 1024),
  throttleMs: positiveInt("PUSHLINE_THROTTLE_MS", 10_000),
  permissionGraceMs: nonNegativeInt("PUSHLINE_PERMISSION_GRACE_MS", 5_000),
  endSettleMs: nonNegativeInt("PUSHLINE_END_SETTLE_MS", 1_000),
  collapseAlerts: Config.boolean("PUSHLINE_COLLAPSE_ALERTS").pipe(Config.withDefault(false)),
  drainTimeoutMs: nonNegativeInt("PUSHLINE_DRAIN_TIMEOUT_MS", 10_000),
  statementTimeoutMs: nonNegativeInt("PUSHLINE_STATEMENT_TIMEOUT_MS", 3_000),
  bodyTimeoutMs: positiveInt("PUSHLINE_BODY_TIMEOUT_MS", 30_000)
})

export class RelayConfig extends Context.Tag("pushline/RelayConfig")<RelayConfig, RelaySettings>() {
  static readonly layer = Layer.effect(RelayConfig, relaySettingsConfig)
  static readonly make = (settings: Partial<RelaySettings> = {}) =>
    Layer.effect(RelayConfig, Effect.map(relaySettingsConfig, (fromEnv) => ({ ...fromEnv, ...settings })))
}
