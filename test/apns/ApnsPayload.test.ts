import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { ContentState } from "../../domain/ContentState.ts"
import {
  buildAlertPayload,
  buildLiveActivityEnd,
  buildLiveActivityStart,
  buildLiveActivityUpdate,
  collapseIdFor,
  MAX_PAYLOAD_BYTES,
  toApnsSeconds,
  topicFor,
  trimAtWord
} from "../../projections/ApnsPayload.ts"

const state = (overrides: Partial<ContentState> = {}) =>
  new ContentState({ status: "working", sessionTitle: "Fix the build", lastMessage: "bash: npm install", retryInfo: null, startedAt: 1_795_000_000, ...overrides })

const bytes = (payload: unknown) => Buffer.byteLength(JSON.stringify(payload), "utf8")

describe("payload builders", () => {
  it("alert: aps with title, body, sound, thread-id; custom keys beside aps", () => {
    expect(buildAlertPayload({
      alert: { title: "Fix the build", body: "All tests pass" },
      threadId: "ses_1",
      custom: { eventType: "complete", sessionID: "ses_1", serverID: "laptop" }
    })).toEqual({
      aps: { alert: { title: "Fix the build", body: "All tests pass" }, sound: "default", "thread-id": "ses_1" },
      eventType: "complete",
      sessionID: "ses_1",
      serverID: "laptop"
    })
  })

  it("push-to-start: attributes-type, attributes, content-state, alert, input-push-token", () => {
    expect(buildLiveActivityStart({
      sessionId: "ses_1",
      contentState: state(),
      alert: { title: "Fix the build", body: "Working" },
      timestampSeconds: 1_795_000_010
    })).toEqual({
      aps: {
        timestamp: 1_795_000_010,
        event: "start",
        "content-state": { status: "working", sessionTitle: "Fix the build", lastMessage: "bash: npm install", retryInfo: null, startedAt: 1_795_000_000 },
        "attributes-type": "SessionActivityAttributes",
        attributes: { sessionId: "ses_1" },
        alert: { title: "Fix the build", body: "Working" },
        "input-push-token": 1
      }
    })
  })

  it("update carries stale-date and relevance-score; end carries the final state and dismissal-date", () => {
    expect(buildLiveActivityUpdate({ contentState: state({ status: "retry", retryInfo: "Retry 2 in 8s" }), timestampSeconds: 1_795_000_020, staleDateSeconds: 1_795_000_920, relevanceScore: 50 })).toEqual({
      aps: {
        timestamp: 1_795_000_020,
        event: "update",
        "content-state": { status: "retry", sessionTitle: "Fix the build", lastMessage: "bash: npm install", retryInfo: "Retry 2 in 8s", startedAt: 1_795_000_000 },
        "stale-date": 1_795_000_920,
        "relevance-score": 50
      }
    })
    expect(buildLiveActivityEnd({ contentState: state({ status: "complete", lastMessage: "Done." }), timestampSeconds: 1_795_000_030, dismissalDateSeconds: 1_795_003_630 })).toEqual({
      aps: {
        timestamp: 1_795_000_030,
        event: "end",
        "content-state": { status: "complete", sessionTitle: "Fix the build", lastMessage: "Done.", retryInfo: null, startedAt: 1_795_000_000 },
        "dismissal-date": 1_795_003_630
      }
    })
  })

  it("refuses millisecond timestamps", () => {
    expect(() => buildLiveActivityUpdate({ contentState: state(), timestampSeconds: 1_795_000_020_000 })).toThrow("aps.timestamp must be UNIX seconds")
    expect(() => buildLiveActivityEnd({ contentState: state(), timestampSeconds: 1_795_000_020, dismissalDateSeconds: 1_795_000_020_000 })).toThrow("aps.dismissal-date")
    expect(() => buildLiveActivityUpdate({ contentState: state({ startedAt: 1_795_000_000_000 }), timestampSeconds: 1 })).toThrow("startedAt")
    expect(toApnsSeconds(1_795_000_020_999)).toBe(1_795_000_020)
  })

  it("trims at a word boundary with an ellipsis, and the last message to 120 characters", () => {
    expect(trimAtWord("short text", 20)).toBe("short text")
    expect(trimAtWord("the quick brown fox jumps over", 18)).toBe("the quick brown…")
    expect(trimAtWord("a  b\n\nc", 10)).toBe("a b c")
    const long = buildLiveActivityUpdate({ contentState: state({ lastMessage: "word ".repeat(100) }), timestampSeconds: 1 })
    const last = (long.aps as any)["content-state"].lastMessage as string
    expect(Array.from(last).length).toBeLessThanOrEqual(120)
    expect(last.endsWith("word…")).toBe(true)
  })

  it("topics and collapse ids", () => {
    expect(topicFor("com.example.app", "alert")).toBe("com.example.app")
    expect(topicFor("com.example.app", "liveactivity")).toBe("com.example.app.push-type.liveactivity")
    expect(collapseIdFor("ses_1")).toBe("pl-ses_1")
    expect(Buffer.byteLength(collapseIdFor("ß".repeat(100)))).toBeLessThanOrEqual(64)
  })
})

describe("every payload fits in 4096 bytes, whatever the text (property)", () => {
  const nasty = fc.oneof(
    fc.string({ maxLength: 6000 }),
    fc.string({ unit: "grapheme", maxLength: 3000 }),
    fc.string({ unit: fc.constantFrom("\"", "\\", "😀", "👨‍👩‍👧", "日本", "\u0000", "\n", " ", "a"), maxLength: 5000 })
  )
  const contentState = fc.record({
    status: fc.constantFrom("working", "retry", "permission", "complete", "error" as const),
    sessionTitle: nasty,
    lastMessage: nasty,
    retryInfo: fc.option(nasty, { nil: null }),
    startedAt: fc.integer({ min: 0, max: 4_000_000_000 })
  }).map((fields) => new ContentState(fields))

  it("alerts", () =>
    fc.assert(fc.property(nasty, nasty, nasty, (title, body, session) => {
      const payload = buildAlertPayload({ alert: { title, body }, threadId: session, custom: { sessionID: session, serverID: session, eventType: "complete" } })
      expect(bytes(payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES)
    }), { numRuns: 150 }))

  it("Live Activity start, update and end", () =>
    fc.assert(fc.property(contentState, nasty, nasty, nasty, (cs, title, body, session) => {
      const start = buildLiveActivityStart({ sessionId: session, contentState: cs, alert: { title, body }, timestampSeconds: 1_795_000_000 })
      const update = buildLiveActivityUpdate({ contentState: cs, timestampSeconds: 1_795_000_000, alert: { title, body } })
      const end = buildLiveActivityEnd({ contentState: cs, timestampSeconds: 1_795_000_000 })
      for (const payload of [start, update, end]) {
        expect(bytes(payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES)
        expect(JSON.parse(JSON.stringify(payload))).toEqual(payload)
      }
      expect(Array.from((update.aps as any)["content-state"].lastMessage as string).length).toBeLessThanOrEqual(120)
    }), { numRuns: 150 }))
})
