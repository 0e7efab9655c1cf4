import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { PushDecision } from "../../domain/PushDecision.ts"
import { BadRequest, NotFound } from "../http/ApiErrors.ts"
import { Authentication } from "../http/Authentication.ts"
import { fieldMessage } from "../http/Fields.ts"

const Milliseconds = Schema.Int.pipe(Schema.between(0, 3_600_000)).annotations({
  message: fieldMessage("must be an integer number of milliseconds from 0 to 3600000")
})

export const ReplayRequest = Schema.Struct({
  throttleMs: Schema.optionalWith(Milliseconds, { exact: true }).annotations({ description: "Throttle window to replay with (default: as recorded)" }),
  permissionGraceMs: Schema.optionalWith(Milliseconds, { exact: true }).annotations({ description: "Permission grace to replay with (default: as recorded)" })
})

const ReplayedPush = Schema.Struct({
  plannedAt: Schema.Number,
  causedBy: Schema.String,
  token: Schema.String,
  pushType: Schema.String,
  event: Schema.String,
  priority: Schema.Number,
  content: Schema.Unknown.annotations({ description: "content-state of a Live Activity push, or the alert" }),
  answer: Schema.String
})

const RecordedPush = Schema.Struct({
  deliveryId: Schema.String,
  token: Schema.String,
  pushType: Schema.String,
  event: Schema.String,
  content: Schema.Unknown
})

export class ReplayResponse extends Schema.Class<ReplayResponse>("ReplayResponse")({
  ok: Schema.Literal(true),
  sessionID: Schema.String,
  settings: Schema.Struct({ throttleMs: Schema.Number, permissionGraceMs: Schema.Number, endSettleMs: Schema.Number }),
  identical: Schema.Boolean,
  pushes: Schema.Array(ReplayedPush),
  recorded: Schema.Number,
  differences: Schema.Struct({
    missing: Schema.Array(ReplayedPush),
    extra: Schema.Array(RecordedPush),
    different: Schema.Array(Schema.Struct({ recorded: RecordedPush, replayed: ReplayedPush })),
    decisions: Schema.Array(Schema.Struct({
      runId: Schema.String,
      plannedAt: Schema.Number,
      recorded: Schema.Array(PushDecision),
      replayed: Schema.Array(PushDecision)
    })).annotations({ description: "Runs where today's code decides otherwise (only with the recorded settings)" })
  })
}) {}

export class ReplaySummaryResponse extends Schema.Class<ReplaySummaryResponse>("ReplaySummaryResponse")({
  ok: Schema.Literal(true),
  settings: Schema.Struct({ throttleMs: Schema.Number, permissionGraceMs: Schema.Number, endSettleMs: Schema.Number }),
  sessions: Schema.Number.annotations({ description: "Sessions replayed" }),
  withDifferences: Schema.Number,
  differing: Schema.Array(Schema.Struct({
    sessionID: Schema.String,
    missing: Schema.Number,
    extra: Schema.Number,
    different: Schema.Number,
    decisions: Schema.Number
  }))
}) {}

export class ReplayApi extends HttpApiGroup.make("replay")
  .add(
    HttpApiEndpoint.post("replaySession", "/v1/sessions/:sessionID/replay")
      .setPath(Schema.Struct({ sessionID: Schema.String }))
      .setPayload(ReplayRequest)
      .addSuccess(ReplayResponse)
      .addError(BadRequest)
      .addError(NotFound)
      .annotate(
        OpenApi.Description,
        "Re-folds the session's log with today's code (optionally other throttle/grace), runs the sender's step at each recorded run with the recorded answers, and compares pushes and decisions with the record"
      )
  )
  .add(
    HttpApiEndpoint.post("replayTenant", "/v1/replay")
      .setPayload(ReplayRequest)
      .addSuccess(ReplaySummaryResponse)
      .addError(BadRequest)
      .annotate(OpenApi.Description, "Replays every session of this secret and counts those with differences")
  )
  .middleware(Authentication)
{}
