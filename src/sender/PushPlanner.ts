import { Context } from "effect"
import type { PlannerSettings } from "../../projections/PushPlanner.ts"

/**
 * The settings the sender plans with (throttle window, permission grace, the
 * bundle id for registrations that give none). Recorded with each run, so
 * replay plans with what the run planned with; the rules themselves are the
 * pure sender step in projections/SenderStep.ts.
 */
export class PushPlanner extends Context.Tag("pushline/PushPlanner")<PushPlanner, {
  readonly settings: PlannerSettings
}>() {}
