import { HttpApiEndpoint, HttpApiGroup } from "@effect/platform"
import { Schema } from "effect"
import { Authentication } from "../http/Authentication.ts"
import { OpenCodeBatchBody } from "./OpenCodeBatch.ts"

export class IngestAccepted extends Schema.Class<IngestAccepted>("IngestAccepted")({
  ok: Schema.Literal(true),
  /** Events newly appended to the log. */
  accepted: Schema.Number,
  /** Events already in the log (resent), not stored again. */
  duplicates: Schema.Number,
  /** `sync` and `server.*` frames, which carry no session event. */
  skipped: Schema.Number
}) {}

export class IngestApi extends HttpApiGroup.make("ingest")
  .add(
    HttpApiEndpoint.post("postOpenCodeEvents", "/v1/opencode/events")
      .setPayload(OpenCodeBatchBody)
      .addSuccess(IngestAccepted, { status: 202 })
  )
  .middleware(Authentication)
{}
