/**
 * The leading projector's memory of the states it last committed, so a batch
 * need not read back what this same process wrote a moment ago. Only the
 * projector (one leader, under its advisory lock) writes session_states and
 * tenant_registrations, so a remembered state is the stored one as long as the
 * leadership lasts; a new leader (or a rebuild) starts with an empty cache.
 *
 * Bounded: least recently used sessions are forgotten and read again on need.
 * States are plain JSON values the folds never mutate, so they are kept as is.
 */
export class FoldedStateCache {
  private readonly sessions = new Map<string, unknown>()
  private readonly tenants = new Map<string, unknown>()

  constructor(private readonly maxSessions = 20_000) {}

  /** NUL as the separator: PostgreSQL text cannot hold it, so no stored id contains it. */
  static sessionKey(tenant: string, sessionId: string) {
    return `${tenant}\u0000${sessionId}`
  }

  /** The committed state, `undefined` when not remembered (`null` is "known: none stored"). */
  session(key: string): unknown {
    const state = this.sessions.get(key)
    if (state !== undefined) {
      // Map order is insertion order: move to the newest end.
      this.sessions.delete(key)
      this.sessions.set(key, state)
    }
    return state
  }

  tenant(tenant: string): unknown {
    return this.tenants.get(tenant)
  }

  /** After a commit: the states as they now are in the database. */
  rememberSession(key: string, state: unknown) {
    this.sessions.delete(key)
    this.sessions.set(key, state)
    if (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.keys().next()
      if (!oldest.done) this.sessions.delete(oldest.value)
    }
  }

  rememberTenant(tenant: string, state: unknown) {
    this.tenants.set(tenant, state)
  }

  get size() {
    return { sessions: this.sessions.size, tenants: this.tenants.size }
  }
}
