import { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import pg from "pg"
import { Duration, Effect, Layer, Option, Redacted } from "effect"
import { RelayConfig } from "../config/RelayConfig.ts"
import { EmbeddedPostgres } from "./EmbeddedPostgres.ts"
import { runMigrations } from "./Migrator.ts"

/**
 * The PostgreSQL connection pool: DATABASE_URL when set, else the embedded
 * cluster under PUSHLINE_DATA_DIR. `own` starts (and later stops) the cluster;
 * `shared` first looks for one a running relay started in the same data dir.
 *
 * A stalled database must not hold requests: with `statementTimeoutMs` each
 * statement is limited on the server (`statement_timeout`) and, a second later,
 * on the client (`query_timeout`, for a server that answers nothing at all), and
 * waiting for a free connection is limited like connecting (5 s). The caller then
 * sees a SqlError, which routes answer as 503. 0 turns the statement limits off.
 */
export const pgLayer = (url: Redacted.Redacted | string, maxConnections = 20, statementTimeoutMs = 0) =>
  PgClient.layerFromPool({
    applicationName: "pushline",
    acquire: Effect.acquireRelease(
      Effect.suspend(() => {
        const pool = new pg.Pool({
          connectionString: Redacted.value(typeof url === "string" ? Redacted.make(url) : url),
          max: maxConnections,
          connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
          idleTimeoutMillis: 30_000,
          application_name: "pushline",
          ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs, query_timeout: statementTimeoutMs + 1000 } : {})
        })
        // Errors of idle clients (the server went away) surface on their next use instead.
        pool.on("error", () => {})
        return Effect.tryPromise({
          try: () => pool.query("select 1"),
          catch: (cause) => new SqlError({ cause, message: "PgClient: Failed to connect" })
        }).pipe(
          Effect.timeoutFail({
            duration: Duration.millis(CONNECT_TIMEOUT_MS),
            onTimeout: () => new SqlError({ cause: new Error("Connection timed out"), message: "PgClient: Connection timed out" })
          }),
          Effect.tapError(() => Effect.promise(() => pool.end().catch(() => undefined))),
          Effect.as(pool)
        )
      }),
      (pool) => Effect.promise(() => pool.end().catch(() => undefined)).pipe(Effect.timeoutOption(Duration.seconds(1)))
    )
  })

const CONNECT_TIMEOUT_MS = 5_000

/**
 * Applies pending migrations on a pool of their own, without the statement timeout: a
 * migration may rightly take long (an index on a large table), or wait for the lock
 * another relay holds while it migrates.
 */
const migrate = (url: Redacted.Redacted | string) =>
  runMigrations().pipe(
    Effect.tap((applied) => (applied.length > 0 ? Effect.logInfo(`applied migrations: ${applied.join(", ")}`) : Effect.void)),
    Effect.provide(pgLayer(url, 1, 0))
  )

export const DatabaseLive = (embedded: "own" | "shared" = "own", migrated = false) =>
  Layer.unwrapEffect(
    Effect.map(RelayConfig, (config) => {
      // The relay's statements are small; the operator's (rebuild, replay --all) may run long.
      const statementTimeout = embedded === "own" ? config.statementTimeoutMs : 0
      const poolFor = (url: Redacted.Redacted | string) =>
        migrated ? Layer.unwrapEffect(Effect.as(migrate(url), pgLayer(url, 20, statementTimeout))) : pgLayer(url, 20, statementTimeout)
      return Option.match(config.databaseUrl, {
        onSome: poolFor,
        onNone: () =>
          Layer.unwrapEffect(Effect.map(EmbeddedPostgres, (cluster) => poolFor(cluster.url))).pipe(
            Layer.provide(
              embedded === "own" ? EmbeddedPostgres.layer(config.dataDir) : EmbeddedPostgres.layerShared(config.dataDir)
            )
          )
      })
    })
  )

/** The pool, with migrations applied before anything else uses it. */
export const MigratedDatabaseLive = (embedded: "own" | "shared" = "own") => DatabaseLive(embedded, true)
