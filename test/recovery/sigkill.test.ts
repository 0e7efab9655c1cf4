import { describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import pg from "pg"
import { LoggedEvent } from "../../domain/LoggedEvent.ts"
import { initialSessionState, type SessionState } from "../../domain/SessionState.ts"
import { applySession } from "../../projections/SessionFold.ts"
import { tenantOf } from "../../src/http/Authentication.ts"
import { toLoggedEvent, type EventRow } from "../../src/eventstore/readAfter.ts"
import type { Fault } from "../../src/apns/simulator/ApnsSimulator.ts"
import { relayEnvFor, startSimulator } from "../apns/support/simulator.ts"
import { createFreshDatabase } from "../support/database.ts"
import { postStatus, startRelayProcess } from "../support/relay.ts"

const SESSIONS = 12
const STEPS = 8
const secret = "recovery-secret-0123456789"
const activityToken = (s: number) => `ac${s.toString(16).padStart(62, "0")}`
const sessionId = (s: number) => `ses_recovery_${s}`

/** One turn per session: busy, STEPS text updates "step i", idle; ids ascend with time like OpenCode's. */
const turnOf = (s: number, t0: number) => {
  const events: Array<Record<string, unknown>> = []
  const id = (n: number) => `evt_${(t0 * 0x1000 + s * 64 + n).toString(16).slice(-12).padStart(12, "0")}rec${s}x${n}`
  events.push({ id: id(0), type: "session.updated", properties: { sessionID: sessionId(s), info: { id: sessionId(s), title: `Session ${s}` } } })
  events.push({ id: id(1), type: "session.status", properties: { sessionID: sessionId(s), status: { type: "busy" } } })
  for (let i = 1; i <= STEPS; i++) {
    events.push({ id: id(1 + i), type: "message.part.updated", properties: { sessionID: sessionId(s), part: { type: "text", messageID: "msg_x", text: `step ${i}` } } })
  }
  events.push({ id: id(STEPS + 2), type: "session.status", properties: { sessionID: sessionId(s), status: { type: "idle" } } })
  return events
}

const runScenario = async (faults: ReadonlyArray<Fault> | null) => {
  const databaseUrl = await createFreshDatabase("recovery")
  const fixture = await startSimulator()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pushline-recovery-"))
  if (faults !== null) fixture.simulator.faultRate = { probability: 0.2, faults }
  const relay = await startRelayProcess({
    databaseUrl,
    env: {
      ...relayEnvFor(fixture, dir),
      PUSHLINE_THROTTLE_MS: "300",
      PUSHLINE_PERMISSION_GRACE_MS: "200",
      APNS_REQUEST_TIMEOUT_MS: "2000"
    }
  })
  const acknowledged = new Set<string>()
  try {
    // Registrations first, retried like any client would.
    for (let s = 0; s < SESSIONS; s++) {
      expect(await postStatus(relay.url, "/v1/activity/register", { secret, sessionID: sessionId(s), activityToken: activityToken(s), apnsEnv: "sandbox" })).toBe(200)
    }
    const t0 = Date.now()
    const pending = Array.from({ length: SESSIONS }, (_, s) => turnOf(s, t0 + s))
    const chunks = pending.map((events) => {
      const out: Array<Array<Record<string, unknown>>> = []
      for (let i = 0; i < events.length; i += 2) out.push(events.slice(i, i + 2))
      return out
    })
    let killing = true
    const killer = (async () => {
      for (let k = 0; k < 3; k++) {
        await new Promise((r) => setTimeout(r, 250 + Math.random() * 500))
        await relay.kill("SIGKILL")
        await relay.restart()
      }
      killing = false
    })()
    // Each session streams its chunks in order; a chunk is resent until acknowledged.
    await Promise.all(chunks.map(async (sessionChunks) => {
      for (const chunk of sessionChunks) {
        while (true) {
          const status = await postStatus(relay.url, "/v1/opencode/events", { events: chunk }, { authorization: `Bearer ${secret}` }).catch(() => 0)
          if (status === 202) {
            chunk.forEach((e) => acknowledged.add(String(e.id)))
            break
          }
          await new Promise((r) => setTimeout(r, 100))
        }
        await new Promise((r) => setTimeout(r, 60 + Math.random() * 80))
      }
    }))
    await killer
    expect(killing).toBe(false)

    // Every session's activity ends; wait for it. A session a killed relay held is taken
    // again when its 30 s lease ends, so allow for that.
    const lastFor = (s: number) => fixture.simulator.pushes.filter((p) => p.token === activityToken(s)).at(-1)
    for (let i = 0; i < 600; i++) {
      if (Array.from({ length: SESSIONS }, (_, s) => lastFor(s)?.payload.aps.event).every((e) => e === "end")) break
      await new Promise((r) => setTimeout(r, 100))
    }

    const client = new pg.Client({ connectionString: databaseUrl })
    await client.connect()
    const rows = (await client.query<EventRow>(
      `select position::text as position, transaction_id::text as transaction_id, tenant, session_id, event_id, type, payload, meta, source_time, received_time
       from events where tenant = $1 order by events.position`,
      [tenantOf(secret)]
    )).rows
    const states = new Map((await client.query<{ session_id: string; state: SessionState }>(
      "select session_id, state from session_states where tenant = $1", [tenantOf(secret)]
    )).rows.map((r) => [r.session_id, r.state]))
    await client.end()

    const stored = new Set(rows.map((r) => r.event_id))
    expect([...acknowledged].filter((id) => !stored.has(id))).toEqual([])

    for (let s = 0; s < SESSIONS; s++) {
      // The projected state is exactly the fold of the session's logged events.
      let folded: SessionState = initialSessionState(sessionId(s))
      for (const row of rows.filter((r) => r.session_id === sessionId(s))) folded = applySession(folded, toLoggedEvent(row) as LoggedEvent).state
      expect(states.get(sessionId(s))).toEqual(folded)
      expect(folded).toMatchObject({ status: "complete", lastMessage: `step ${STEPS}` })

      // The token's last push carries that final state; it never went back to an older one.
      const pushes = fixture.simulator.pushes.filter((p) => p.token === activityToken(s))
      const last = pushes.at(-1)!
      expect({ event: last.payload.aps.event, state: last.payload.aps["content-state"] }).toEqual({
        event: "end",
        state: { status: "complete", sessionTitle: `Session ${s}`, lastMessage: `step ${STEPS}`, retryInfo: null, startedAt: folded.turnStartedAt === null ? 0 : Math.floor(folded.turnStartedAt / 1000) }
      })
      const steps = pushes.map((p) => Number(/step (\d+)/.exec(p.payload.aps["content-state"].lastMessage)?.[1] ?? 0))
      expect(steps).toEqual([...steps].sort((a, b) => a - b))
      expect(pushes.filter((p) => p.payload.aps.event === "end").length).toBeGreaterThanOrEqual(1)
    }

    // Relays killed in the middle of sessions: replaying what they recorded finds no difference.
    const replayed = await fetch(`${relay.url}/v1/replay`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
      body: "{}",
      signal: AbortSignal.timeout(30_000)
    })
    expect(replayed.status).toBe(200)
    expect(await replayed.json()).toMatchObject({ sessions: SESSIONS, withDifferences: 0, differing: [] })
  } finally {
    await relay.stop()
    await fixture.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

describe("relay killed with SIGKILL while sessions stream", () => {
  it("loses no acknowledged event, projects exactly the log, and ends every activity on its final state", () => runScenario(null), 180_000)

  it("the same with the simulator failing 20% of pushes (429/500/503/GOAWAY/reset)", () =>
    runScenario([
      { kind: "status", status: 429 },
      { kind: "status", status: 500 },
      { kind: "status", status: 503 },
      { kind: "goaway" },
      { kind: "reset" }
    ]), 180_000)
})
