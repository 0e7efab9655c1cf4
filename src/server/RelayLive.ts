import { Effect, Layer } from "effect"
import { ApnsClient } from "../apns/ApnsClient.ts"
import { ApnsLive } from "../apns/ApnsLive.ts"
import { RelayConfig } from "../config/RelayConfig.ts"
import { MigratedDatabaseLive } from "../db/Database.ts"
import { ApnsDescription } from "../health/Http.ts"
import { HttpLive } from "../http/HttpLive.ts"

const ApnsDescriptionLive = Layer.effect(ApnsDescription, Effect.map(ApnsClient, (client) => client.description))

/** Everything `pushline serve` runs: database (migrated), APNs client (or the local simulator), HTTP API. */
export const RelayLive = HttpLive.pipe(
  Layer.provide(ApnsDescriptionLive),
  Layer.provide(ApnsLive),
  Layer.provide(MigratedDatabaseLive("own")),
  Layer.provide(RelayConfig.layer)
)
