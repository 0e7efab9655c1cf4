import { describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import pg from "pg"
import { relayEnvFor, startSimulator } from "../apns/support/simulator.ts"
import { createFreshDatabase } from "../support/database.ts"
import { waitUntil } from "../support/eventually.ts"
import { postStatus, startRelayProcess } from "../support/relay.ts"

/**
 * SIGTERM in the middle of a burst, then a restart: the relay drains (stops claiming,
 * lets the pushes in flight finish and records them), so every push APNs received is in
 * the record exactly once and the next relay sends none of them again.
 */
const SESSIONS = 8
const secret = "drain-secret-0123456789abc"
const activityToken = (s: number) => `dd${s.toString(16).padStart(62, "0")}`
const deviceToken = `de${"0".repeat(62)}`
const sessionId = (s: number) => `ses_drain_${s}`

const turnOf = (s: number) => {
  const id = (n: number) => `evt_${(0x10000 + s * 64 + n).toString(16).padStart(12, "0")}drain${s}x${n}`
  return [
    { id: id(0), type: "session.updated", properties: { sessionID: sessionId(s), info: { id: sessionId(s), title: `Drain ${s}` } } },
    { id: id(1), type: "session.status", properties: { sessionID: sessionId(s), status: { type: "busy" } } },
    { id: id(2), type: "message.part.updated", properties: { sessionID: sessionId(s), part: { type: "text", messageID: "msg_d", text: `done ${s}` } } },
    { id: id(3), type: "session.status", properties: { sessionID: sessionId(s), status: { type: "idle" } } }
  ]
}

describe("drain on SIGTERM", () => {
  it("finishes and records the pushes in flight; after a restart none is sent twice", async () => {
    const databaseUrl = await createFreshDatabase("drain")
    const fixture = await startSimulator()
    // Every answer takes 400 ms: a SIGTERM finds pushes in flight.
    fixture.simulator.faultRate = { probability: 1, faults: [{ kind: "latency", ms: 400 }] }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pushline-drain-"))
    const relay = await startRelayProcess({
      databaseUrl,
      env: {
        ...relayEnvFor(fixture, dir),
        PUSHLINE_THROTTLE_MS: "300",
        PUSHLINE_PERMISSION_GRACE_MS: "200",
        PUSHLINE_DRAIN_TIMEOUT_MS: "10000",
        // Ends and alerts go out together, so the SIGTERM finds both in flight.
        PUSHLINE_END_SETTLE_MS: "0"
      }
    })
    try {
      expect(await postStatus(relay.url, "/v1/device/register", { secret, deviceToken, apnsEnv: "sandbox", events: ["complete"] })).toBe(200)
      for (let s = 0; s < SESSIONS; s++) {
        expect(await postStatus(relay.url, "/v1/activity/register", { secret, sessionID: sessionId(s), activityToken: activityToken(s), apnsEnv: "sandbox" })).toBe(200)
      }
      const events = Array.from({ length: SESSIONS }, (_, s) => turnOf(s)).flat()
      expect(await postStatus(relay.url, "/v1/opencode/events", { events }, { authorization: `Bearer ${secret}` })).toBe(202)

      // The first answers are in, others are on their way: stop the relay now.
      await waitUntil(() => expect(fixture.simulator.pushes.length).toBeGreaterThanOrEqual(2), 20_000)
      const received = fixture.simulator.pushes.length
      const stoppedAt = Date.now()
      await relay.stop()
      const stopMs = Date.now() - stoppedAt
      const drained = /sender: drained in \d+ ms: (\d+) sessions in hand finished and recorded, (\d+) released unfinished/.exec(relay.output())
      expect(drained, relay.output().slice(-2000)).not.toBeNull()
      expect(Number(drained![1])).toBeGreaterThan(0)
      expect(Number(drained![2])).toBe(0)
      expect(stopMs).toBeLessThan(10_000)
      expect(relay.output()).toContain("[relay exited: 0]")
      // What the drain let finish arrived before the relay was gone.
      expect(fixture.simulator.pushes.length).toBeGreaterThan(received)

      await relay.restart()
      const ended = (s: number) => fixture.simulator.pushes.some((p) => p.token === activityToken(s) && p.payload.aps.event === "end")
      const alerted = (s: number) => fixture.simulator.pushes.some((p) => p.token === deviceToken && p.payload.aps.alert?.title === `Drain ${s}`)
      await waitUntil(() => {
        for (let s = 0; s < SESSIONS; s++) expect({ s, ended: ended(s), alerted: alerted(s) }).toEqual({ s, ended: true, alerted: true })
      }, 30_000)

      const client = new pg.Client({ connectionString: databaseUrl })
      await client.connect()
      const deliveries = (await client.query<{ apns_id: string | null; outcome: string }>("select apns_id, outcome from deliveries")).rows
      await client.end()
      // Every push APNs accepted is recorded, exactly once, as delivered.
      const recorded = new Map<string, number>()
      for (const row of deliveries) if (row.apns_id !== null) recorded.set(row.apns_id, (recorded.get(row.apns_id) ?? 0) + 1)
      expect(fixture.simulator.pushes.filter((p) => recorded.get(p.apnsId) !== 1).map((p) => p.apnsId)).toEqual([])
      expect(deliveries.filter((row) => row.outcome !== "delivered")).toEqual([])
      // No push was received twice: per token, no content repeats.
      const seen = new Set<string>()
      const repeated = fixture.simulator.pushes
        .map((p) => `${p.token} ${JSON.stringify({ ...p.payload, aps: { ...p.payload.aps, timestamp: undefined } })}`)
        .filter((key) => seen.has(key) || (seen.add(key), false))
      expect(repeated).toEqual([])
    } finally {
      await relay.stop()
      await fixture.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
