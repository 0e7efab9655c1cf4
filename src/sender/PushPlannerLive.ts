import { Effect, Layer, Option } from "effect"
import type { PlannerSettings } from "../../projections/PushPlanner.ts"
import { RelayConfig } from "../config/RelayConfig.ts"
import { PushPlanner } from "./PushPlanner.ts"

export const makePushPlanner = (settings: PlannerSettings) => PushPlanner.of({ settings })

/** Throttle and grace from RelayConfig; the bundle id when a registration gives none from APNS_DEFAULT_BUNDLE_ID. */
export const PushPlannerLive = (defaultBundleId: Option.Option<string>) =>
  Layer.effect(
    PushPlanner,
    Effect.map(RelayConfig, (config) =>
      makePushPlanner({
        throttleMs: config.throttleMs,
        permissionGraceMs: config.permissionGraceMs,
        collapseAlerts: config.collapseAlerts,
        defaultBundleId: Option.getOrNull(defaultBundleId)
      })
    )
  )
