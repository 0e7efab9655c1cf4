import type { SqlClient } from "@effect/sql"
import type { PgClient } from "@effect/sql-pg"
import { Layer } from "effect"
import type { ApnsClient } from "../apns/ApnsClient.ts"
import { ApnsLive } from "../apns/ApnsLive.ts"
import { RelayConfig } from "../config/RelayConfig.ts"
import { MigratedDatabaseLive } from "../db/Database.ts"
import { Notifications } from "../db/Notifications.ts"
import { EVENTS_CHANNEL } from "../eventstore/appendEvents.ts"
import { HttpLive } from "./HttpLive.ts"
import { SENDER_CHANNEL } from "../projector/projectBatch.ts"
import { Projector } from "../projector/Projector.ts"
import { ApnsTransportLive } from "../sender/ApnsTransport.ts"
import { PlannerLive } from "../sender/PushPlannerLive.ts"
import { SenderLive } from "../sender/Sender.ts"

/** NOTIFY wake-ups for the projector (new events) and the sender (due sessions). */
export const NotificationsLive = Notifications.layer([EVENTS_CHANNEL, SENDER_CHANNEL])

/** The pipeline after the log: projector folds, sender pushes. */
export const PipelineLive = SenderLive.pipe(
  Layer.provideMerge(Projector.layer),
  Layer.provide(PlannerLive),
  Layer.provide(ApnsTransportLive),
  Layer.provide(NotificationsLive)
)

/**
 * The relay over a given database and configuration: APNs (or the local simulator),
 * pipeline, HTTP API. Tests build on this with a fresh database and settings of their own.
 */
export const relayWith = <E1, R1, E2, R2, A, E3, R3>(
  database: Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, E1, R1>,
  config: Layer.Layer<RelayConfig, E2, R2>,
  apns: Layer.Layer<ApnsClient | A, E3, R3>
) =>
  Layer.mergeAll(HttpLive, PipelineLive).pipe(
    Layer.provide(PlannerLive),
    Layer.provideMerge(apns),
    Layer.provideMerge(database),
    Layer.provideMerge(config)
  )

/** Everything `pushline serve` runs: the relay on its database (migrated) and the environment's settings. */
export const RelayLive = relayWith(MigratedDatabaseLive("own").pipe(Layer.provide(RelayConfig.layer)), RelayConfig.layer, ApnsLive)
