import type { LoggedEvent } from "../../domain/LoggedEvent.ts"
import { FoldedStateCache } from "./FoldedStateCache.ts"
import type { ProjectionFoldsShape } from "./ProjectionFolds.ts"
import type { OutcomeRow, ProjectedWrites, SessionStateRow, StepRow, TenantStateRow } from "./writeProjectedBatch.ts"

/** Stored states by tenant and by session key; `null` or absent: none stored (the fold's initial state). */
export interface StatesBefore {
  readonly tenant: (tenant: string) => unknown
  readonly session: (key: string) => unknown
}

export interface FoldedBatch extends ProjectedWrites {
  /** Sessions whose state changed. */
  readonly changedSessions: ReadonlyArray<{ readonly tenant: string; readonly sessionId: string }>
}

const orInitial = (state: unknown, initial: () => unknown) => (state === null || state === undefined ? initial() : state)

/**
 * The sessions a batch touches. Routing can depend on tenant state (subagent ->
 * root), so the tenant fold runs over the batch first to learn them.
 */
export const sessionsTouched = (folds: ProjectionFoldsShape, events: ReadonlyArray<LoggedEvent>, before: StatesBefore) => {
  const routing = new Map<string, unknown>()
  const touched = new Map<string, { readonly key: string; readonly tenant: string; readonly sessionId: string }>()
  for (const event of events) {
    const current = routing.get(event.tenant) ?? orInitial(before.tenant(event.tenant), () => folds.initialRegistrations(event.tenant))
    const tenantState = folds.touchesRegistrations(event) ? folds.applyRegistrations(current, event).state : current
    routing.set(event.tenant, tenantState)
    for (const sessionId of folds.sessionsOf(event, tenantState)) {
      const key = FoldedStateCache.sessionKey(event.tenant, sessionId)
      touched.set(key, { key, tenant: event.tenant, sessionId })
    }
  }
  return [...touched.values()]
}

/**
 * Folds a batch over the states before it (pure): the new states, the
 * timeline's steps (what each event did to each session it reached), what
 * each event did where its steps do not already say it (see `outcomes`), and
 * which changed sessions the throttle paces.
 */
export const foldBatch = (folds: ProjectionFoldsShape, events: ReadonlyArray<LoggedEvent>, before: StatesBefore): FoldedBatch => {
  const tenants = new Map<string, unknown>()
  const sessions = new Map<string, unknown>()
  const tenantOf = (tenant: string) =>
    tenants.get(tenant) ?? orInitial(before.tenant(tenant), () => folds.initialRegistrations(tenant))
  const changedSessions = new Map<string, { tenant: string; sessionId: string; position: bigint; urgent: boolean; first: boolean }>()
  const changedTenants = new Map<string, bigint>()
  const outcomes: Array<OutcomeRow> = []
  const steps: Array<StepRow> = []

  for (const event of events) {
    let applied = false
    const reasons: Array<string> = []
    const stepsBefore = steps.length
    const touchesRegistrations = folds.touchesRegistrations(event)
    if (touchesRegistrations) {
      const result = folds.applyRegistrations(tenantOf(event.tenant), event)
      tenants.set(event.tenant, result.state)
      if (result.applied) {
        applied = true
        changedTenants.set(event.tenant, event.position)
      } else if (result.reason !== null) reasons.push(result.reason)
    }
    const tenantState = tenantOf(event.tenant)
    for (const sessionId of folds.sessionsOf(event, tenantState)) {
      const key = FoldedStateCache.sessionKey(event.tenant, sessionId)
      const current = sessions.get(key) ?? orInitial(before.session(key), () => folds.initialSession(event.tenant, sessionId))
      const result = folds.applySession(current, event)
      sessions.set(key, result.state)
      steps.push({
        tenant: event.tenant,
        session_id: sessionId,
        position: event.position.toString(),
        applied: result.applied,
        reason: result.applied ? null : result.reason,
        content_state: result.applied ? folds.shownState(result.state) : null
      })
      if (result.applied) {
        applied = true
        const earlier = changedSessions.get(key)
        const urgent = (earlier?.urgent ?? false) || !folds.pacedByThrottle(current, result.state, event)
        const first = (earlier?.first ?? false) || folds.claimsFirst(result.state, event)
        changedSessions.set(key, { tenant: event.tenant, sessionId, position: event.position, urgent, first })
      } else if (result.reason !== null) reasons.push(result.reason)
    }
    // Most events reach only their own session: that one step already says what the event
    // did, and a copy in event_outcomes would be a third of the rows each batch writes.
    const only = steps.length === stepsBefore + 1 ? steps[stepsBefore]! : undefined
    const toldByItsStep = !touchesRegistrations && only !== undefined && only.session_id === event.sessionId &&
      (only.applied || only.reason !== null)
    if (!toldByItsStep) {
      outcomes.push({
        position: event.position.toString(),
        tenant: event.tenant,
        session_id: event.sessionId,
        applied,
        reason: applied ? null : (reasons[0] ?? "no projection uses this event")
      })
    }
  }

  const sessionRows: Array<SessionStateRow> = [...changedSessions.entries()].map(([key, change]) => ({
    tenant: change.tenant,
    session_id: change.sessionId,
    state: sessions.get(key),
    last_position: change.position.toString(),
    urgent: change.urgent,
    claim_priority: change.first ? 1 : 0
  }))
  const tenantRows: Array<TenantStateRow> = [...changedTenants.entries()].map(([tenant, position]) => ({
    tenant,
    state: tenants.get(tenant),
    last_position: position.toString()
  }))
  return {
    sessions: sessionRows,
    tenants: tenantRows,
    outcomes,
    steps,
    changedSessions: [...changedSessions.values()].map(({ sessionId, tenant }) => ({ tenant, sessionId }))
  }
}
