import { HttpApiEndpoint, HttpApiGroup } from "@effect/platform"
import { Schema } from "effect"

export class Health extends Schema.Class<Health>("Health")({
  ok: Schema.Literal(true),
  database: Schema.Literal("ok"),
  /** Highest position in the event log. */
  logHead: Schema.String,
  apns: Schema.String
}) {}

export class HealthApi extends HttpApiGroup.make("health").add(HttpApiEndpoint.get("health", "/health").addSuccess(Health)) {}
