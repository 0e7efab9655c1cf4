import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { ContentState } from "../../domain/ContentState.ts"
import { BadRequest, NotFound } from "../http/ApiErrors.ts"
import { Authentication } from "../http/Authentication.ts"

export class LastDelivery extends Schema.Class<LastDelivery>("LastDelivery")({
  event: Schema.String,
  pushType: Schema.String,
  priority: Schema.Number,
  status: Schema.NullOr(Schema.Number),
  reason: Schema.NullOr(Schema.String),
  outcome: Schema.String,
  apnsId: Schema.NullOr(Schema.String),
  /** Only the last 8 characters of the token are ever shown. */
  tokenSuffix: Schema.String,
  latencyMs: Schema.NullOr(Schema.Number),
  attemptedAt: Schema.String
}) {}

export class SessionView extends Schema.Class<SessionView>("SessionView")({
  sessionID: Schema.String,
  parentID: Schema.NullOr(Schema.String),
  contentState: ContentState,
  lifecycle: Schema.Struct({
    state: Schema.Literal("idle", "active", "ended"),
    turn: Schema.Number,
    activityTokenKnown: Schema.Boolean,
    pushToStartUsed: Schema.Boolean,
    pendingPermissions: Schema.Number
  }),
  updatedAt: Schema.String,
  lastDelivery: Schema.NullOr(LastDelivery)
}) {}

export class SessionList extends Schema.Class<SessionList>("SessionList")({
  ok: Schema.Literal(true),
  sessions: Schema.Array(SessionView),
  nextCursor: Schema.NullOr(Schema.String).annotations({ description: "Pass as `cursor` for the next (older) page; null on the last page" })
}) {}

export class SessionResponse extends Schema.Class<SessionResponse>("SessionResponse")({
  ok: Schema.Literal(true),
  session: SessionView
}) {}

export class SessionsApi extends HttpApiGroup.make("sessions")
  .add(
    HttpApiEndpoint.get("listSessions", "/v1/sessions")
      .setUrlParams(Schema.Struct({
        cursor: Schema.optional(Schema.String).annotations({ description: "`nextCursor` of the previous page" }),
        limit: Schema.optional(Schema.String).annotations({ description: "Sessions per page, 1 to 1000 (default 200)" })
      }))
      .addSuccess(SessionList)
      .addError(BadRequest)
      .annotate(OpenApi.Description, "This secret's sessions, most recently updated first, a page at a time")
  )
  .add(
    HttpApiEndpoint.get("getSession", "/v1/sessions/:sessionID")
      .setPath(Schema.Struct({ sessionID: Schema.String }))
      .addSuccess(SessionResponse)
      .addError(NotFound)
  )
  .middleware(Authentication)
{}
