import type { Undecodable } from "../../projections/FoldBatch.ts"

/**
 * The leading projector's memory of the states it last committed, so a batch
 * need not read back what this same process wrote a moment ago. Only the
 * projector (one leader, under its advisory lock) writes session_states and
 * tenant_registrations, so a remembered state is the stored one as long as the
 * leadership lasts; a new leader (or a rebuild) starts with an empty cache.
 *
 * Bounded: least recently used sessions are forgotten and read again on need.
 * States are decoded once, when read from the database; the folds never
 * mutate them, so they are kept as is.
 */
export class FoldedStateCache<S, T> {
  private readonly sessions = new Map<string, S | Undecodable | null>()
  private readonly tenants = new Map<string, T | Undecodable | null>()

  private readonly maxSessions: number

  constructor(maxSessions = 20_000) {
    this.maxSessions = maxSessions
  }

  /** The committed state, `undefined` when not remembered (`null` is "known: none stored"). */
  session(key: string): S | Undecodable | null | undefined {
    const state = this.sessions.get(key)
    if (state !== undefined) {
      // Map order is insertion order: move to the newest end.
      this.sessions.delete(key)
      this.sessions.set(key, state)
    }
    return state
  }

  tenant(tenant: string): T | Undecodable | null | undefined {
    return this.tenants.get(tenant)
  }

  /** After a commit: the states as they now are in the database. */
  rememberSession(key: string, state: S | Undecodable | null) {
    this.sessions.delete(key)
    this.sessions.set(key, state)
    if (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.keys().next()
      if (!oldest.done) this.sessions.delete(oldest.value)
    }
  }

  rememberTenant(tenant: string, state: T | Undecodable | null) {
    this.tenants.set(tenant, state)
  }

  get size() {
    return { sessions: this.sessions.size, tenants: this.tenants.size }
  }
}
