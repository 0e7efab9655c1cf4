import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { isDeepStrictEqual } from "node:util"
import pg from "pg"
import { expect } from "vitest"
import { LoggedEvent } from "../../domain/LoggedEvent.ts"
import { initialSessionState, type SessionState } from "../../domain/SessionState.ts"
import { applySession } from "../../projections/SessionFold.ts"
import type { Fault } from "../../src/apns/simulator/ApnsSimulator.ts"
import { toLoggedEvent, type EventRow } from "../../src/eventstore/readAfter.ts"
import { tenantOf } from "../../src/http/Authentication.ts"
import { relayEnvFor, startSimulator, type SimulatorFixture } from "../apns/support/simulator.ts"
import { createFreshDatabase } from "./database.ts"
import { postStatus, type RelayProcess, startRelayProcess } from "./relay.ts"

/**
 * Sessions streamed into a real relay process while something goes wrong (the relay
 * SIGKILLed and restarted, APNs failing a share of pushes, the database stopped or
 * killed), then everything checked against the record: which acknowledged events are
 * missing, whether the projected states are the fold of the log, whether every
 * activity's last push is the final state (title OpenCode sent after the turn ended
 * included) and never went back, how often each turn's alert was delivered, and
 * whether replay finds the record consistent. The npm test and the reliability suite
 * run it at different sizes.
 */
export interface ScenarioOptions {
  readonly sessions: number
  readonly steps: number
  /** Share of APNs answers that fail, with these faults; none when empty. */
  readonly faultRate: number
  /** Run beside the streaming; the relay, the data dir and how to signal the cluster given. */
  readonly chaos?: (context: ChaosContext) => Promise<void>
  /** The relay runs its own embedded PostgreSQL (in `dataDir`) instead of a test database. */
  readonly embedded?: boolean
}

export interface ChaosContext {
  readonly relay: RelayProcess
  readonly dataDir: string
  /** Resolves once every session has been streamed. */
  readonly streamed: Promise<void>
}

export const APNS_FAULTS: ReadonlyArray<Fault> = [
  { kind: "status", status: 429 },
  { kind: "status", status: 500 },
  { kind: "status", status: 503 },
  { kind: "goaway" },
  { kind: "reset" }
]

export interface ScenarioFigures {
  readonly sessions: number
  readonly acknowledged: number
  /** Acknowledged (202) events the log does not hold. */
  readonly lost: ReadonlyArray<string>
  /** Sessions whose projected state is not the fold of their logged events. */
  readonly projectionMismatches: ReadonlyArray<string>
  /** Sessions whose activity's last push is not an `end` with the final state. */
  readonly staleFinal: ReadonlyArray<{ readonly session: string; readonly last: unknown }>
  /** Sessions whose activity was sent an older step after a newer one. */
  readonly olderAfterNewer: ReadonlyArray<string>
  /** Per session, how many `complete` alerts the device was delivered. */
  readonly alerts: ReadonlyArray<number>
  /**
   * Sessions whose alert was delivered more often than once plus its attempts that got no
   * answer. A push whose connection was lost (or timed out) after APNs took it is sent
   * again: losing an alert is worse than repeating it, and nothing else may repeat one.
   */
  readonly unexplainedRepeats: ReadonlyArray<string>
  /** Answers other than 202 seen while streaming, by status (0: no answer). */
  readonly refusals: Readonly<Record<string, number>>
  readonly replay: { readonly sessions: number; readonly withDifferences: number }
  readonly pushes: number
  readonly relayOutput: string
}

const secret = "crash-scenario-secret-0123456789"
const deviceToken = "de".repeat(32)
const activityToken = (s: number) => `ac${s.toString(16).padStart(62, "0")}`
const sessionId = (s: number) => `ses_crash_${s}`
const finalTitle = (s: number) => `Session ${s}: the generated title`

/**
 * One turn per session: busy, `steps` text updates "step i", idle, and then, as OpenCode
 * does a few ms after the turn ends, the generated title. Ids ascend with time like OpenCode's.
 */
