import { Effect, Layer, Option } from "effect"
import { ApnsClient } from "../apns/ApnsClient.ts"
import { loadApnsSettings } from "../apns/ApnsConfig.ts"
import { ApnsLive } from "../apns/ApnsLive.ts"
import { RelayConfig } from "../config/RelayConfig.ts"
import { MigratedDatabaseLive } from "../db/Database.ts"
import { ApnsDescription } from "../health/Http.ts"
import { HttpLive } from "../http/HttpLive.ts"
import { Projector } from "../projector/Projector.ts"
import { ApnsTransportLive } from "../sender/ApnsTransport.ts"
import { PushPlannerLive } from "../sender/PushPlannerLive.ts"
import { SenderLive } from "../sender/Sender.ts"

const ApnsDescriptionLive = Layer.effect(ApnsDescription, Effect.map(ApnsClient, (client) => client.description))

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

/** The pipeline after the log: projector folds, sender pushes. */
export const PipelineLive = SenderLive.pipe(
  Layer.provideMerge(Projector.layer),
  Layer.provide(PlannerLive),
  Layer.provide(ApnsTransportLive)
)

/** Everything `pushline serve` runs: database (migrated), APNs (or the local simulator), pipeline, HTTP API. */
export const RelayLive = Layer.mergeAll(HttpLive, PipelineLive).pipe(
  Layer.provide(ApnsDescriptionLive),
  Layer.provide(PlannerLive),
  Layer.provideMerge(ApnsLive),
  Layer.provide(MigratedDatabaseLive("own")),
  Layer.provide(RelayConfig.layer)
)
