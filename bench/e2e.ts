/**
 * End to end under load: many sessions stream OpenCode events into the real
 * relay process (real PostgreSQL, APNs simulator on loopback); measures the
 * time from the ingest acknowledgement to the simulator receiving the push,
 * for transitions (a turn's end: `end` push) and throttled progress updates,
 * plus pushes/s and the relay's memory per active session.
 *
 * Sessions start at random moments of a 10 s warm-up (not measured) while the
 * load runs, as on a relay in use; STARTUP=burst starts them all at once instead
 * and reports that burst's first pushes.
 *
 *   npm run bench:e2e                       # 1000 sessions, 2000 events/s for 20 s
 *   SESSIONS=200 RATE=500 SECONDS=10 npm run bench:e2e
 *   STARTUP=burst npm run bench:e2e
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import pg from "pg"
import { ApnsSimulator } from "../src/apns/simulator/ApnsSimulator.ts"
import { generateSigningKey } from "../src/apns/simulator/localKeys.ts"
import { clusterDir, startCluster } from "../src/db/EmbeddedPostgres.ts"
import { startRelayProcess } from "../test/support/relay.ts"
import { rssKb, treeCpuSeconds } from "./procStats.ts"

const SESSIONS = Number(process.env.SESSIONS ?? 1000)
const RATE = Number(process.env.RATE ?? 2000)
const SECONDS = Number(process.env.SECONDS ?? 20)
const STARTUP = process.env.STARTUP === "burst" ? "burst" : "staggered"
const WARMUP_SECONDS = Number(process.env.WARMUP ?? 10)
const TICK_MS = 50
const secret = "bench-e2e-secret-0123456789"
const token = (s: number) => `ac${s.toString(16).padStart(62, "0")}`
const sessionId = (s: number) => `ses_bench_${s}`
// Extra sessions that run whole turns (busy, text, idle) during the warm-up, unmeasured, so the
// relay's end path (fold, planner, payload, APNs) is warm when measured ends begin.
const WARM_TURNS = 50
const warmSessionId = (w: number) => `ses_warm_${w}`
const warmToken = (w: number) => `be${w.toString(16).padStart(62, "0")}`

const percentile = (values: Array<number>, p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

const post = async (url: string, pathName: string, body: unknown, headers: Record<string, string> = {}) => {
  const response = await fetch(`${url}${pathName}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) })
  await response.arrayBuffer()
  return response.status
}

const main = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pushline-bench-e2e-"))
  fs.chmodSync(dir, 0o755)
  const cluster = await startCluster({ dataDir: path.join(dir, "db"), fsync: true })
  const key = generateSigningKey()
  const simulator = await ApnsSimulator.start({ keys: [key] })
  fs.writeFileSync(path.join(dir, "ca.pem"), simulator.certificate.certPem)
  fs.writeFileSync(path.join(dir, "key.p8"), key.privateKeyPem)
  const relay = await startRelayProcess({
    databaseUrl: cluster.cluster.url,
    env: {
      APNS_HOST: simulator.host,
      APNS_CA_FILE: path.join(dir, "ca.pem"),
      APNS_TEAM_ID: key.teamId,
      APNS_KEY_ID: key.keyId,
      APNS_PRIVATE_KEY_FILE: path.join(dir, "key.p8"),
      APNS_DEFAULT_BUNDLE_ID: "com.example.app"
    }
  })
  console.log(`bench:e2e: ${SESSIONS} sessions, ${RATE} events/s for ${SECONDS} s, throttle 10 s, ${os.cpus().length} cores`)
  try {
    const auth = { authorization: `Bearer ${secret}` }
    for (let s = 0; s < SESSIONS; s += 50) {
      await Promise.all(Array.from({ length: Math.min(50, SESSIONS - s) }, (_, i) =>
        post(relay.url, "/v1/activity/register", { secret, sessionID: sessionId(s + i), activityToken: token(s + i), apnsEnv: "sandbox" })))
    }
    await Promise.all(Array.from({ length: WARM_TURNS }, (_, w) =>
      post(relay.url, "/v1/activity/register", { secret, sessionID: warmSessionId(w), activityToken: warmToken(w), apnsEnv: "sandbox" })))
    await new Promise((r) => setTimeout(r, 1000))
    const baselineRss = rssKb(relay.pid())

    // What each session's token received, and when.
    const received = new Map<string, Array<{ at: number; step: number; event: string }>>()
    simulator.onPush((push) => {
      const list = received.get(push.token) ?? []
      const step = Number(/step (\d+)/.exec(push.payload.aps["content-state"]?.lastMessage ?? "")?.[1] ?? 0)
      list.push({ at: performance.now(), step, event: push.payload.aps.event })
      received.set(push.token, list)
    })

    let seq = 0
    let cursor = 0
    const idFor = () => {
      seq++
      return `evt_${((Date.now() * 0x1000 + (seq % 0x1000)) % 2 ** 48).toString(16).padStart(12, "0")}b${seq}`
    }
    const ticks = (SECONDS * 1000) / TICK_MS
    const perTick = Math.round((RATE * TICK_MS) / 1000)
    let peakRss = baselineRss
    const busyEvent = (s: number) => ({ id: idFor(), type: "session.status", properties: { sessionID: sessionId(s), status: { type: "busy" } } })

    // Start-up, not measured: "staggered" (the default) starts each session at a random
    // moment of a warm-up while the load already runs, as sessions on a relay come and go;
    // "burst" starts them all within SESSIONS / rate seconds and waits for every first push.
    const nextStep = new Array<number>(SESSIONS).fill(0)
    const startsAtTick = new Array<number>(SESSIONS).fill(0)
    const firstAcks = new Map<number, number>()
    const startupBegan = performance.now()
    let warmupTicks = 0
    if (STARTUP === "burst") {
      for (let s = 0; s < SESSIONS; s += perTick) {
        const tickStart = performance.now()
        const group = Array.from({ length: Math.min(perTick, SESSIONS - s) }, (_, i) => s + i)
        void post(relay.url, "/v1/opencode/events", { events: group.map(busyEvent) }, auth).then((status) => {
          if (status !== 202) throw new Error(`ingest answered ${status}`)
          const at = performance.now()
          for (const g of group) firstAcks.set(g, at)
        })
        for (const g of group) nextStep[g] = 1
        const wait = TICK_MS - (performance.now() - tickStart)
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      }
      while (performance.now() - startupBegan < 60_000 && (firstAcks.size < SESSIONS || received.size < SESSIONS)) {
        await new Promise((r) => setTimeout(r, 50))
      }
      await new Promise((r) => setTimeout(r, 1000))
    } else {
      warmupTicks = (WARMUP_SECONDS * 1000) / TICK_MS
      for (let s = 0; s < SESSIONS; s++) startsAtTick[s] = Math.floor(Math.random() * warmupTicks)
    }

    // Each session: busy, texts "step i", and idle at its own random moment of the measured window.
    const endsAtTick = Array.from({ length: SESSIONS }, () => warmupTicks + 1 + Math.floor(Math.random() * (ticks - 2)))
    const ended = new Array<boolean>(SESSIONS).fill(false)
    const acks: Array<{ s: number; step: number; at: number; kind: "text" | "idle" }> = []
    let sent = 0
    let started = performance.now()
    // This process's own stalls (its GC, the simulator's work): a push received late because
    // the bench was paused is not the relay's delay, so say when they happened.
    const benchStalls: Array<{ at: number; ms: number }> = []
    let lastTick = performance.now()
    const stallWatch = setInterval(() => {
      const now = performance.now()
      if (now - lastTick > 25) benchStalls.push({ at: lastTick, ms: now - lastTick - 5 })
      lastTick = now
    }, 5)
    // Who uses the 2 cores while measured: the relay, PostgreSQL, and this process (load + simulator).
    const postmaster = Number(fs.readFileSync(path.join(clusterDir(cluster.cluster.dataDir), "postmaster.pid"), "utf8").split("\n")[0])
    let cpuAtStart = { relay: 0, postgres: 0, bench: process.cpuUsage() }
    for (let tick = 0; tick < warmupTicks + ticks; tick++) {
      const tickStart = performance.now()
      if (tick === warmupTicks) {
        started = tickStart
        cpuAtStart = { relay: treeCpuSeconds(relay.pid()), postgres: treeCpuSeconds(postmaster), bench: process.cpuUsage() }
      }
      const measured = tick >= warmupTicks
      const batch: Array<Record<string, unknown>> = []
      const meta: Array<{ s: number; step: number; kind: "text" | "idle" }> = []
      const starting: Array<number> = []
      // A warm-up turn every few ticks of the warm-up's second half.
      const warmEvery = Math.max(1, Math.floor(warmupTicks / 2 / WARM_TURNS))
      const warmTurn = (tick - Math.floor(warmupTicks / 2)) / warmEvery
      if (!measured && Number.isInteger(warmTurn) && warmTurn >= 0 && warmTurn < WARM_TURNS) {
        const w = warmSessionId(warmTurn)
        batch.push(
          { id: idFor(), type: "session.status", properties: { sessionID: w, status: { type: "busy" } } },
          { id: idFor(), type: "message.part.updated", properties: { sessionID: w, part: { type: "text", messageID: "m", text: "warming up" } } },
          { id: idFor(), type: "session.status", properties: { sessionID: w, status: { type: "idle" } } }
        )
      }
      const waiting = (s: number) => ended[s] || tick < startsAtTick[s]!
      for (let k = 0; k < perTick; k++) {
        // Round-robin over the sessions running, so the offered rate stays at RATE.
        let s = cursor++ % SESSIONS
        for (let tries = 0; waiting(s) && tries < SESSIONS; tries++) s = cursor++ % SESSIONS
        if (waiting(s)) break
        const step = nextStep[s]!
        if (step === 0) {
          batch.push(busyEvent(s))
          starting.push(s)
        } else if (tick >= endsAtTick[s]!) {
          batch.push({ id: idFor(), type: "session.status", properties: { sessionID: sessionId(s), status: { type: "idle" } } })
          ended[s] = true
          meta.push({ s, step, kind: "idle" })
        } else {
          batch.push({ id: idFor(), type: "message.part.updated", properties: { sessionID: sessionId(s), part: { type: "text", messageID: "m", text: `step ${step}` } } })
          if (measured) meta.push({ s, step, kind: "text" })
        }
        nextStep[s] = step + 1
      }
      void post(relay.url, "/v1/opencode/events", { events: batch }, auth).then((status) => {
        if (status !== 202) throw new Error(`ingest answered ${status}`)
        const at = performance.now()
        for (const m of meta) acks.push({ ...m, at })
        for (const s of starting) firstAcks.set(s, at)
      })
      if (measured) sent += batch.length
      if (tick % 20 === 0) peakRss = Math.max(peakRss, rssKb(relay.pid()))
      const wait = TICK_MS - (performance.now() - tickStart)
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    }
    const loadSeconds = (performance.now() - started) / 1000
    clearInterval(stallWatch)
    const benchCpu = process.cpuUsage(cpuAtStart.bench)
    const cpu = {
      relay: treeCpuSeconds(relay.pid()) - cpuAtStart.relay,
      postgres: treeCpuSeconds(postmaster) - cpuAtStart.postgres,
      bench: (benchCpu.user + benchCpu.system) / 1e6
    }
    await new Promise((r) => setTimeout(r, 12_000)) // trailing pushes of the last throttle windows

    const transitions: Array<number> = []
    const slowest: Array<{ ms: number; ackedAt: number }> = []
    const progress: Array<number> = []
    for (const ack of acks) {
      const pushes = received.get(token(ack.s)) ?? []
      if (ack.kind === "idle") {
        const end = pushes.find((p) => p.event === "end")
        if (end !== undefined) {
          transitions.push(end.at - ack.at)
          slowest.push({ ms: end.at - ack.at, ackedAt: (ack.at - started) / 1000 })
        }
      } else {
        // The first push that shows this step or a newer one.
        const shown = pushes.find((p) => p.step >= ack.step && p.at >= ack.at - 1)
        if (shown !== undefined) progress.push(shown.at - ack.at)
      }
    }
    const totalPushes = [...received.values()].reduce((n, list) => n + list.length, 0)
    // Never an older state after a newer one, nothing after the end.
    const outOfOrder = [...received].filter(([, list]) =>
      list.some((push, i) => i > 0 && (push.step < list[i - 1]!.step || list[i - 1]!.event === "end")))
    const missingEnds = Array.from({ length: SESSIONS }, (_, s) => s).filter((s) => ended[s] && !(received.get(token(s)) ?? []).some((p) => p.event === "end")).length
    const firstPushes = [...firstAcks].flatMap(([session, at]) => {
      const first = received.get(token(session))?.[0]
      return first === undefined ? [] : [first.at - at]
    })
    console.log(STARTUP === "burst"
      ? `start-up : burst: ${SESSIONS} sessions busy within ${(SESSIONS / perTick * TICK_MS / 1000).toFixed(1)} s; ack -> first push p50 ${percentile(firstPushes, 50).toFixed(0)} ms, p99 ${percentile(firstPushes, 99).toFixed(0)} ms (n=${firstPushes.length})`
      : `start-up : staggered: sessions start at random over a ${WARMUP_SECONDS} s warm-up under load (not measured); ack -> first push p50 ${percentile(firstPushes, 50).toFixed(0)} ms, p99 ${percentile(firstPushes, 99).toFixed(0)} ms (n=${firstPushes.length})`)
    for (const [tok, list] of outOfOrder) {
      console.log(`out of order …${tok.slice(-6)}: ${list.map((p) => `${p.event}:${p.step}@${(p.at - started).toFixed(0)}`).join(" ")}`)
    }
    console.log(`load     : ${sent} events in ${loadSeconds.toFixed(1)} s = ${(sent / loadSeconds).toFixed(0)} events/s offered`)
    console.log(`transitions (ack -> end push at the simulator): n=${transitions.length} p50 ${percentile(transitions, 50).toFixed(1)} ms, p99 ${percentile(transitions, 99).toFixed(1)} ms (target p99 <= 50 ms); missing ends ${missingEnds}; tokens that got an older state after a newer one ${outOfOrder.length}`)
    slowest.sort((a, b) => b.ms - a.ms)
    console.log(`slowest  : ${slowest.slice(0, 12).map((t) => `${t.ms.toFixed(0)} ms at ${t.ackedAt.toFixed(1)} s`).join(", ")}`)
    const measuredStalls = benchStalls.filter((stall) => stall.at >= started).map((stall) => ({ ...stall, at: (stall.at - started) / 1000 }))
    console.log(`bench    : its own event loop stalled over 20 ms ${measuredStalls.length} times while measured${measuredStalls.length === 0 ? "" : `: ${measuredStalls.slice(0, 8).map((stall) => `${stall.ms.toFixed(0)} ms at ${stall.at.toFixed(1)} s`).join(", ")}`}`)
    console.log(`throttled updates (ack -> first push showing it): n=${progress.length} p50 ${percentile(progress, 50).toFixed(0)} ms, p99 ${percentile(progress, 99).toFixed(0)} ms (bounded by the 10 s window)`)
    console.log(`pushes   : ${totalPushes} in ${(loadSeconds + 12).toFixed(1)} s = ${(totalPushes / (loadSeconds + 12)).toFixed(0)} pushes/s`)
    // Where an `end` spends its time inside the relay: ingest commit -> sender run -> APNs attempt.
    const stages = new pg.Client({ connectionString: cluster.cluster.url })
    await stages.connect()
    const { rows } = await stages.query<{ planned: number; attempted: number }>(`
      select r.planned_at_ms - extract(epoch from e.received_time) * 1000 as planned,
             extract(epoch from d.attempted_at) * 1000 - r.planned_at_ms as attempted
      from deliveries d join sender_runs r on r.id = d.run_id join events e on e.position = d.caused_by
      where d.event = 'end'`)
    const [db] = (await stages.query<{ xact_commit: string; tup_inserted: string; tup_updated: string; tup_returned: string }>(
      "select xact_commit::text, tup_inserted::text, tup_updated::text, tup_returned::text from pg_stat_database where datname = current_database()")).rows
    console.log(`database : ${db?.xact_commit} transactions, ${db?.tup_inserted} rows inserted, ${db?.tup_updated} updated, ${db?.tup_returned} returned`)
    const scans = (await stages.query<{ relname: string; seq_scan: string; seq_tup_read: string; idx_scan: string; idx_tup_fetch: string }>(
      "select relname, seq_scan::text, seq_tup_read::text, coalesce(idx_scan, 0)::text as idx_scan, coalesce(idx_tup_fetch, 0)::text as idx_tup_fetch from pg_stat_user_tables order by seq_tup_read + coalesce(idx_tup_fetch, 0) desc limit 6")).rows
    console.log(`scans    : ${scans.map((t) => `${t.relname} seq ${t.seq_scan}/${t.seq_tup_read} rows, idx ${t.idx_scan}/${t.idx_tup_fetch} rows`).join("; ")}`)
    await stages.end()
    const planned = rows.map((row) => Number(row.planned))
    const attempted = rows.map((row) => Number(row.attempted))
    console.log(`stages   : ingest commit -> sender run p50 ${percentile(planned, 50).toFixed(1)} ms, p99 ${percentile(planned, 99).toFixed(1)} ms; run -> APNs attempt p50 ${percentile(attempted, 50).toFixed(1)} ms, p99 ${percentile(attempted, 99).toFixed(1)} ms`)
    const share = (seconds: number) => `${seconds.toFixed(1)} s (${((100 * seconds) / loadSeconds).toFixed(0)}% of a core)`
    console.log(`cpu      : while measured, relay ${share(cpu.relay)}, PostgreSQL ${share(cpu.postgres)}, this process (load and simulator) ${share(cpu.bench)}`)
    console.log(`memory   : relay RSS ${(baselineRss / 1024).toFixed(0)} MiB idle, ${(peakRss / 1024).toFixed(0)} MiB peak = ${(((peakRss - baselineRss) * 1024) / SESSIONS).toFixed(0)} bytes per active session`)
    // The record is the truth: replaying every session of the run finds what the sender did.
    const replayStarted = performance.now()
    const replay = await fetch(`${relay.url}/v1/replay`, { method: "POST", headers: { "content-type": "application/json", ...auth }, body: "{}" })
    const summary = (await replay.json()) as { sessions: number; withDifferences: number; differing: Array<{ sessionID: string }> }
    console.log(`replay   : ${summary.sessions} sessions replayed, ${summary.withDifferences} with differences${summary.withDifferences === 0 ? "" : ` (${summary.differing.slice(0, 5).map((d) => d.sessionID).join(", ")})`} in ${((performance.now() - replayStarted) / 1000).toFixed(1)} s`)
  } finally {
    // RELAY_LOG=file keeps the relay's output (e.g. with NODE_OPTIONS=--trace-gc).
    if (process.env.RELAY_LOG) fs.writeFileSync(process.env.RELAY_LOG, relay.output())
    await relay.stop()
    await simulator.close()
    await cluster.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})
