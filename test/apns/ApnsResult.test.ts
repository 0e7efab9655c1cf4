import { describe, expect, it } from "@effect/vitest"
import { classifyResponse, networkFailure } from "../../src/apns/ApnsResult.ts"

const answer = (status: number, reason?: string, extra: Record<string, unknown> = {}, retryAfter: string | null = null) =>
  classifyResponse({
    status,
    apnsId: status === 200 ? "0a9e3c4d-2b1f-4e5a-9c8d-7b6a5f4e3d2c" : null,
    body: reason === undefined ? "" : JSON.stringify({ reason, ...extra }),
    retryAfter,
    latencyMs: 3
  })

describe("classifyResponse: every status and reason of the reference table", () => {
  it("200 is delivered with its apns-id", () => {
    expect(answer(200)).toEqual({ _tag: "Delivered", status: 200, apnsId: "0a9e3c4d-2b1f-4e5a-9c8d-7b6a5f4e3d2c", latencyMs: 3 })
  })

  it("dead tokens: 410 Unregistered/ExpiredToken (with timestamp) and 400 BadDeviceToken", () => {
    expect(answer(410, "Unregistered", { timestamp: 1_795_000_000_000 })).toEqual({
      _tag: "TokenGone", status: 410, reason: "Unregistered", timestamp: 1_795_000_000_000, latencyMs: 3
    })
    expect(answer(410, "ExpiredToken")).toEqual({ _tag: "TokenGone", status: 410, reason: "ExpiredToken", timestamp: null, latencyMs: 3 })
    expect(answer(400, "BadDeviceToken")).toEqual({ _tag: "TokenGone", status: 400, reason: "BadDeviceToken", timestamp: null, latencyMs: 3 })
  })

  const table: Array<[number, string, string]> = [
    [400, "DeviceTokenNotForTopic", "Misconfigured"],
    [400, "TopicDisallowed", "Misconfigured"],
    [400, "BadTopic", "Misconfigured"],
    [400, "MissingTopic", "Misconfigured"],
    [400, "BadCollapseId", "Rejected"],
    [400, "BadExpirationDate", "Rejected"],
    [400, "BadMessageId", "Rejected"],
    [400, "BadPriority", "Rejected"],
    [400, "DuplicateHeaders", "Rejected"],
    [400, "InvalidPushType", "Rejected"],
    [400, "MissingDeviceToken", "Rejected"],
    [400, "PayloadEmpty", "Rejected"],
    [400, "IdleTimeout", "Retryable"],
    [403, "ExpiredProviderToken", "Retryable"],
    [403, "InvalidProviderToken", "Misconfigured"],
    [403, "MissingProviderToken", "Misconfigured"],
    [403, "UnrelatedKeyIdInToken", "Misconfigured"],
    [403, "BadEnvironmentKeyIdInToken", "Misconfigured"],
    [403, "BadCertificate", "Misconfigured"],
    [403, "BadCertificateEnvironment", "Misconfigured"],
    [403, "Forbidden", "Misconfigured"],
    [404, "BadPath", "Rejected"],
    [405, "MethodNotAllowed", "Rejected"],
    [413, "PayloadTooLarge", "Rejected"],
    [429, "TooManyRequests", "Retryable"],
    [429, "TooManyProviderTokenUpdates", "Retryable"],
    [500, "InternalServerError", "Retryable"],
    [503, "ServiceUnavailable", "Retryable"],
    [503, "Shutdown", "Retryable"]
  ]
  for (const [status, reason, tag] of table) {
    it(`${status} ${reason} is ${tag}`, () => {
      const result = answer(status, reason)
      expect(result._tag).toBe(tag)
      expect(result._tag !== "Delivered" && result.reason).toBe(reason)
    })
  }

  it("keeps retry-after, and names statuses without a body", () => {
    expect(answer(429, "TooManyRequests", {}, "30")).toMatchObject({ _tag: "Retryable", retryAfterMs: 30_000 })
    expect(answer(502)).toEqual({ _tag: "Retryable", status: 502, reason: "HTTP 502", retryAfterMs: null, latencyMs: 3 })
    expect(answer(418)).toEqual({ _tag: "Rejected", status: 418, reason: "HTTP 418", latencyMs: 3 })
    expect(networkFailure("ECONNRESET", 9)).toEqual({ _tag: "Retryable", status: null, reason: "ECONNRESET", retryAfterMs: null, latencyMs: 9 })
  })
})
