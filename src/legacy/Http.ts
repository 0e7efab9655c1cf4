import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { LegacyEventPosted } from "../../domain/PushlineEvent.ts"
import { RelayConfig } from "../config/RelayConfig.ts"
import { appendEvents } from "../eventstore/appendEvents.ts"
import { tenantOf } from "../http/Authentication.ts"
import { orUnavailable } from "../http/Persistence.ts"
import { idempotencyKeyOf, pushlineLogEvent } from "../eventstore/pushlineLogEvent.ts"
import { PushlineApi } from "../api/PushlineApi.ts"
import { readBody } from "../http/RequestBody.ts"
import { LegacyEventBody, LegacyEventResult } from "./Api.ts"
import { awaitPushes } from "./awaitPushes.ts"

/** The seed relay answered after sending; we wait this long for the sender at most. */
const LEGACY_WAIT_MS = 2000

export const LegacyLive = HttpApiBuilder.group(PushlineApi, "legacy", (handlers) =>
  handlers.handleRaw("postLegacyEvent", ({ request }) =>
    Effect.gen(function*() {
      const config = yield* RelayConfig
      const body = yield* readBody(LegacyEventBody, request, config)
      const event = new LegacyEventPosted({
        serverID: body.serverID ?? null,
        eventType: body.eventType,
        sessionID: body.sessionID,
        title: body.title ?? null,
        body: body.body ?? null,
        contentState: body.contentState ?? null
      })
      const tenant = tenantOf(body.secret)
      const logEvent = yield* pushlineLogEvent(tenant, body.sessionID, event, idempotencyKeyOf(request.headers))
      const appended = yield* orUnavailable(appendEvents([logEvent]))
      const position = appended.appended[0]?.position
      if (position === undefined) return new LegacyEventResult({ ok: true, sent: 0, failed: 0 })
      const { failed, sent } = yield* orUnavailable(awaitPushes(tenant, body.sessionID, position, LEGACY_WAIT_MS))
      return new LegacyEventResult({ ok: true, sent, failed })
    })
  )
)
