import { SqlClient } from "@effect/sql"
import { Data, Effect, Layer } from "effect"
import { RelayConfig } from "../config/RelayConfig.ts"
import { MigratedDatabaseLive } from "../db/Database.ts"
import { PlannerLive } from "../sender/PushPlannerLive.ts"

/**
 * What the operator commands run on: the database straight (DATABASE_URL, or
 * the embedded cluster, shared with a running relay), and the push planner
 * with the relay's settings (for replay).
 */
export const OperatorLive = Layer.mergeAll(MigratedDatabaseLive("shared"), PlannerLive).pipe(Layer.provideMerge(RelayConfig.layer))

export class SessionNotFound extends Data.TaggedError("SessionNotFound")<{ readonly message: string }> {}
export class AmbiguousSession extends Data.TaggedError("AmbiguousSession")<{ readonly message: string }> {}

/** Tenants are sha256 hashes of secrets; operators name them by a prefix. */
export const tenantPrefix = (tenant: string) => tenant.slice(0, 8)

/** The tenant a session belongs to, or a clear error (none, or several without --tenant). */
export const resolveTenant = (sessionId: string, prefix: string | undefined) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ tenant: string }>`
      select distinct tenant from events where session_id = ${sessionId}
        and (${prefix ?? null}::text is null or tenant like ${`${prefix ?? ""}%`})`
    const first = rows[0]
    if (first === undefined) {
      return yield* Effect.fail(new SessionNotFound({ message: `no session ${sessionId}${prefix === undefined ? "" : ` for tenant ${prefix}…`} in the log` }))
    }
    if (rows.length > 1) {
      const prefixes = rows.map((row) => tenantPrefix(row.tenant)).join(", ")
      return yield* Effect.fail(new AmbiguousSession({ message: `session ${sessionId} exists for several tenants (${prefixes}); pass --tenant <prefix>` }))
    }
    return first.tenant
  })

/** The one tenant whose id starts with `prefix`, or a clear error. */
export const resolveTenantPrefix = (prefix: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ tenant: string }>`
      select tenant from session_states where tenant like ${`${prefix}%`} group by tenant`
    const first = rows[0]
    if (first === undefined) return yield* Effect.fail(new SessionNotFound({ message: `no sessions for tenant ${prefix}…` }))
    if (rows.length > 1) {
      return yield* Effect.fail(new AmbiguousSession({ message: `tenant prefix ${prefix} matches several tenants (${rows.map((r) => tenantPrefix(r.tenant)).join(", ")}); give more of it` }))
    }
    return first.tenant
  })
