import type { Either } from "effect"
import type { LoggedEvent } from "../domain/LoggedEvent.ts"
import type { FoldResult } from "./RegistrationsFold.ts"

/**
 * Folding a batch of the log, pure: which sessions each event reaches
 * (routing can depend on the tenant's registrations: a subagent's
 * permission also reaches its root), the new states, the timeline's steps,
 * what each event did, and how urgently the sender should look at each
 * changed session. The projector (live and rebuild) runs this over what it
 * read; `Folds` says what the states are and how events change them.
 */
export interface Folds<S, T> {
  /** Sessions the event updates: usually its own, none for tenant-level events; given the registrations after the event. */
  readonly sessionsOf: (event: LoggedEvent, tenantState: T) => ReadonlyArray<string>
  readonly initialSession: (tenant: string, sessionId: string) => S
  readonly applySession: (state: S, event: LoggedEvent) => FoldResult<S>
  /** Whether `event` changing `before` into `after` only waits for the throttle window (no need to wake the sender early). */
  readonly pacedByThrottle: (before: S, after: S, event: LoggedEvent) => boolean
  /** Whether the sender should handle the session ahead of progress-only ones after `event` made `after`. */
  readonly claimsFirst: (after: S, event: LoggedEvent) => boolean
  /** What the phone would show for a session state (stored per step for the timeline). */
  readonly shownState: (state: S) => unknown
  readonly touchesRegistrations: (event: LoggedEvent) => boolean
  readonly initialRegistrations: (tenant: string) => T
  readonly applyRegistrations: (state: T, event: LoggedEvent) => FoldResult<T>
  /** A stored row read back: the state, or what is wrong with it. */
  readonly decodeSession: (stored: unknown) => Either.Either<S, string>
  readonly decodeRegistrations: (stored: unknown) => Either.Either<T, string>
}

/** A stored row that did not decode: what is wrong with it. Folding skips it, saying so. */
export class Undecodable {
  readonly reason: string
  constructor(reason: string) {
    this.reason = reason
  }
}

/** NUL as the separator: PostgreSQL text cannot hold it, so no stored id contains it. */
export const sessionKey = (tenant: string, sessionId: string) => `${tenant}\u0000${sessionId}`

export interface SessionStateRow<S = unknown> {
  readonly tenant: string
  readonly session_id: string
  readonly state: S
  readonly last_position: string
  /** Wake the sender now even if the session already has a time (not a change the throttle paces). */
  readonly urgent: boolean
  /** 1: the sender claims it ahead of progress-only sessions (a transition, or a post waiting for its pushes). */
  readonly claim_priority: number
}

export interface RegistrationsRow<T = unknown> {
  readonly tenant: string
  readonly state: T
  readonly last_position: string
}

export interface OutcomeRow {
  readonly position: string
  readonly tenant: string
  readonly session_id: string
  readonly applied: boolean
  readonly reason: string | null
}

export interface StepRow {
  readonly tenant: string
  readonly session_id: string
  readonly position: string
  readonly applied: boolean
  readonly reason: string | null
  readonly content_state: unknown
}

export interface ProjectedWrites<S = unknown, T = unknown> {
  readonly sessions: ReadonlyArray<SessionStateRow<S>>
  readonly tenants: ReadonlyArray<RegistrationsRow<T>>
  /**
   * What an event did, for the events whose steps do not say it: no step (a registration,
   * an event no fold uses), several, one on another session (a subagent's event on its
   * root), or a registration besides. The view `event_results` gives every folded event
   * one row either way.
   */
  readonly outcomes: ReadonlyArray<OutcomeRow>
  readonly steps: ReadonlyArray<StepRow>
}

/** Stored states by tenant and by session key; `null` or `undefined`: none stored (the fold's initial state). */
export interface StatesBefore<S, T> {
  readonly tenant: (tenant: string) => T | Undecodable | null | undefined
  readonly session: (key: string) => S | Undecodable | null | undefined
}

export interface FoldedBatch<S, T> extends ProjectedWrites<S, T> {
  /** Sessions whose state changed. */
  readonly changedSessions: ReadonlyArray<{ readonly tenant: string; readonly sessionId: string }>
}

const orInitial = <A>(state: A | Undecodable | null | undefined, initial: () => A): A | Undecodable =>
  state === null || state === undefined ? initial() : state

