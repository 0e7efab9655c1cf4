import { HttpApiEndpoint, HttpApiGroup } from "@effect/platform"
import { Schema } from "effect"
import { BundleIdField, HexToken, OneOf, Secret, SessionId, ShortText } from "../http/Fields.ts"

export class Ok extends Schema.Class<Ok>("Ok")({ ok: Schema.Literal(true) }) {}

const Environment = OneOf("sandbox", "production")
const BundleId = BundleIdField.annotations({ description: "App bundle id (reverse-DNS); APNS_DEFAULT_BUNDLE_ID when absent" })

export const DeviceRegistration = Schema.Struct({
  secret: Secret,
  deviceToken: HexToken,
  bundleId: Schema.optional(BundleId),
  apnsEnv: Schema.optional(Environment),
  pushToStartToken: Schema.optional(HexToken),
  events: Schema.optional(
    Schema.Array(OneOf("complete", "permission", "error"))
  ),
  sound: Schema.optional(ShortText(200).annotations({ description: "Alert sound file the app bundles (default alert.wav)" }))
})

export const DeviceUnregistration = Schema.Struct({ secret: Secret, deviceToken: HexToken })

export const ActivityRegistration = Schema.Struct({
  secret: Secret,
  sessionID: SessionId,
  activityToken: HexToken,
  bundleId: Schema.optional(BundleId),
  apnsEnv: Schema.optional(Environment)
})

export const ActivityUnregistration = Schema.Struct({ secret: Secret, sessionID: SessionId })

export class RegistrationsApi extends HttpApiGroup.make("registrations")
  .add(HttpApiEndpoint.post("registerDevice", "/v1/device/register").setPayload(DeviceRegistration).addSuccess(Ok))
  .add(HttpApiEndpoint.post("unregisterDevice", "/v1/device/unregister").setPayload(DeviceUnregistration).addSuccess(Ok))
  .add(HttpApiEndpoint.post("registerActivity", "/v1/activity/register").setPayload(ActivityRegistration).addSuccess(Ok))
  .add(
    HttpApiEndpoint.post("unregisterActivity", "/v1/activity/unregister").setPayload(ActivityUnregistration).addSuccess(Ok)
  )
{}
