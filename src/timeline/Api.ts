import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { DecisionKind } from "../../domain/PushDecision.ts"
import { BadRequest, NotFound } from "../http/ApiErrors.ts"
import { Authentication } from "../http/Authentication.ts"

const Decision = Schema.Struct({
  runId: Schema.String,
  at: Schema.Number.annotations({ description: "When the sender planned (epoch ms)" }),
  decision: Schema.Union(DecisionKind, Schema.Literal("superseded")),
  target: Schema.String.annotations({ description: "Token suffix, live-activity / alerts for a hold over all of them, or session for a failed run" }),
  event: Schema.NullOr(Schema.String),
  pushType: Schema.NullOr(Schema.String),
  until: Schema.NullOr(Schema.Number).annotations({ description: "When a hold ends, or a failed run is retried (epoch ms)" }),
  reason: Schema.NullOr(Schema.String).annotations({
    description: "Why: for skipped, no-bundle-id / no-device / not-subscribed / no-token / permission-answered; for failed, the error"
  }),
  supersededBy: Schema.NullOr(Schema.String).annotations({ description: "Position of the newer state pushed instead" })
})

const Delivery = Schema.Struct({
  id: Schema.String,
  attemptedAt: Schema.Number,
  token: Schema.String.annotations({ description: "Last 8 characters of the token" }),
  pushType: Schema.String,
  event: Schema.String,
  priority: Schema.Number,
  headers: Schema.Unknown,
  payload: Schema.Unknown,
  status: Schema.NullOr(Schema.Number),
  reason: Schema.NullOr(Schema.String),
  apnsId: Schema.NullOr(Schema.String),
  latencyMs: Schema.NullOr(Schema.Number),
  outcome: Schema.String
})

export const TimelineStepSchema = Schema.Struct({
  position: Schema.String,
  eventId: Schema.String,
  sessionId: Schema.String,
  type: Schema.String,
  summary: Schema.String,
  sourceTime: Schema.Number,
  receivedTime: Schema.Number,
  outcome: Schema.Literal("applied", "ignored", "pending"),
  reason: Schema.NullOr(Schema.String),
  contentState: Schema.Unknown,
  decisions: Schema.Array(Decision),
  deliveries: Schema.Array(Delivery)
})

export class TimelineResponse extends Schema.Class<TimelineResponse>("TimelineResponse")({
  ok: Schema.Literal(true),
  sessionID: Schema.String,
  steps: Schema.Array(TimelineStepSchema),
  nextAfter: Schema.NullOr(Schema.String).annotations({ description: "Pass as `after` for the next page; null on the last page" })
}) {}

export class TimelineApi extends HttpApiGroup.make("timeline")
  .add(
    HttpApiEndpoint.get("getTimeline", "/v1/sessions/:sessionID/timeline")
      .setPath(Schema.Struct({ sessionID: Schema.String }))
      .setUrlParams(Schema.Struct({
        after: Schema.optional(Schema.String).annotations({ description: "Log position to start after (default 0)" }),
        limit: Schema.optional(Schema.String).annotations({ description: "Steps per page, 1 to 1000 (default 200)" })
      }))
      .addSuccess(TimelineResponse)
      .addError(BadRequest)
      .addError(NotFound)
      .annotate(OpenApi.Description, "The session's history: events, content-state after each, push decisions and APNs attempts")
  )
  .middleware(Authentication)
{}
