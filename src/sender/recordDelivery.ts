import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { PlannedPush } from "./PushPlanner.ts"
import type { DeliveryResult } from "./PushTransport.ts"

/** One row per APNs attempt: what was sent, why, and what APNs said. */
export const recordDelivery = (tenant: string, sessionId: string, runId: string | null, planned: PlannedPush, result: DeliveryResult) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const push = planned.push
    yield* sql`
      insert into deliveries (tenant, session_id, caused_by, token, environment, push_type, event, priority,
                              headers, payload, status, reason, apns_id, latency_ms, outcome, run_id)
      values (${tenant}, ${sessionId}, ${planned.causedBy}::bigint, ${push.token}, ${push.environment},
              ${push.pushType}, ${planned.event}, ${push.priority}, ${JSON.stringify(result.headers)}::jsonb,
              ${JSON.stringify(push.payload)}::jsonb, ${result.status}, ${result.reason}, ${result.apnsId},
              ${result.latencyMs}, ${result.outcome}, ${runId}::bigint)`
  })
