import { Effect, Either } from "effect"
import type { LoggedEvent } from "../../domain/LoggedEvent.ts"
import { foldBatch, type Folds, sessionKey, sessionsTouched, type StatesBefore, Undecodable } from "../../projections/FoldBatch.ts"
import type { Checkpoint } from "../eventstore/readAfter.ts"
import { FoldedStateCache } from "./FoldedStateCache.ts"
import { loadFoldedStates } from "./loadFoldedStates.ts"
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
export const projectBatch = <S, T>(
  folds: Folds<S, T>,
  projector: string,
  from: Checkpoint,
  to: Checkpoint,
  events: ReadonlyArray<LoggedEvent>,
  options: {
    readonly markDue: boolean
    readonly cache?: FoldedStateCache<S, T> | undefined
    /** Payload of the NOTIFY that wakes senders (see writeProjectedBatch). */
    readonly projectedBy?: string | undefined
  }
) =>
  Effect.gen(function*() {
    const cache = options.cache ?? new FoldedStateCache<S, T>()

    const missingTenants = [...new Set(events.map((event) => event.tenant))].filter((tenant) => cache.tenant(tenant) === undefined)
    const tenantsLoaded = new Map<string, T | Undecodable | null>()
    for (const [tenant, stored] of (yield* loadFoldedStates(missingTenants, [])).tenants) {
      const state = yield* decoded(stored, folds.decodeRegistrations, `registrations of tenant ${tenant.slice(0, 8)}`)
      tenantsLoaded.set(tenant, state)
      cache.rememberTenant(tenant, state)
    }

    const routing: StatesBefore<S, T> = { tenant: (tenant) => cache.tenant(tenant), session: (key) => cache.session(key) }
    const missingSessions = sessionsTouched(folds, events, routing).filter(({ key }) => cache.session(key) === undefined)
    const sessionsLoaded = new Map<string, S | Undecodable | null>()
    const storedSessions = (yield* loadFoldedStates([], missingSessions)).sessions
    for (const { key, sessionId } of missingSessions) {
      const state = yield* decoded(storedSessions.get(key) ?? null, folds.decodeSession, `state of session ${sessionId}`)
      sessionsLoaded.set(key, state)
      cache.rememberSession(key, state)
    }

    // What was just read is used as read, whatever the bounded cache has forgotten since.
    const folded = foldBatch(folds, events, {
      tenant: (tenant) => tenantsLoaded.get(tenant) ?? cache.tenant(tenant),
      session: (key) => sessionsLoaded.get(key) ?? cache.session(key)
    })
    yield* writeProjectedBatch(projector, from, to, folded, { markDue: options.markDue, projectedBy: options.projectedBy })
    for (const row of folded.sessions) cache.rememberSession(sessionKey(row.tenant, row.session_id), row.state)
    for (const row of folded.tenants) cache.rememberTenant(row.tenant, row.state)
    return { events: events.length, changedSessions: folded.changedSessions } satisfies ProjectedBatch
  })

/** A stored row decoded; one that does not decode is logged and folded as Undecodable (skipped, saying why). */
const decoded = <A>(stored: unknown, decode: (stored: unknown) => Either.Either<A, string>, what: string) => {
  if (stored === null) return Effect.succeed(null)
  return Either.match(decode(stored), {
    onRight: (state) => Effect.succeed(state),
    onLeft: (reason) =>
      Effect.logError(`projector: the stored ${what} does not decode; its events are skipped: ${reason}`).pipe(
        Effect.as(new Undecodable(reason))
      )
  })
}
