import { describe, expect, it } from "@effect/vitest"
import { sessionKey } from "../../projections/FoldBatch.ts"
import { FoldedStateCache } from "../../src/projector/FoldedStateCache.ts"

describe("FoldedStateCache", () => {
  it("tells a remembered state, a known absence (null) and an unknown session apart", () => {
    const cache = new FoldedStateCache()
    const known = sessionKey("t", "ses_a")
    const absent = sessionKey("t", "ses_b")
    cache.rememberSession(known, { status: "working" })
    cache.rememberSession(absent, null)
    expect(cache.session(known)).toEqual({ status: "working" })
    expect(cache.session(absent)).toBeNull()
    expect(cache.session(sessionKey("t", "ses_c"))).toBeUndefined()
  })

  it("keys by tenant and session, so the same session id in two tenants are two entries", () => {
    const cache = new FoldedStateCache()
    cache.rememberSession(sessionKey("t1", "ses"), 1)
    cache.rememberSession(sessionKey("t2", "ses"), 2)
    expect(cache.session(sessionKey("t1", "ses"))).toBe(1)
    expect(cache.session(sessionKey("t2", "ses"))).toBe(2)
  })

  it("forgets the least recently used session beyond its bound; reading counts as use", () => {
    const cache = new FoldedStateCache(3)
    cache.rememberSession("a", 1)
    cache.rememberSession("b", 2)
    cache.rememberSession("c", 3)
    expect(cache.session("a")).toBe(1) // a is now the newest
    cache.rememberSession("d", 4) // evicts b, the least recently used
    expect(cache.session("b")).toBeUndefined()
    expect([cache.session("a"), cache.session("c"), cache.session("d")]).toEqual([1, 3, 4])
    cache.rememberSession("c", 30) // an update refreshes, it does not grow
    expect(cache.size).toEqual({ sessions: 3, tenants: 0 })
    cache.rememberSession("e", 5) // evicts a (c, d were read/updated after it)
    expect(cache.session("a")).toBeUndefined()
    expect(cache.session("c")).toBe(30)
  })

  it("remembers tenants apart from sessions", () => {
    const cache = new FoldedStateCache(1)
    cache.rememberTenant("t", { devices: [] })
    cache.rememberSession("a", 1)
    cache.rememberSession("b", 2)
    expect(cache.tenant("t")).toEqual({ devices: [] })
    expect(cache.tenant("other")).toBeUndefined()
    expect(cache.size).toEqual({ sessions: 1, tenants: 1 })
  })
})
