import { Effect, Layer, Option } from "effect"
import { initialTenantState, type SessionState, type TenantState } from "../../domain/SessionState.ts"
import { initialMemory, type Intent, planPushes, type PlannerMemory, type PlannerSettings, settlePush } from "../../projections/PushPlanner.ts"
import { RelayConfig } from "../config/RelayConfig.ts"
import { PushPlanner } from "./PushPlanner.ts"

const memoryOf = (value: unknown): PlannerMemory => {
  const memory = value as Partial<PlannerMemory> | null
  return memory === null || memory.targets === undefined ? initialMemory() : (memory as PlannerMemory)
}

export const makePushPlanner = (settings: PlannerSettings) =>
  PushPlanner.of({
    settings,
    plan: (input) => {
      const session = input.session as SessionState
      const result = planPushes(
        session,
        (input.registrations as TenantState | null) ?? initialTenantState(),
        memoryOf(input.memory),
        input.now,
        settings
      )
      return {
        pushes: result.intents.map((intent) => ({
          push: {
            token: intent.token,
            environment: intent.environment,
            pushType: intent.pushType,
            topic: intent.topic,
            priority: intent.priority,
            collapseId: intent.collapseId,
            payload: intent.payload
          },
          event: intent.event,
          causedBy: intent.causedBy,
          intent
        })),
        decisions: [
          ...result.intents.map((intent) => ({ decision: "send" as const, target: intent.token, event: intent.event, pushType: intent.pushType })),
          ...result.holds.map((hold) => ({ decision: hold.kind, target: hold.target, until: hold.until }))
        ],
        sessionPosition: session.lastPosition,
        memory: result.memory,
        nextDueAt: result.nextDueAt
      }
    },
    settle: (memory, planned, result, now, jitter) =>
      settlePush(memoryOf(memory), planned.intent as Intent, result.outcome, result.retryAfterMs, now, jitter)
  })

/** Throttle and grace from RelayConfig; the bundle id when a registration gives none from APNS_DEFAULT_BUNDLE_ID. */
export const PushPlannerLive = (defaultBundleId: Option.Option<string>) =>
  Layer.effect(
    PushPlanner,
    Effect.map(RelayConfig, (config) =>
      makePushPlanner({
        throttleMs: config.throttleMs,
        permissionGraceMs: config.permissionGraceMs,
        defaultBundleId: Option.getOrNull(defaultBundleId)
      })
    )
  )