/**
 * The sessions a batch touches. Routing can depend on the registrations (subagent ->
 * root), so the tenant fold runs over the batch first to learn them.
 */
export const sessionsTouched = <S, T>(folds: Folds<S, T>, events: ReadonlyArray<LoggedEvent>, before: StatesBefore<S, T>) => {
  const routing = new Map<string, T | Undecodable>()
  const touched = new Map<string, { readonly key: string; readonly tenant: string; readonly sessionId: string }>()
  for (const event of events) {
    const current = routing.get(event.tenant) ?? orInitial(before.tenant(event.tenant), () => folds.initialRegistrations(event.tenant))
    // A tenant whose registrations do not decode routes nothing (see foldBatch).
    if (current instanceof Undecodable) continue
    const tenantState = folds.touchesRegistrations(event) ? folds.applyRegistrations(current, event).state : current
    routing.set(event.tenant, tenantState)
    for (const sessionId of folds.sessionsOf(event, tenantState)) {
      const key = sessionKey(event.tenant, sessionId)
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
export const foldBatch = <S, T>(folds: Folds<S, T>, events: ReadonlyArray<LoggedEvent>, before: StatesBefore<S, T>): FoldedBatch<S, T> => {
  const tenants = new Map<string, T | Undecodable>()
  const sessions = new Map<string, S | Undecodable>()
  const tenantOf = (tenant: string): T | Undecodable =>
    tenants.get(tenant) ?? orInitial(before.tenant(tenant), () => folds.initialRegistrations(tenant))
  const changedSessions = new Map<string, { tenant: string; sessionId: string; position: bigint; urgent: boolean; first: boolean; state: S }>()
  const changedTenants = new Map<string, { position: bigint; state: T }>()
  const outcomes: Array<OutcomeRow> = []
  const steps: Array<StepRow> = []

  for (const event of events) {
    let applied = false
    const reasons: Array<string> = []
    const stepsBefore = steps.length
    const touchesRegistrations = folds.touchesRegistrations(event)
    const registrations = tenantOf(event.tenant)
    if (registrations instanceof Undecodable) {
      // Routing needs the registrations: nothing of this tenant is folded until they decode (a rebuild).
      outcomes.push({
        position: event.position.toString(),
        tenant: event.tenant,
        session_id: event.sessionId,
        applied: false,
        reason: `skipped: the tenant's stored registrations do not decode: ${registrations.reason}`
      })
      continue
    }
    if (touchesRegistrations) {
      const result = folds.applyRegistrations(registrations, event)
      tenants.set(event.tenant, result.state)
      if (result.applied) {
        applied = true
        changedTenants.set(event.tenant, { position: event.position, state: result.state })
      } else if (result.reason !== null) reasons.push(result.reason)
    }
    const tenantState = tenants.get(event.tenant) ?? registrations
    if (tenantState instanceof Undecodable) continue
    for (const sessionId of folds.sessionsOf(event, tenantState)) {
      const key = sessionKey(event.tenant, sessionId)
      const current = sessions.get(key) ?? orInitial(before.session(key), () => folds.initialSession(event.tenant, sessionId))
      if (current instanceof Undecodable) {
        // The stored state is left as it is, and the step says why the event did nothing.
        sessions.set(key, current)
        steps.push({
          tenant: event.tenant,
          session_id: sessionId,
          position: event.position.toString(),
          applied: false,
          reason: `skipped: the session's stored state does not decode: ${current.reason}`,
          content_state: null
        })
        reasons.push(steps[steps.length - 1]!.reason!)
        continue
      }
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
        changedSessions.set(key, { tenant: event.tenant, sessionId, position: event.position, urgent, first, state: result.state })
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

  const sessionRows: Array<SessionStateRow<S>> = [...changedSessions.values()].map((change) => ({
    tenant: change.tenant,
    session_id: change.sessionId,
    state: change.state,
    last_position: change.position.toString(),
    urgent: change.urgent,
    claim_priority: change.first ? 1 : 0
  }))
  const tenantRows: Array<RegistrationsRow<T>> = [...changedTenants.entries()].map(([tenant, change]) => ({
    tenant,
    state: change.state,
    last_position: change.position.toString()
  }))
  return {
    sessions: sessionRows,
    tenants: tenantRows,
    outcomes,
    steps,
    changedSessions: [...changedSessions.values()].map(({ sessionId, tenant }) => ({ tenant, sessionId }))
  }
}
