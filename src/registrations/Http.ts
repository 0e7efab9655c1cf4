import { HttpApiBuilder, type HttpServerRequest } from "@effect/platform"
import { Effect, type Schema } from "effect"
import {
  ActivityRegistered,
  ActivityUnregistered,
  DeviceRegistered,
  DeviceUnregistered,
  type PushlineEvent
} from "../../domain/PushlineEvent.ts"
import { RelayConfig } from "../config/RelayConfig.ts"
import { appendEvents } from "../eventstore/appendEvents.ts"
import { tenantOf } from "../http/Authentication.ts"
import { orUnavailable } from "../http/Persistence.ts"
import { idempotencyKeyOf, pushlineLogEvent } from "../eventstore/pushlineLogEvent.ts"
import { PushlineApi } from "../api/PushlineApi.ts"
import { readBody } from "../http/RequestBody.ts"
import {
  ActivityRegistration,
  ActivityUnregistration,
  DeviceRegistration,
  DeviceUnregistration,
  Ok
} from "./Api.ts"

/** Every registration is an event in the log; the registrations projection folds them. */
const appendRegistration = <A extends { readonly secret: string }, I>(
  schema: Schema.Schema<A, I>,
  request: HttpServerRequest.HttpServerRequest,
  toEvent: (body: A) => { readonly sessionId: string; readonly event: PushlineEvent }
) =>
  Effect.gen(function*() {
    const config = yield* RelayConfig
    const body = yield* readBody(schema, request, config)
    const { event, sessionId } = toEvent(body)
    const logEvent = yield* pushlineLogEvent(tenantOf(body.secret), sessionId, event, idempotencyKeyOf(request.headers))
    yield* orUnavailable(appendEvents([logEvent]))
    return new Ok({ ok: true })
  })

const ALL_ALERTS = ["complete", "permission", "error"] as const

export const RegistrationsLive = HttpApiBuilder.group(PushlineApi, "registrations", (handlers) =>
  handlers
    .handleRaw("registerDevice", ({ request }) =>
      appendRegistration(DeviceRegistration, request, (body) => ({
        sessionId: "",
        event: new DeviceRegistered({
          deviceToken: body.deviceToken.toLowerCase(),
          bundleId: body.bundleId ?? null,
          apnsEnv: body.apnsEnv ?? "production",
          pushToStartToken: body.pushToStartToken?.toLowerCase() ?? null,
          events: body.events ?? ALL_ALERTS,
          sound: body.sound ?? null
        })
      })))
    .handleRaw("unregisterDevice", ({ request }) =>
      appendRegistration(DeviceUnregistration, request, (body) => ({
        sessionId: "",
        event: new DeviceUnregistered({ deviceToken: body.deviceToken.toLowerCase() })
      })))
    .handleRaw("registerActivity", ({ request }) =>
      appendRegistration(ActivityRegistration, request, (body) => ({
        sessionId: body.sessionID,
        event: new ActivityRegistered({
          sessionID: body.sessionID,
          activityToken: body.activityToken.toLowerCase(),
          bundleId: body.bundleId ?? null,
          apnsEnv: body.apnsEnv ?? "production"
        })
      })))
    .handleRaw("unregisterActivity", ({ request }) =>
      appendRegistration(ActivityUnregistration, request, (body) => ({
        sessionId: body.sessionID,
        event: new ActivityUnregistered({ sessionID: body.sessionID })
      })))
)