const turnOf = (s: number, t0: number, steps: number) => {
  const events: Array<Record<string, unknown>> = []
  const id = (n: number) => `evt_${(t0 * 0x1000 + s * 64 + n).toString(16).slice(-12).padStart(12, "0")}crash${s}x${n}`
  const info = (title: string) => ({ sessionID: sessionId(s), info: { id: sessionId(s), title } })
  events.push({ id: id(0), type: "session.updated", properties: info(`New session ${s}`) })
  events.push({ id: id(1), type: "session.status", properties: { sessionID: sessionId(s), status: { type: "busy" } } })
  for (let i = 1; i <= steps; i++) {
    events.push({ id: id(1 + i), type: "message.part.updated", properties: { sessionID: sessionId(s), part: { type: "text", messageID: "msg_x", text: `step ${i}` } } })
  }
  events.push({ id: id(steps + 2), type: "session.status", properties: { sessionID: sessionId(s), status: { type: "idle" } } })
  events.push({ id: id(steps + 3), type: "session.updated", properties: info(finalTitle(s)) })
  return events
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export const runScenario = async (options: ScenarioOptions): Promise<ScenarioFigures> => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pushline-crash-"))
  fs.chmodSync(dataDir, 0o755)
  const databaseUrl = options.embedded === true ? "" : await createFreshDatabase("crash")
  const fixture: SimulatorFixture = await startSimulator()
  if (options.faultRate > 0) fixture.simulator.faultRate = { probability: options.faultRate, faults: APNS_FAULTS }
  const relay = await startRelayProcess({
    databaseUrl,
    env: {
      ...relayEnvFor(fixture, dataDir),
      PUSHLINE_DATA_DIR: dataDir,
      PUSHLINE_THROTTLE_MS: "300",
      PUSHLINE_PERMISSION_GRACE_MS: "200",
      APNS_REQUEST_TIMEOUT_MS: "2000"
    },
    startTimeoutMs: 90_000
  })
  const acknowledged = new Set<string>()
  const refusals: Record<string, number> = {}
  try {
    await retried(() => postStatus(relay.url, "/v1/device/register", { secret, deviceToken, apnsEnv: "sandbox", events: ["complete"] }), 200)
    for (let s = 0; s < options.sessions; s++) {
      await retried(() => postStatus(relay.url, "/v1/activity/register", { secret, sessionID: sessionId(s), activityToken: activityToken(s), apnsEnv: "sandbox" }), 200)
    }
    const t0 = Date.now()
    let markStreamed = () => {}
    const streamed = new Promise<void>((resolve) => (markStreamed = resolve))
    const chaos = options.chaos?.({ relay, dataDir, streamed }) ?? Promise.resolve()
    // Each session streams its events a few at a time, in order, like a bridge: a batch is resent until acknowledged.
    await Promise.all(Array.from({ length: options.sessions }, async (_, s) => {
      const events = turnOf(s, t0 + s, options.steps)
      // The title comes on its own, after the batch that ended the turn, as from a bridge.
      const batches: Array<Array<Record<string, unknown>>> = []
      for (let i = 0; i < events.length - 1; i += 2) batches.push(events.slice(i, Math.min(i + 2, events.length - 1)))
      batches.push(events.slice(-1))
      for (const batch of batches) {
        while (true) {
          const status = await postEvents(relay.url, batch)
          if (status === 202) {
            batch.forEach((e) => acknowledged.add(String(e.id)))
            break
          }
          refusals[status] = (refusals[status] ?? 0) + 1
          await sleep(100)
        }
        await sleep(40 + Math.random() * 60)
      }
    }))
    markStreamed()
    await chaos

    // Every activity ends and every turn alerts (what a killed relay held, the next claims
    // at once: its instance lock is free).
    const pushesTo = (token: string) => fixture.simulator.pushes.filter((p) => p.token === token)
    const done = () =>
      Array.from({ length: options.sessions }, (_, s) => pushesTo(activityToken(s)).at(-1)?.payload.aps["content-state"]?.sessionTitle === finalTitle(s))
        .every(Boolean) && alertCounts(fixture, options.sessions).every((n) => n > 0)
    for (let i = 0; i < 900 && !done(); i++) await sleep(100)

    const client = new pg.Client({ connectionString: databaseUrl === "" ? embeddedUrl(dataDir) : databaseUrl })
    await client.connect()
    const rows = (await client.query<EventRow>(
      `select position::text as position, transaction_id::text as transaction_id, tenant, session_id, event_id, type, payload, meta, source_time, received_time
       from events where tenant = $1 order by events.position`,
      [tenantOf(secret)]
    )).rows
    const states = new Map((await client.query<{ session_id: string; state: SessionState }>(
      "select session_id, state from session_states where tenant = $1", [tenantOf(secret)]
    )).rows.map((r) => [r.session_id, r.state]))
    // Alert attempts that got no answer (connection lost, timed out): APNs may have taken them.
    const unanswered = new Map((await client.query<{ session_id: string; n: number }>(
      `select session_id, count(*)::int as n from deliveries
       where tenant = $1 and push_type = 'alert' and outcome = 'retryable' and status is null group by session_id`,
      [tenantOf(secret)]
    )).rows.map((r) => [r.session_id, r.n]))
    await client.end()

    const stored = new Set(rows.map((r) => r.event_id))
    const projectionMismatches: Array<string> = []
    const staleFinal: Array<{ session: string; last: unknown }> = []
    const olderAfterNewer: Array<string> = []
    for (let s = 0; s < options.sessions; s++) {
      let folded: SessionState = initialSessionState(sessionId(s))
      for (const row of rows.filter((r) => r.session_id === sessionId(s))) folded = applySession(folded, toLoggedEvent(row) as LoggedEvent).state
      if (!isDeepStrictEqual(states.get(sessionId(s)), folded)) projectionMismatches.push(sessionId(s))
      const pushes = pushesTo(activityToken(s))
      const last = pushes.at(-1)
      const expected = {
        event: "end",
        state: {
          status: "complete",
          sessionTitle: finalTitle(s),
          lastMessage: `step ${options.steps}`,
          retryInfo: null,
          startedAt: folded.turnStartedAt === null ? 0 : Math.floor(folded.turnStartedAt / 1000)
        }
      }
      const seen = { event: last?.payload.aps.event, state: last?.payload.aps["content-state"] }
      if (!isDeepStrictEqual(seen, expected)) staleFinal.push({ session: sessionId(s), last: seen })
      const steps = pushes.map((p) => Number(/step (\d+)/.exec(p.payload.aps["content-state"].lastMessage)?.[1] ?? 0))
      if (steps.some((step, i) => i > 0 && step < steps[i - 1]!)) olderAfterNewer.push(sessionId(s))
    }

    const alerts = alertCounts(fixture, options.sessions)
    const replayed = await fetch(`${relay.url}/v1/replay`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
      body: "{}",
      signal: AbortSignal.timeout(60_000)
    })
    const replay = (await replayed.json()) as { sessions: number; withDifferences: number }
    return {
      sessions: options.sessions,
      acknowledged: acknowledged.size,
      lost: [...acknowledged].filter((id) => !stored.has(id)),
      projectionMismatches,
      staleFinal,
      olderAfterNewer,
      alerts,
      unexplainedRepeats: alerts.flatMap((n, s) => (n > 1 + (unanswered.get(sessionId(s)) ?? 0) ? [sessionId(s)] : [])),
      refusals,
      replay: { sessions: replay.sessions, withDifferences: replay.withDifferences },
      pushes: fixture.simulator.pushes.length,
      relayOutput: relay.output()
    }
  } finally {
    await relay.stop()
    await fixture.close()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

const alertCounts = (fixture: SimulatorFixture, sessions: number) =>
  Array.from({ length: sessions }, (_, s) =>
    fixture.simulator.pushes.filter((p) => p.token === deviceToken && p.payload.sessionID === sessionId(s) && p.payload.eventType === "complete").length)

/** The embedded cluster's URL, from the port the relay recorded in its data dir. */
const embeddedUrl = (dataDir: string) => {
  const { port } = JSON.parse(fs.readFileSync(path.join(dataDir, "postgres.json"), "utf8")) as { port: number }
  return `postgres://postgres:pushline@127.0.0.1:${port}/pushline`
}

/** As the bridge posts: 10 s for an answer, else it counts as none (0). */
const postEvents = (url: string, events: ReadonlyArray<unknown>) =>
  fetch(`${url}/v1/opencode/events`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
    body: JSON.stringify({ events }),
    signal: AbortSignal.timeout(10_000)
  }).then((response) => response.status, () => 0)

