import { Effect, Layer, Option } from "effect"
import { ApnsClient } from "../apns/ApnsClient.ts"
import { loadApnsSettings } from "../apns/ApnsConfig.ts"
import { ApnsLive } from "../apns/ApnsLive.ts"
import { RelayConfig } from "../config/RelayConfig.ts"
import { MigratedDatabaseLive } from "../db/Database.ts"
import { Notifications } from "../db/Notifications.ts"
import { EVENTS_CHANNEL } from "../eventstore/appendEvents.ts"
import { HttpLive } from "../http/HttpLive.ts"
import { SENDER_CHANNEL } from "../projector/projectBatch.ts"
import { Projector } from "../projector/Projector.ts"
import { ApnsTransportLive } from "../sender/ApnsTransport.ts"
import { PushPlannerLive } from "../sender/PushPlannerLive.ts"
import { SenderLive } from "../sender/Sender.ts"

/** With the local simulator any bundle id works; give registrations without one a default. */
export const LOCAL_DEFAULT_BUNDLE_ID = "dev.pushline.local"

export const PlannerLive = Layer.unwrapEffect(
  Effect.map(loadApnsSettings, (settings) =>
    PushPlannerLive(
      Option.orElse(settings.defaultBundleId, () =>
        Option.isNone(settings.credentials) ? Option.some(LOCAL_DEFAULT_BUNDLE_ID) : Option.none()
      )
    )
  )
)

/** NOTIFY wake-ups for the projector (new events) and the sender (due sessions). */
export const NotificationsLive = Notifications.layer([EVENTS_CHANNEL, SENDER_CHANNEL])

/** The pipeline after the log: projector folds, sender pushes. */
export const PipelineLive = SenderLive.pipe(
  Layer.provideMerge(Projector.layer),
  Layer.provide(PlannerLive),
  Layer.provide(ApnsTransportLive),
  Layer.provide(NotificationsLive)
)

/** Everything `pushline serve` runs: database (migrated), APNs (or the local simulator), pipeline, HTTP API. */
export const RelayLive = Layer.mergeAll(HttpLive, PipelineLive).pipe(
  Layer.provide(PlannerLive),
  Layer.provideMerge(ApnsLive),
  Layer.provide(MigratedDatabaseLive("own")),
  Layer.provide(RelayConfig.layer)
)
