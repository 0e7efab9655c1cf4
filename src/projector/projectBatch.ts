import { Effect } from "effect"
import type { LoggedEvent } from "../../domain/LoggedEvent.ts"
import type { Checkpoint } from "../eventstore/readAfter.ts"
import { FoldedStateCache } from "./FoldedStateCache.ts"
import { foldBatch, sessionsTouched, type StatesBefore } from "./foldBatch.ts"
import { loadFoldedStates } from "./loadFoldedStates.ts"
import { ProjectionFolds } from "./ProjectionFolds.ts"
import { writeProjectedBatch } from "./writeProjectedBatch.ts"

export { SENDER_CHANNEL } from "./writeProjectedBatch.ts"

export interface ProjectedBatch {
  readonly events: number
  /** Sessions whose state changed. */
  readonly changedSessions: ReadonlyArray<{ readonly tenant: string; readonly sessionId: string }>
}

/**
 * Folds one batch of events and writes the new states, the per-event outcomes,
 * the sessions now due for the sender and the checkpoint in one statement:
 * after a crash the projector resumes exactly where it last committed.
 * States come from `cache` (the leader's memory of what it committed) and, for
 * what it does not remember, from the database; the cache learns the new states
 * only once they are committed. `markDue: false` is for rebuilds, which must
 * not send anything again.
 */
export const projectBatch = (
  projector: string,
  from: Checkpoint,
  to: Checkpoint,
  events: ReadonlyArray<LoggedEvent>,
  options: {
    readonly markDue: boolean
    readonly cache?: FoldedStateCache | undefined
    /** Payload of the NOTIFY that wakes senders (see writeProjectedBatch). */
    readonly projectedBy?: string | undefined
  }
) =>
  Effect.gen(function*() {
    const folds = yield* ProjectionFolds
    const cache = options.cache ?? new FoldedStateCache()

    const missingTenants = [...new Set(events.map((event) => event.tenant))].filter((tenant) => cache.tenant(tenant) === undefined)
    const tenantsLoaded = yield* loadFoldedStates(missingTenants, [])
    for (const [tenant, state] of tenantsLoaded.tenants) cache.rememberTenant(tenant, state)

    const routing: StatesBefore = { tenant: (tenant) => cache.tenant(tenant), session: (key) => cache.session(key) }
    const missingSessions = sessionsTouched(folds, events, routing).filter(({ key }) => cache.session(key) === undefined)
    const sessionsLoaded = yield* loadFoldedStates([], missingSessions)
    for (const [key, state] of sessionsLoaded.sessions) cache.rememberSession(key, state)

    // What was just read is used as read, whatever the bounded cache has forgotten since.
    const folded = foldBatch(folds, events, {
      tenant: (tenant) => tenantsLoaded.tenants.get(tenant) ?? cache.tenant(tenant),
      session: (key) => sessionsLoaded.sessions.get(key) ?? cache.session(key)
    })
    yield* writeProjectedBatch(projector, from, to, folded, { markDue: options.markDue, projectedBy: options.projectedBy })
    for (const row of folded.sessions) cache.rememberSession(FoldedStateCache.sessionKey(row.tenant, row.session_id), row.state)
    for (const row of folded.tenants) cache.rememberTenant(row.tenant, row.state)
    return { events: events.length, changedSessions: folded.changedSessions } satisfies ProjectedBatch
  })
