import { SqlClient } from "@effect/sql"
import { Effect, Metric, Option } from "effect"
import { ApnsClient } from "../apns/ApnsClient.ts"
import { SESSIONS_PROJECTOR } from "../projector/Projector.ts"

/**
 * What GET /ready reports and GET /metrics exports as gauges, read when asked:
 * the projector's lag behind the log (events after its checkpoint, and how long
 * the oldest of them has waited), the sender's backlog (sessions due and not
 * claimed; sessions claimed), and the APNs connections.
 */
export interface Readiness {
  readonly logHead: string
  readonly projectorLagEvents: number
  readonly projectorLagSeconds: number
  readonly senderDue: number
  readonly senderClaimed: number
  readonly apnsConnections: number
  readonly apnsConnectionsReady: number
}

/** Lag is counted up to this many events: past it, the exact number says nothing more. */
const LAG_COUNT_CAP = 100_000

export const projectorLagEvents = Metric.gauge("pushline_projector_lag_events", { description: "Events in the log the projector has not folded yet" })
export const projectorLagSeconds = Metric.gauge("pushline_projector_lag_seconds", { description: "How long the oldest event not yet folded has waited" })
export const senderDue = Metric.gauge("pushline_sender_due_sessions", { description: "Sessions due for the sender and not claimed (the claim queue)" })
export const senderClaimed = Metric.gauge("pushline_sender_claimed_sessions", { description: "Sessions claimed by a sender (this relay or another)" })
export const apnsConnections = Metric.gauge("pushline_apns_connections", { description: "Open HTTP/2 connections to APNs, by state" })

export const readReadiness = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [lag] = yield* sql<{ head: string; events: string; oldest_seconds: number | null }>`
    with checkpoint as (
      select coalesce((select position from projector_checkpoints where projector = ${SESSIONS_PROJECTOR}), 0) as position
    ), behind as (
      select e.received_time from events e, checkpoint c where e.position > c.position order by e.position limit ${LAG_COUNT_CAP}
    )
    select (select coalesce(max(position), 0) from events)::text as head,
           (select count(*) from behind)::text as events,
           (select extract(epoch from now() - min(received_time))::float8 from behind) as oldest_seconds`
  const [backlog] = yield* sql<{ due: string; claimed: string }>`
    select count(*) filter (where due_at <= now() and (leased_until is null or leased_until <= now()))::text as due,
           count(*) filter (where leased_until > now())::text as claimed
    from sender_sessions where due_at is not null or leased_until is not null`
  const apns = yield* Effect.serviceOption(ApnsClient)
  const connections = Option.match(apns, {
    onNone: () => [],
    onSome: (client) => client.stats().flatMap((pool) => pool.connections)
  })
  const readiness: Readiness = {
    logHead: lag?.head ?? "0",
    projectorLagEvents: Number(lag?.events ?? 0),
    projectorLagSeconds: Math.max(0, lag?.oldest_seconds ?? 0),
    senderDue: Number(backlog?.due ?? 0),
    senderClaimed: Number(backlog?.claimed ?? 0),
    apnsConnections: connections.length,
    apnsConnectionsReady: connections.filter((c) => c.ready && !c.draining).length
  }
  yield* Metric.set(projectorLagEvents, readiness.projectorLagEvents)
  yield* Metric.set(projectorLagSeconds, readiness.projectorLagSeconds)
  yield* Metric.set(senderDue, readiness.senderDue)
  yield* Metric.set(senderClaimed, readiness.senderClaimed)
  yield* Metric.set(apnsConnections, readiness.apnsConnectionsReady).pipe(Effect.tagMetrics("state", "ready"))
  yield* Metric.set(apnsConnections, readiness.apnsConnections - readiness.apnsConnectionsReady).pipe(Effect.tagMetrics("state", "other"))
  return readiness
})
