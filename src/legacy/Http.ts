import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { LegacyEventPosted } from "../../domain/PushlineEvent.ts"
import { RelayConfig } from "../config/RelayConfig.ts"
import { appendEvents } from "../eventstore/appendEvents.ts"
import { tenantOf } from "../http/Authentication.ts"
import { orUnavailable } from "../http/Persistence.ts"
import { idempotencyKeyOf, pushlineLogEvent } from "../http/PushlineEvents.ts"
import { PushlineApi } from "../http/PushlineApi.ts"
import { readBody } from "../http/RequestBody.ts"
import { LegacyEventBody, LegacyEventResult } from "./Api.ts"

export const LegacyLive = HttpApiBuilder.group(PushlineApi, "legacy", (handlers) =>
  handlers.handleRaw("postLegacyEvent", ({ request }) =>
    Effect.gen(function*() {
      const config = yield* RelayConfig
      const body = yield* readBody(LegacyEventBody, request, config.bodyLimitBytes)
      const event = new LegacyEventPosted({
        serverID: body.serverID ?? null,
        eventType: body.eventType,
        sessionID: body.sessionID,
        title: body.title ?? null,
        body: body.body ?? null,
        contentState: body.contentState ?? null
      })
      const logEvent = yield* pushlineLogEvent(tenantOf(body.secret), body.sessionID, event, idempotencyKeyOf(request.headers))
      yield* orUnavailable(appendEvents([logEvent]))
      // Until the sender exists nothing is pushed for it.
      return new LegacyEventResult({ ok: true, sent: 0, failed: 0 })
    })
  )
)
