import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { DatabaseUnavailable } from "../http/ApiErrors.ts"

/** GET /health: the process is alive and its database answers (liveness). */
export class Health extends Schema.Class<Health>("Health")({
  ok: Schema.Literal(true),
  database: Schema.Literal("ok"),
  /** Highest position in the event log. */
  logHead: Schema.String,
  apns: Schema.String
}) {}

/** GET /ready: whether the relay keeps up (readiness), with the figures it is judged by. */
export class Ready extends Schema.Class<Ready>("Ready")({
  ok: Schema.Literal(true),
  database: Schema.Literal("ok"),
  logHead: Schema.String,
  projector: Schema.Struct({
    /** Events in the log not yet folded (counted up to 100000). */
    lagEvents: Schema.Number,
    /** How long the oldest of them has waited. */
    lagSeconds: Schema.Number
  }),
  sender: Schema.Struct({
    /** Sessions due and not yet claimed. */
    due: Schema.Number,
    /** Sessions a sender holds claimed. */
    claimed: Schema.Number
  }),
  apns: Schema.Struct({
    description: Schema.String,
    connections: Schema.Number,
    ready: Schema.Number
  })
}) {}

export const PrometheusText = HttpApiSchema.Text({ contentType: "text/plain; version=0.0.4; charset=utf-8" })

export class HealthApi extends HttpApiGroup.make("health")
  .add(HttpApiEndpoint.get("health", "/health").addSuccess(Health))
  .add(HttpApiEndpoint.get("ready", "/ready").addSuccess(Ready).addError(DatabaseUnavailable))
  .add(HttpApiEndpoint.get("metrics", "/metrics").addSuccess(PrometheusText))
{}
