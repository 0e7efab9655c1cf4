import { HttpApiBuilder } from "@effect/platform"
import { Clock, Effect, Either } from "effect"
import { appendEvents } from "../eventstore/appendEvents.ts"
import { BadRequest } from "../http/ApiErrors.ts"
import { Tenant } from "../http/Authentication.ts"
import { orUnavailable } from "../http/Persistence.ts"
import { readBody } from "../http/RequestBody.ts"
import { PushlineApi } from "../http/PushlineApi.ts"
import { RelayConfig } from "../config/RelayConfig.ts"
import { IngestAccepted } from "./Api.ts"
import { OpenCodeBatchBody, parseOpenCodeBatch } from "./OpenCodeBatch.ts"

export const IngestLive = HttpApiBuilder.group(PushlineApi, "ingest", (handlers) =>
  handlers.handleRaw("postOpenCodeEvents", ({ request }) =>
    Effect.gen(function*() {
      const config = yield* RelayConfig
      const tenant = yield* Tenant
      const body = yield* readBody(OpenCodeBatchBody, request, config.bodyLimitBytes)
      const now = yield* Clock.currentTimeMillis
      const parsed = parseOpenCodeBatch(body, tenant, now)
      if (Either.isLeft(parsed)) return yield* Effect.fail(BadRequest.because(parsed.left))
      const result = yield* orUnavailable(appendEvents(parsed.right.events))
      return new IngestAccepted({
        ok: true,
        accepted: result.appended.length,
        duplicates: result.duplicates,
        skipped: parsed.right.skipped
      })
    })
  )
)
