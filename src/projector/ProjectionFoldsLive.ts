import { Layer } from "effect"
import type { LoggedEvent } from "../../domain/LoggedEvent.ts"
import { initialSessionState, initialTenantState, type SessionState, type TenantState } from "../../domain/SessionState.ts"
import { contentStateOf } from "../../projections/PushPlanner.ts"
import { applySession } from "../../projections/SessionFold.ts"
import { applyTenant, rootOf, touchesTenant } from "../../projections/TenantFold.ts"
import { ProjectionFolds } from "./ProjectionFolds.ts"

/** The folds of projections/, behind the runner's interface. */
export const ProjectionFoldsLive = Layer.succeed(ProjectionFolds, {
  sessionsOf: (event: LoggedEvent, tenantState: unknown) => {
    if (event.sessionId === "") return []
    if (event.type === "permission.asked" || event.type === "permission.replied") {
      // A subagent's permission request is shown on its root session.
      const root = rootOf(tenantState as TenantState, event.sessionId)
      return root === event.sessionId ? [event.sessionId] : [event.sessionId, root]
    }
    return [event.sessionId]
  },
  initialSession: (_tenant: string, sessionId: string) => initialSessionState(sessionId),
  applySession: (state: unknown, event: LoggedEvent) => applySession(state as SessionState, event),
  shownState: (state: unknown) => contentStateOf(state as SessionState),
  touchesRegistrations: touchesTenant,
  initialRegistrations: () => initialTenantState(),
  applyRegistrations: (state: unknown, event: LoggedEvent) => applyTenant(state as TenantState, event)
})
