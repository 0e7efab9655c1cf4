import { HttpApiBuilder } from "@effect/platform"
import { Clock, Effect, Either, Metric } from "effect"
import { appendEvents } from "../eventstore/appendEvents.ts"
import { BadRequest } from "../http/ApiErrors.ts"
import { Tenant } from "../http/Authentication.ts"
import { orUnavailable } from "../http/Persistence.ts"
import { readBody } from "../http/RequestBody.ts"
import { PushlineApi } from "../api/PushlineApi.ts"
import { RelayConfig } from "../config/RelayConfig.ts"
import { IngestAccepted } from "./Api.ts"
import { OpenCodeBatchBody, parseOpenCodeBatch } from "./OpenCodeBatch.ts"

/** OpenCode events by what ingest did with them: appended to the log, already there, or not for the log. */
export const ingestedEvents = Metric.counter("pushline_ingest_events_total", {
  description: "OpenCode events received on /v1/opencode/events, by result (accepted, duplicate, skipped)",
  incremental: true
})
/** Batches refused whole, by error (BadRequest, PayloadTooLarge, DatabaseUnavailable, Unauthorized...). */
export const rejectedBatches = Metric.counter("pushline_ingest_rejected_total", {
  description: "OpenCode event batches refused, by error",
  incremental: true
})

const count = (result: string, n: number) =>
  n === 0 ? Effect.void : Metric.incrementBy(ingestedEvents, n).pipe(Effect.tagMetrics("result", result))

export const IngestLive = HttpApiBuilder.group(PushlineApi, "ingest", (handlers) =>
  handlers.handleRaw("postOpenCodeEvents", ({ request }) =>
    Effect.gen(function*() {
      const config = yield* RelayConfig
      const tenant = yield* Tenant
      const body = yield* readBody(OpenCodeBatchBody, request, config)
      const now = yield* Clock.currentTimeMillis
      const parsed = parseOpenCodeBatch(body, tenant, now)
      if (Either.isLeft(parsed)) return yield* Effect.fail(BadRequest.because(parsed.left))
      const result = yield* orUnavailable(appendEvents(parsed.right.events))
      yield* count("accepted", result.appended.length)
      yield* count("duplicate", result.duplicates)
      yield* count("skipped", parsed.right.skipped)
      return new IngestAccepted({
        ok: true,
        accepted: result.appended.length,
        duplicates: result.duplicates,
        skipped: parsed.right.skipped
      })
    }).pipe(Effect.tapError((error) => Metric.increment(rejectedBatches).pipe(Effect.tagMetrics("error", error._tag))))
  )
)
