/**
 * Ingest throughput: OpenCode-shaped events posted to the real relay (own
 * process, real PostgreSQL) by several concurrent clients, against the limit:
 * the same rows inserted directly with multi-row INSERTs into the same database.
 *
 *   npm run bench:ingest                     # 200k events, batches of 250, 8 clients
 *   EVENTS=50000 BATCH=100 CLIENTS=4 npm run bench:ingest
 */
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import pg from "pg"
import { startCluster } from "../src/db/EmbeddedPostgres.ts"
import { startRelayProcess } from "../test/support/relay.ts"

const EVENTS = Number(process.env.EVENTS ?? 200_000)
const BATCH = Number(process.env.BATCH ?? 250)
const CLIENTS = Number(process.env.CLIENTS ?? 8)
const SESSIONS = 200

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0

// Realistic shapes: mostly streaming deltas and part updates, some status changes.
const makeEvent = (run: string, n: number) => {
  const sessionID = `ses_bench_${n % SESSIONS}`
  const id = `evt_${run}_${n.toString().padStart(8, "0")}`
  switch (n % 10) {
    case 0:
      return { id, type: "session.status", properties: { sessionID, status: { type: "busy" } } }
    case 1:
      return {
        id,
        type: "message.part.updated",
        properties: {
          sessionID,
          part: { id: `prt_${n}`, sessionID, messageID: `msg_${n >> 4}`, type: "text", text: "Working on the change now. ".repeat(4) },
          time: 1_795_000_000_000 + n
        }
      }
    default:
      return {
        id,
        type: "message.part.delta",
        properties: { sessionID, messageID: `msg_${n >> 4}`, partID: `prt_${n >> 4}`, field: "text", delta: "some streamed words " }
      }
  }
}

const batches = (run: string) => {
  const out: Array<Array<ReturnType<typeof makeEvent>>> = []
  for (let start = 0; start < EVENTS; start += BATCH) {
    out.push(Array.from({ length: Math.min(BATCH, EVENTS - start) }, (_, i) => makeEvent(run, start + i)))
  }
  return out
}

const runClients = async <T>(work: Array<T>, clients: number, each: (item: T) => Promise<void>) => {
  let next = 0
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < work.length) {
        const item = work[next++]!
        await each(item)
      }
    })
  )
}

const main = async () => {
  let databaseUrl = process.env.DATABASE_URL
  let stopCluster: (() => Promise<void>) | undefined
  let dataDir: string | undefined
  if (databaseUrl === undefined) {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "pushline-bench-"))
    await fs.chmod(dataDir, 0o755)
    const started = await startCluster({ dataDir })
    databaseUrl = started.cluster.url
    stopCluster = started.stop
  }
  console.log(`bench:ingest: ${EVENTS} events, batches of ${BATCH}, ${CLIENTS} concurrent clients, ${os.cpus().length} cores`)
  const relay = await startRelayProcess({ databaseUrl, env: { PUSHLINE_BODY_LIMIT_BYTES: String(16 * 1024 * 1024) } })
  try {
    // Warm-up (JIT, pool) outside the measurement.
    await fetch(`${relay.url}/v1/opencode/events`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer bench-secret-0123456789" },
      body: JSON.stringify({ events: batches("warm").slice(0, 20).flat() })
    })

    const latencies: Array<number> = []
    const relayBatches = batches(`r${Date.now()}`)
    const relayStart = performance.now()
    await runClients(relayBatches, CLIENTS, async (events) => {
      const started = performance.now()
      const response = await fetch(`${relay.url}/v1/opencode/events`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer bench-secret-0123456789" },
        body: JSON.stringify({ serverID: "bench", events })
      })
      const body = (await response.json()) as { accepted?: number }
      if (response.status !== 202 || body.accepted !== events.length) {
        throw new Error(`unexpected answer ${response.status} ${JSON.stringify(body)}`)
      }
      latencies.push(performance.now() - started)
    })
    const relaySeconds = (performance.now() - relayStart) / 1000
    latencies.sort((a, b) => a - b)

    // The limit: the same rows, same table, multi-row INSERTs straight into PostgreSQL.
    const pool = new pg.Pool({ connectionString: databaseUrl, max: CLIENTS })
    const directBatches = batches(`d${Date.now()}`)
    const directStart = performance.now()
    await runClients(directBatches, CLIENTS, async (events) => {
      const values: Array<unknown> = []
      const rows = events.map((event, i) => {
        values.push("bench-direct", event.properties.sessionID, event.id, event.type, JSON.stringify(event), "{}", new Date())
        const o = i * 7
        return `($${o + 1}, $${o + 2}, $${o + 3}, $${o + 4}, $${o + 5}::jsonb, $${o + 6}::jsonb, $${o + 7})`
      })
      await pool.query(
        `insert into events (tenant, session_id, event_id, type, payload, meta, source_time) values ${rows.join(", ")}
         on conflict (tenant, event_id) do nothing`,
        values
      )
    })
    const directSeconds = (performance.now() - directStart) / 1000
    await pool.end()

    const relayRate = EVENTS / relaySeconds
    const directRate = EVENTS / directSeconds
    console.log(`relay   : ${relayRate.toFixed(0)} events/s (${relaySeconds.toFixed(2)} s), request latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`)
    console.log(`direct  : ${directRate.toFixed(0)} events/s (${directSeconds.toFixed(2)} s), multi-row INSERT`)
    console.log(`ratio   : ${(relayRate / directRate).toFixed(2)} (target >= 0.5)`)
  } finally {
    await relay.stop()
    await stopCluster?.()
    if (dataDir !== undefined) await fs.rm(dataDir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
