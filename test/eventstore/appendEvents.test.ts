import { SqlClient } from "@effect/sql"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import type { NewEvent } from "../../domain/LoggedEvent.ts"
import { appendEvents } from "../../src/eventstore/appendEvents.ts"
import { sharedDatabaseLayer, uniqueTenant } from "../support/database.ts"

const event = (tenant: string, eventId: string, overrides: Partial<NewEvent> = {}): NewEvent => ({
  tenant,
  sessionId: "ses_1",
  eventId,
  type: "session.status",
  payload: { id: eventId, type: "session.status", properties: { sessionID: "ses_1", status: { type: "busy" } } },
  meta: { serverID: "srv" },
  sourceTime: 1_795_000_000_123,
  ...overrides
})

layer(sharedDatabaseLayer, { excludeTestServices: true })("appendEvents", (it) => {
  it.effect("stores a batch in input order and returns ascending positions", () =>
    Effect.gen(function*() {
      const tenant = uniqueTenant()
      const result = yield* appendEvents([event(tenant, "evt_a"), event(tenant, "evt_b"), event(tenant, "evt_c")])
      expect(result.duplicates).toBe(0)
      expect(result.appended.map((row) => row.eventId)).toEqual(["evt_a", "evt_b", "evt_c"])
      const [a, b, c] = result.appended.map((row) => row.position)
      expect(a! < b! && b! < c!).toBe(true)
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ event_id: string; payload: unknown; meta: unknown; source_time: Date; session_id: string }>`
        select event_id, payload, meta, source_time, session_id from events where tenant = ${tenant} order by position`
      expect(rows.map((row) => row.event_id)).toEqual(["evt_a", "evt_b", "evt_c"])
      expect(rows[0]!.payload).toEqual(event(tenant, "evt_a").payload)
      expect(rows[0]!.meta).toEqual({ serverID: "srv" })
      expect(rows[0]!.session_id).toBe("ses_1")
      expect(new Date(rows[0]!.source_time).getTime()).toBe(1_795_000_000_123)
    }))

  it.effect("skips events already stored and repeats inside one batch", () =>
    Effect.gen(function*() {
      const tenant = uniqueTenant()
      yield* appendEvents([event(tenant, "evt_1"), event(tenant, "evt_2")])
      const again = yield* appendEvents([event(tenant, "evt_2"), event(tenant, "evt_3"), event(tenant, "evt_3")])
      expect(again.duplicates).toBe(2)
      expect(again.appended.map((row) => row.eventId)).toEqual(["evt_3"])
      const sql = yield* SqlClient.SqlClient
      const count = yield* sql<{ n: number }>`select count(*)::int as n from events where tenant = ${tenant}`
      expect(count[0]!.n).toBe(3)
    }))

  it.effect("the same event id under two tenants is two events", () =>
    Effect.gen(function*() {
      const one = yield* appendEvents([event(uniqueTenant(), "evt_shared")])
      const two = yield* appendEvents([event(uniqueTenant(), "evt_shared")])
      expect([one.appended.length, two.appended.length]).toEqual([1, 1])
    }))

  it.effect("an empty batch touches nothing", () =>
    Effect.gen(function*() {
      expect(yield* appendEvents([])).toEqual({ appended: [], duplicates: 0 })
    }))
})

describe("appendEvents atomicity", () => {
  layer(sharedDatabaseLayer, { excludeTestServices: true })((it) => {
    it.effect("a batch that fails stores nothing", () =>
      Effect.gen(function*() {
        const tenant = uniqueTenant()
        // A NUL character is invalid in jsonb text: the whole statement fails.
        const failed = yield* appendEvents([event(tenant, "evt_ok"), event(tenant, "evt_bad", { type: "bad\u0000type" })]).pipe(
          Effect.flip
        )
        expect(failed._tag).toBe("SqlError")
        const sql = yield* SqlClient.SqlClient
        const count = yield* sql<{ n: number }>`select count(*)::int as n from events where tenant = ${tenant}`
        expect(count[0]!.n).toBe(0)
      }))
  })
})
