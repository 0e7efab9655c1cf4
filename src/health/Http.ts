import { HttpApiBuilder } from "@effect/platform"
import { Effect, Option } from "effect"
import { ApnsClient } from "../apns/ApnsClient.ts"
import { logHead } from "../eventstore/logHead.ts"
import { orUnavailable } from "../http/Persistence.ts"
import { PushlineApi } from "../api/PushlineApi.ts"
import { prometheusText } from "../metrics/Prometheus.ts"
import { Health, Ready } from "./Api.ts"
import { readReadiness } from "./Readiness.ts"

/** What the relay pushes through, e.g. "local APNs simulator at https://127.0.0.1:port". */
const apnsDescription = Effect.map(
  Effect.serviceOption(ApnsClient),
  Option.match({ onNone: () => "not configured", onSome: (client) => client.description })
)

export const HealthLive = HttpApiBuilder.group(PushlineApi, "health", (handlers) =>
  handlers
    .handle("health", () =>
      Effect.gen(function*() {
        const head = yield* orUnavailable(logHead)
        return new Health({ ok: true, database: "ok", logHead: head.toString(), apns: yield* apnsDescription })
      }))
    .handle("ready", () =>
      Effect.gen(function*() {
        const readiness = yield* orUnavailable(readReadiness)
        return new Ready({
          ok: true,
          database: "ok",
          logHead: readiness.logHead,
          projector: { lagEvents: readiness.projectorLagEvents, lagSeconds: readiness.projectorLagSeconds },
          sender: { due: readiness.senderDue, claimed: readiness.senderClaimed },
          apns: { description: yield* apnsDescription, connections: readiness.apnsConnections, ready: readiness.apnsConnectionsReady }
        })
      }))
    .handle("metrics", () =>
      // The gauges read at scrape time are refreshed first; without a database they keep their last values.
      readReadiness.pipe(
        Effect.catchAll((error) => Effect.logWarning("metrics: database unavailable; gauges not refreshed", error.message)),
        Effect.zipRight(prometheusText)
      ))
)
