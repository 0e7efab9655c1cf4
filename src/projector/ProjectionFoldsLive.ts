import { Layer } from "effect"
import type { LoggedEvent } from "../../domain/LoggedEvent.ts"
import { LegacyEventPosted } from "../../domain/PushlineEvent.ts"
import { initialSessionState, initialTenantState, type SessionState, type TenantState } from "../../domain/SessionState.ts"
import { claimsFirst, contentStateOf, pacedByThrottle } from "../../projections/PushPlanner.ts"
import { applySession } from "../../projections/SessionFold.ts"
import { applyTenant, sessionsOfEvent, touchesTenant } from "../../projections/TenantFold.ts"
import { ProjectionFolds } from "./ProjectionFolds.ts"

/** The folds of projections/, behind the runner's interface. */
export const ProjectionFoldsLive = Layer.succeed(ProjectionFolds, {
  sessionsOf: (event: LoggedEvent, tenantState: unknown) => sessionsOfEvent(event, tenantState as TenantState),
  initialSession: (_tenant: string, sessionId: string) => initialSessionState(sessionId),
  applySession: (state: unknown, event: LoggedEvent) => applySession(state as SessionState, event),
  // A legacy /v1/event post waits for the pushes it causes, so it always wakes the sender.
  pacedByThrottle: (before: unknown, after: unknown, event: LoggedEvent) =>
    event.type !== LegacyEventPosted._tag && pacedByThrottle(before as SessionState, after as SessionState),
  // A /v1/event post waits (at most 2 s) for its pushes: first in line too.
  claimsFirst: (after: unknown, event: LoggedEvent) => event.type === LegacyEventPosted._tag || claimsFirst(after as SessionState),
  shownState: (state: unknown) => contentStateOf(state as SessionState),
  touchesRegistrations: touchesTenant,
  initialRegistrations: () => initialTenantState(),
  applyRegistrations: (state: unknown, event: LoggedEvent) => applyTenant(state as TenantState, event)
})