const retried = async (post: () => Promise<number>, expected: number) => {
  for (let attempt = 0; attempt < 100; attempt++) {
    if ((await post().catch(() => 0)) === expected) return
    await sleep(100)
  }
  throw new Error(`never answered ${expected}`)
}

/** SIGKILLs the relay `times` times at random moments while sessions stream, restarting it each time. */
export const killRelay = (times: number) => async ({ relay }: ChaosContext) => {
  for (let k = 0; k < times; k++) {
    await sleep(250 + Math.random() * 500)
    await relay.kill("SIGKILL")
    await relay.restart()
  }
}

/** Figures for a log line: the counts a reader compares with 0. */
export const summary = (figures: ScenarioFigures) => ({
  sessions: figures.sessions,
  acknowledged: figures.acknowledged,
  lost: figures.lost.length,
  projectionMismatches: figures.projectionMismatches.length,
  staleFinal: figures.staleFinal.length,
  olderAfterNewer: figures.olderAfterNewer.length,
  alertsMissing: figures.alerts.filter((n) => n === 0).length,
  alertsRepeated: figures.alerts.filter((n) => n > 1).length,
  alertsRepeatedUnexplained: figures.unexplainedRepeats.length,
  replayWithDifferences: figures.replay.withDifferences,
  pushes: figures.pushes,
  refusals: figures.refusals
})

/** What must hold after any scenario: nothing acknowledged lost, the record consistent, every activity final. */
export const expectConsistent = (figures: ScenarioFigures) => {
  expect(figures.lost).toEqual([])
  expect(figures.projectionMismatches).toEqual([])
  expect(figures.staleFinal).toEqual([])
  expect(figures.olderAfterNewer).toEqual([])
  expect(figures.alerts.filter((n) => n === 0)).toEqual([])
  expect(figures.replay).toEqual({ sessions: figures.sessions, withDifferences: 0 })
}
