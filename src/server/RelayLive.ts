import { Layer } from "effect"
import { RelayConfig } from "../config/RelayConfig.ts"
import { MigratedDatabaseLive } from "../db/Database.ts"
import { ApnsDescription } from "../health/Http.ts"
import { HttpLive } from "../http/HttpLive.ts"

/** Everything `pushline serve` runs: database (migrated), HTTP API. */
export const RelayLive = HttpLive.pipe(
  Layer.provide(ApnsDescription.none),
  Layer.provide(MigratedDatabaseLive("own")),
  Layer.provide(RelayConfig.layer)
)
