import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { MAX_FUTURE_SKEW_MS, parseOpenCodeBatch, sessionIdOf } from "../../src/ingest/OpenCodeBatch.ts"
import { summarizeEvent } from "../../projections/EventSummary.ts"

const now = Date.parse("2026-11-22T10:34:05.000Z")

describe("parseOpenCodeBatch", () => {
  it("reads frames and bare events, skipping sync and server frames", () => {
    const result = parseOpenCodeBatch(
      {
        serverID: "laptop",
        events: [
          { payload: { id: "evt_1", type: "server.connected", properties: {} } },
          { payload: { type: "sync", syncEvent: {} } },
          {
            directory: "/home/dev/project",
            project: "global",
            payload: { id: "evt_202d1f74c001z4bkGrEUi5Cgp3", type: "session.status", properties: { sessionID: "ses_a", status: { type: "busy" } } }
          },
          { id: "evt_x", type: "message.part.delta", properties: { sessionID: "ses_b", delta: "hi" }, seenAt: now - 5 }
        ]
      },
      "tenant-1",
      now
    )
    expect(Either.isRight(result)).toBe(true)
    const parsed = Either.getOrThrow(result)
    expect(parsed.skipped).toBe(2)
    expect(parsed.events).toEqual([
      {
        tenant: "tenant-1",
        sessionId: "ses_a",
        eventId: "evt_202d1f74c001z4bkGrEUi5Cgp3",
        type: "session.status",
        payload: { id: "evt_202d1f74c001z4bkGrEUi5Cgp3", type: "session.status", properties: { sessionID: "ses_a", status: { type: "busy" } } },
        meta: { serverID: "laptop", directory: "/home/dev/project" },
        // decoded from the id's time prefix
        sourceTime: Date.parse("2026-11-22T10:34:04.492Z")
      },
      {
        tenant: "tenant-1",
        sessionId: "ses_b",
        eventId: "evt_x",
        type: "message.part.delta",
        payload: { id: "evt_x", type: "message.part.delta", properties: { sessionID: "ses_b", delta: "hi" } },
        meta: { serverID: "laptop", seenAt: now - 5 },
        // no time in the id: when the bridge saw it
        sourceTime: now - 5
      }
    ])
  })

  it("keeps unknown event types and defaults missing properties", () => {
    const parsed = Either.getOrThrow(parseOpenCodeBatch({ events: [{ id: "evt_u", type: "catalog.updated" }] }, "t", now))
    expect(parsed.events[0]).toMatchObject({ type: "catalog.updated", sessionId: "", payload: { properties: {} }, sourceTime: now })
  })

  it("names the index of the first bad event", () => {
    const cases: Array<[unknown, string]> = [
      [{ id: "evt_1" }, "events[1].type: is required (a non-empty string)"],
      [{ payload: { id: "evt_1" } }, "events[1].payload.type: is required (a non-empty string)"],
      [{ type: "session.idle", properties: {} }, "events[1].id: is required (a non-empty string)"],
      ["text", "events[1]: must be an object"],
      [{ payload: 3 }, "events[1].payload: must be an object"],
      [{ id: "e", type: "session.idle", properties: [] }, "events[1].properties: must be an object"],
      [{ id: "e", type: "session.idle", seenAt: "yesterday" }, "events[1].seenAt: must be whole epoch milliseconds from 1 to 8640000000000000"]
    ]
    for (const [bad, message] of cases) {
      const result = parseOpenCodeBatch({ events: [{ id: "ok", type: "session.idle" }, bad] }, "t", now)
      expect(result).toEqual(Either.left(message))
    }
  })

  it("does not trust an id time far from when the event was seen", () => {
    // A time-shaped id from another source decodes to a time days away: use the receive time.
    const parsed = Either.getOrThrow(parseOpenCodeBatch({ events: [{ id: "evt_000000000001abc", type: "x" }] }, "t", now))
    expect(parsed.events[0]!.sourceTime).toBe(now)
  })

  it("a client time further ahead of the relay's clock than the skew is the receive time, and the log keeps what was said", () => {
    const ahead = now + MAX_FUTURE_SKEW_MS + 1
    const idAt = (ms: number) => `evt_${(ms * 0x1000).toString(16).slice(-12).padStart(12, "0")}abcdefghijklmn`
    const parsed = Either.getOrThrow(parseOpenCodeBatch({
      events: [
        { id: "evt_a", type: "session.idle", seenAt: now + 365 * 24 * 3600 * 1000 },
        { id: "evt_b", type: "session.idle", seenAt: 8.64e15 },
        { id: idAt(ahead + 60_000), type: "session.idle", seenAt: ahead + 60_000 },
        { id: idAt(now + 1_000), type: "session.idle", seenAt: now + 1_000 }
      ]
    }, "t", now))
    expect(parsed.events.map((e) => e.sourceTime)).toEqual([now, now, now, now + 1_000])
    expect(parsed.events.map((e) => e.meta.clampedSeenAt ?? null)).toEqual([now + 365 * 24 * 3600 * 1000, 8.64e15, ahead + 60_000, null])
    // The timeline says which time was not believed.
    expect(parsed.events.map((e) => summarizeEvent(e))).toEqual([
      `idle (its time ${new Date(now + 365 * 24 * 3600 * 1000).toISOString()} was ahead of the relay's clock: taken as received)`,
      `idle (its time ${new Date(8.64e15).toISOString()} was ahead of the relay's clock: taken as received)`,
      `idle (its time ${new Date(ahead + 60_000).toISOString()} was ahead of the relay's clock: taken as received)`,
      "idle"
    ])
  })
})

describe("sessionIdOf", () => {
  it("finds the session in each event shape", () => {
    expect(sessionIdOf("session.status", { sessionID: "s1" })).toBe("s1")
    expect(sessionIdOf("session.created", { info: { id: "s2" } })).toBe("s2")
    expect(sessionIdOf("message.updated", { info: { id: "msg_1", sessionID: "s3" } })).toBe("s3")
    expect(sessionIdOf("message.part.updated", { part: { sessionID: "s4" } })).toBe("s4")
    expect(sessionIdOf("project.updated", { id: "p" })).toBe("")
  })
})
