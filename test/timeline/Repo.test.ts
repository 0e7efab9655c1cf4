import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { readDeliveries, readRuns } from "../../src/timeline/Repo.ts"
import { sharedDatabaseLayer, uniqueTenant } from "../support/database.ts"

layer(sharedDatabaseLayer, { excludeTestServices: true })("timeline Repo", (it) => {
  it.effect("returns runs and deliveries in id order, not in the text order of their ids", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const tenant = uniqueTenant("repo-order")
      // Ids whose text order ("10…" < "9…") is the reverse of their numeric order.
      const offset = Math.floor(Math.random() * 1_000_000_000)
      const [nine, ten] = [9_000_000_000_000 + offset, 10_000_000_000_000 + offset].map(String)
      for (const id of [ten!, nine!]) {
        yield* sql`
          insert into sender_runs (id, tenant, session_id, session_position, planned_at_ms, settings, decisions)
          overriding system value
          values (${id}::bigint, ${tenant}, 'ses_1', 1, ${id}::bigint, '{}'::jsonb, '[]'::jsonb)`
        yield* sql`
          insert into deliveries (id, tenant, session_id, caused_by, token, environment, push_type, event, priority,
                                  headers, payload, outcome, run_id)
          overriding system value
          values (${id}::bigint, ${tenant}, 'ses_1', 1, 'ab', 'sandbox', 'liveactivity', 'update', 5,
                  '{}'::jsonb, '{}'::jsonb, 'delivered', ${id}::bigint)`
      }
      expect((yield* readRuns(tenant, "ses_1")).map((run) => run.id)).toEqual([nine, ten])
      expect((yield* readDeliveries(tenant, "ses_1", null)).map((delivery) => delivery.id)).toEqual([nine, ten])
    }))
})
