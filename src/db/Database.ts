import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, Layer, Option, Redacted } from "effect"
import { RelayConfig } from "../config/RelayConfig.ts"
import { EmbeddedPostgres } from "./EmbeddedPostgres.ts"
import { runMigrations } from "./Migrator.ts"

/**
 * The PostgreSQL connection pool: DATABASE_URL when set, else the embedded
 * cluster under PUSHLINE_DATA_DIR. `own` starts (and later stops) the cluster;
 * `shared` first looks for one a running relay started in the same data dir.
 */
export const pgLayer = (url: Redacted.Redacted | string, maxConnections = 20) =>
  PgClient.layer({
    url: typeof url === "string" ? Redacted.make(url) : url,
    maxConnections,
    connectTimeout: Duration.seconds(5),
    idleTimeout: Duration.seconds(30),
    applicationName: "pushline"
  })

export const DatabaseLive = (embedded: "own" | "shared" = "own") =>
  Layer.unwrapEffect(
    Effect.map(RelayConfig, (config) =>
      Option.match(config.databaseUrl, {
        onSome: (url) => pgLayer(url),
        onNone: () =>
          Layer.unwrapEffect(Effect.map(EmbeddedPostgres, (cluster) => pgLayer(cluster.url))).pipe(
            Layer.provide(
              embedded === "own" ? EmbeddedPostgres.layer(config.dataDir) : EmbeddedPostgres.layerShared(config.dataDir)
            )
          )
      })
    )
  )

/** The pool with migrations applied before anything else uses it. */
export const MigratedDatabaseLive = (embedded: "own" | "shared" = "own") =>
  Layer.effectDiscard(
    runMigrations().pipe(
      Effect.tap((applied) =>
        applied.length > 0 ? Effect.logInfo(`applied migrations: ${applied.join(", ")}`) : Effect.void
      )
    )
  ).pipe(Layer.provideMerge(DatabaseLive(embedded)))
