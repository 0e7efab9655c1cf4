import { Context } from "effect"
import type { DeliveryResult, OutgoingPush } from "./PushTransport.ts"

/**
 * The pure push decisions (projections/), as the sender calls them: what to
 * send now for one session, and what to remember about each answer. Memory is
 * a JSON value kept in `sender_sessions.memory`, so throttle windows, grace
 * timers and "last state sent per token" survive a restart.
 */
export interface PlannedPush {
  readonly push: OutgoingPush
  /** start | update | end | complete | permission | error */
  readonly event: string
  /** Log position of the event that made this push necessary. */
  readonly causedBy: string | null
  /** The planner's own record of the decision, handed back to `settle`. */
  readonly intent: unknown
}

export interface PlanInput {
  readonly tenant: string
  readonly sessionId: string
  readonly session: unknown
  readonly registrations: unknown
  readonly memory: unknown
  readonly now: number
}

/** One decision of a planning run, as the timeline shows it. */
export interface PlanDecision {
  readonly decision: "send" | "throttled" | "permission-grace" | "retry-backoff"
  /** A token, or "live-activity" / "alerts" for a hold over all of them. */
  readonly target: string
  readonly event?: string
  readonly pushType?: string
  /** Epoch ms the hold ends. */
  readonly until?: number
}

export interface Plan {
  readonly pushes: ReadonlyArray<PlannedPush>
  readonly decisions: ReadonlyArray<PlanDecision>
  /** Position of the newest event in the state planned on. */
  readonly sessionPosition: string
  readonly memory: unknown
  /** When to look at this session again (throttle window end, grace end), or null. */
  readonly nextDueAt: number | null
}

export interface PushPlannerShape {
  /** Recorded with each run, so replay knows what the run planned with. */
  readonly settings: { readonly throttleMs: number; readonly permissionGraceMs: number; readonly defaultBundleId: string | null }
  readonly plan: (input: PlanInput) => Plan
  /** Folds one answer into memory; `jitter` in [0, 1) comes from the sender (projections draw no randomness). */
  readonly settle: (
    memory: unknown,
    planned: PlannedPush,
    result: DeliveryResult,
    now: number,
    jitter: number
  ) => { readonly memory: unknown; readonly nextDueAt: number | null }
}

export class PushPlanner extends Context.Tag("pushline/PushPlanner")<PushPlanner, PushPlannerShape>() {}
