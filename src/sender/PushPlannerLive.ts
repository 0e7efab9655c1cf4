import { Effect, Layer, Option } from "effect"
import type { PlannerSettings } from "../../projections/PushPlanner.ts"
import { loadApnsSettings } from "../apns/ApnsConfig.ts"
import { RelayConfig } from "../config/RelayConfig.ts"
import { PushPlanner } from "./PushPlanner.ts"

export const makePushPlanner = (settings: PlannerSettings) => PushPlanner.of({ settings })

/** Throttle, grace and end settle from RelayConfig; the bundle id when a registration gives none from APNS_DEFAULT_BUNDLE_ID. */
export const PushPlannerLive = (defaultBundleId: Option.Option<string>) =>
  Layer.effect(
    PushPlanner,
    Effect.map(RelayConfig, (config) =>
      makePushPlanner({
        throttleMs: config.throttleMs,
        permissionGraceMs: config.permissionGraceMs,
        endSettleMs: config.endSettleMs,
        // The sender sets it when it starts claiming.
        resumedAt: 0,
        collapseAlerts: config.collapseAlerts,
        defaultBundleId: Option.getOrNull(defaultBundleId)
      })
    )
  )

/** With the local simulator any bundle id works; give registrations without one a default. */
export const LOCAL_DEFAULT_BUNDLE_ID = "dev.pushline.local"

/** The relay's planner: APNS_DEFAULT_BUNDLE_ID, or with the local simulator LOCAL_DEFAULT_BUNDLE_ID. */
export const PlannerLive = Layer.unwrapEffect(
  Effect.map(loadApnsSettings, (settings) =>
    PushPlannerLive(
      Option.orElse(settings.defaultBundleId, () =>
        Option.isNone(settings.credentials) ? Option.some(LOCAL_DEFAULT_BUNDLE_ID) : Option.none()
      )
    )
  )
)
