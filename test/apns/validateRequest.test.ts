import { describe, expect, it } from "@effect/vitest"
import { validateHeaders, validateLiveActivity, validatePayload, validateRoute } from "../../src/apns/simulator/validateRequest.ts"

const TOKEN = "ab".repeat(32)
const facts = (headers: Record<string, string>, body = '{"aps":{}}', path = `/3/device/${TOKEN}`, method = "POST") => ({ method, path, headers, body })
const rules = { allowedBundles: new Set<string>(), tokenBundles: new Map<string, string>() }
const alertHeaders = { "apns-push-type": "alert", "apns-topic": "com.example.app", "apns-priority": "10" }

describe("simulator request checks", () => {
  it("route and device token", () => {
    expect(validateRoute(facts({}, "", "/3/other"))).toEqual({ status: 404, reason: "BadPath" })
    expect(validateRoute(facts({}, "", `/3/device/${TOKEN}`, "GET"))).toEqual({ status: 405, reason: "MethodNotAllowed" })
    expect(validateRoute(facts({}, "", "/3/device/"))).toEqual({ status: 400, reason: "MissingDeviceToken" })
    expect(validateRoute(facts({}, "", "/3/device/xyz"))).toEqual({ status: 400, reason: "BadDeviceToken" })
    expect(validateRoute(facts({}, "", `/3/device/${"a".repeat(63)}`))).toEqual({ status: 400, reason: "BadDeviceToken" })
    expect(validateRoute(facts({}))).toBe(null)
  })

  it("headers", () => {
    const check = (headers: Record<string, string>) => validateHeaders(facts(headers), rules)
    expect(check(alertHeaders)).toBe(null)
    expect(check({ ...alertHeaders, "apns-push-type": "banner" })).toEqual({ status: 400, reason: "InvalidPushType" })
    expect(check({ "apns-push-type": "alert" })).toEqual({ status: 400, reason: "MissingTopic" })
    expect(check({ ...alertHeaders, "apns-topic": "com example" })).toEqual({ status: 400, reason: "BadTopic" })
    expect(check({ ...alertHeaders, "apns-priority": "7" })).toEqual({ status: 400, reason: "BadPriority" })
    expect(check({ ...alertHeaders, "apns-collapse-id": "é".repeat(33) })).toEqual({ status: 400, reason: "BadCollapseId" })
    expect(check({ ...alertHeaders, "apns-id": "ABC" })).toEqual({ status: 400, reason: "BadMessageId" })
    expect(check({ ...alertHeaders, "apns-expiration": "soon" })).toEqual({ status: 400, reason: "BadExpirationDate" })
    expect(check({ ...alertHeaders, "apns-topic": "com.example.app.push-type.liveactivity" })).toEqual({ status: 400, reason: "TopicDisallowed" })
    expect(check({ ...alertHeaders, "apns-push-type": "liveactivity" })).toEqual({ status: 400, reason: "TopicDisallowed" })
    expect(validateHeaders(facts(alertHeaders), { ...rules, allowedBundles: new Set(["com.other"]) })).toEqual({ status: 400, reason: "TopicDisallowed" })
    expect(validateHeaders(facts(alertHeaders), { ...rules, tokenBundles: new Map([[TOKEN, "com.other"]]) })).toEqual({ status: 400, reason: "DeviceTokenNotForTopic" })
  })

  it("payload", () => {
    expect(validatePayload(facts(alertHeaders, "")).rejection).toEqual({ status: 400, reason: "PayloadEmpty" })
    expect(validatePayload(facts(alertHeaders, JSON.stringify({ aps: { alert: "x".repeat(4100) } }))).rejection).toEqual({ status: 413, reason: "PayloadTooLarge" })
    expect(validatePayload(facts(alertHeaders, "{nope")).rejection).toEqual({ status: 400, reason: "BadPayload" })
    expect(validatePayload(facts(alertHeaders, '{"alert":"no aps"}')).rejection).toEqual({ status: 400, reason: "BadPayload" })
    expect(validatePayload(facts(alertHeaders, '{"aps":{"alert":"hi"}}'))).toEqual({ rejection: null, payload: { aps: { alert: "hi" } } })
  })

  it("Live Activity payloads", () => {
    expect(validateLiveActivity({ event: "update", "content-state": {} })).toEqual({ status: 400, reason: "MissingLiveActivityTimestamp" })
    expect(validateLiveActivity({ timestamp: 1_795_000_000_000, event: "update", "content-state": {} })).toEqual({ status: 400, reason: "LiveActivityTimestampNotSeconds" })
    expect(validateLiveActivity({ timestamp: 1, event: "pause" })).toEqual({ status: 400, reason: "MissingLiveActivityEvent" })
    expect(validateLiveActivity({ timestamp: 1, event: "update" })).toEqual({ status: 400, reason: "MissingContentState" })
    expect(validateLiveActivity({ timestamp: 1, event: "start", "content-state": {}, attributes: {} })).toEqual({ status: 400, reason: "MissingAttributesType" })
    expect(validateLiveActivity({ timestamp: 1, event: "start", "content-state": {}, "attributes-type": "A" })).toEqual({ status: 400, reason: "MissingAttributes" })
    expect(validateLiveActivity({ timestamp: 1, event: "end", "dismissal-date": 1_795_000_000_000 })).toEqual({ status: 400, reason: "LiveActivityDateNotSeconds" })
    expect(validateLiveActivity({ timestamp: 1, event: "end" })).toBe(null)
  })
})
