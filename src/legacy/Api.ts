import { HttpApiEndpoint, HttpApiGroup } from "@effect/platform"
import { Schema } from "effect"
import { fieldMessage, OneOf, Secret, SessionId, ShortText } from "../http/Fields.ts"

export const LegacyEventType = OneOf("complete", "permission", "error", "progress", "start")

export const LegacyEventBody = Schema.Struct({
  secret: Secret,
  serverID: Schema.optional(ShortText(200)),
  eventType: LegacyEventType,
  sessionID: SessionId,
  title: Schema.optional(ShortText(1000)),
  body: Schema.optional(ShortText(4000)),
  contentState: Schema.optional(
    Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({ message: fieldMessage("must be an object") })
  )
})

export class LegacyEventResult extends Schema.Class<LegacyEventResult>("LegacyEventResult")({
  ok: Schema.Literal(true),
  /** Pushes APNs accepted for this event within the wait. */
  sent: Schema.Number,
  failed: Schema.Number
}) {}

export class LegacyApi extends HttpApiGroup.make("legacy")
  .add(HttpApiEndpoint.post("postLegacyEvent", "/v1/event").setPayload(LegacyEventBody).addSuccess(LegacyEventResult))
{}
