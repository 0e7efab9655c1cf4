/**
 * APNs client throughput: N pushes to the local simulator (its own process, on
 * loopback, HTTP/2 over TLS) with Pushline's client, apns2 and @parse/node-apn,
 * the same number of connections each, the same concurrency. Prints pushes/s,
 * p50/p99 latency and the ratios against the faster library (target >= 1.5x).
 * Last comes the node:http2 floor: a bare stream per push, the most any client on
 * node:http2 can do on this machine, to show where the remaining cost lives.
 *
 *   npm run bench:apns                  # 50k pushes, 2 connections, 500 in flight, 3 rounds
 *   PUSHES=20000 CONNECTIONS=1 INFLIGHT=200 ROUNDS=1 npm run bench:apns
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as http2 from "node:http2"
import * as https from "node:https"
import * as os from "node:os"
import * as path from "node:path"
import { spawn } from "node:child_process"
import { createRequire } from "node:module"
import { ApnsClient } from "../src/apns/ApnsClient.ts"
import { importApnsKey } from "../src/apns/ApnsConfig.ts"
import { signProviderToken } from "../src/apns/ProviderToken.ts"
import { freePort } from "../test/support/relay.ts"
import { cpuSeconds } from "./procStats.ts"

const PUSHES = Number(process.env.PUSHES ?? 50_000)
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 2)
const INFLIGHT = Number(process.env.INFLIGHT ?? 500)
const ROUNDS = Number(process.env.ROUNDS ?? 3)
const TOPIC = "com.example.app"
const require = createRequire(import.meta.url)

const token = (i: number) => (i % 5000).toString(16).padStart(64, "0")
const payload = (i: number) => ({ aps: { alert: { title: "Fix the build", body: `All tests pass (${i})` }, "thread-id": "ses_1" }, sessionID: "ses_1" })

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0

interface Figures {
  readonly name: string
  readonly rate: number
  readonly p50: number
  readonly p99: number
  readonly failed: number
}

/** Sends `count` pushes keeping INFLIGHT requests open; `send` resolves true on 200. */
const drive = async (name: string, count: number, send: (i: number) => Promise<boolean>): Promise<Figures> => {
  const latencies: Array<number> = []
  let next = 0
  let failed = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: INFLIGHT }, async () => {
    while (next < count) {
      const i = next++
      const t = performance.now()
      const ok = await send(i).catch(() => false)
      latencies.push(performance.now() - t)
      if (!ok) failed++
    }
  }))
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  return { name, rate: count / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failed }
}

const startSimulatorProcess = async (dir: string) => {
  const port = await freePort()
  const child = spawn("bin/pushline.mjs", ["apns-simulator", "--port", String(port), "--dir", dir, "--quiet"], {
    cwd: path.resolve(import.meta.dirname, ".."),
    stdio: ["ignore", "pipe", "inherit"]
  })
  await new Promise<void>((resolve, reject) => {
    let out = ""
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      if (out.includes("listening on")) resolve()
    })
    child.once("exit", () => reject(new Error(`simulator exited:\n${out}`)))
  })
  const env = fs.readFileSync(path.join(dir, "AuthKey.p8"), "utf8")
  return { child, port, keyPem: env, caPem: fs.readFileSync(path.join(dir, "ca.pem"), "utf8") }
}

const pushlineRun = (port: number, keyPem: string, caPem: string, count: number) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function*() {
        const privateKey = yield* Effect.orDie(importApnsKey(keyPem, "APNS_PRIVATE_KEY"))
        const client = yield* ApnsClient.make({
          credentials: { teamId: "SIMTEAM001", keyId: "SIMKEY0001", privateKey },
          origins: { production: `https://127.0.0.1:${port}`, sandbox: `https://127.0.0.1:${port}` },
          caPem,
          connections: CONNECTIONS,
          requestTimeoutMs: 30_000
        }, "bench")
        // Driven from inside Effect as the relay's sender uses it (fibers that each send one push
        // at a time), shaped like `drive` for the libraries: INFLIGHT workers, each awaiting its push.
        const driveEffect = (name: string, n: number) =>
          Effect.gen(function*() {
            const latencies: Array<number> = []
            let next = 0
            let failed = 0
            const started = performance.now()
            const worker = Effect.gen(function*() {
              while (next < n) {
                const i = next++
                const t = performance.now()
                const result = yield* client.send({
                  deviceToken: token(i),
                  environment: "production",
                  headers: { pushType: "alert", topic: TOPIC, priority: 10 },
                  payload: payload(i)
                })
                latencies.push(performance.now() - t)
                if (result._tag !== "Delivered") failed++
              }
            })
            yield* Effect.all(Array.from({ length: INFLIGHT }, () => worker), { concurrency: "unbounded", discard: true })
            latencies.sort((a, b) => a - b)
            const seconds = (performance.now() - started) / 1000
            return { name, rate: n / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failed } satisfies Figures
          })
        yield* driveEffect("warm-up", 2000)
        return yield* driveEffect("pushline", count)
      })
    )
  )

/**
 * Not a client: the least node:http2 itself costs per push (a stream per push on
 * CONNECTIONS sessions, no queue, no timeouts, no classification, no Effect), driven
 * like the libraries. It is the ceiling any client on node:http2 can reach here.
 */
const floorRun = async (port: number, keyPem: string, caPem: string, count: number) => {
  const privateKey = await Effect.runPromise(Effect.orDie(importApnsKey(keyPem, "APNS_PRIVATE_KEY")))
  const jwt = await Effect.runPromise(signProviderToken({ teamId: "SIMTEAM001", keyId: "SIMKEY0001", privateKey }, Date.now()))
  const sessions = Array.from({ length: CONNECTIONS }, () => http2.connect(`https://127.0.0.1:${port}`, { ca: caPem }))
  await Promise.all(sessions.map((session) => new Promise((resolve) => session.once("remoteSettings", resolve))))
  const send = (i: number) =>
    new Promise<boolean>((resolve) => {
      const stream = sessions[i % CONNECTIONS]!.request({
        ":method": "POST",
        ":path": `/3/device/${token(i)}`,
        authorization: `bearer ${jwt}`,
        "apns-push-type": "alert",
        "apns-topic": TOPIC,
        "apns-priority": "10"
      })
      let ok = false
      stream.on("response", (headers) => (ok = headers[":status"] === 200))
      stream.on("data", () => {})
      stream.on("close", () => resolve(ok))
      stream.end(JSON.stringify(payload(i)))
    })
  await drive("warm-up", 2000, send)
  const figures = await drive("node:http2 floor", count, send)
  sessions.forEach((session) => session.close())
  return figures
}

const apns2Run = async (port: number, keyPem: string, caPem: string, count: number) => {
  const { ApnsClient: Apns2, Notification } = await import("apns2")
  const { Pool } = require(require.resolve("undici", { paths: [path.dirname(require.resolve("apns2"))] })) as typeof import("undici")
  const client = new Apns2({ team: "SIMTEAM001", keyId: "SIMKEY0001", signingKey: keyPem, defaultTopic: TOPIC, host: "127.0.0.1" })
  // apns2 hard-codes port 443 and 32 connections with one request in flight each (undici's
  // `pipelining` also caps HTTP/2 streams): give it the simulator's port, its CA, our connection
  // count and enough streams per connection for the same INFLIGHT as the others.
  await client.client.close()
  ;(client as unknown as { client: InstanceType<typeof Pool> }).client = new Pool(`https://127.0.0.1:${port}`, {
    connections: CONNECTIONS,
    pipelining: Math.ceil(INFLIGHT / CONNECTIONS),
    allowH2: true,
    maxConcurrentStreams: 1000,
    connect: { ca: caPem }
  })
  const send = (i: number) =>
    client.send(new Notification(token(i), { alert: payload(i).aps.alert, threadId: "ses_1", data: { sessionID: "ses_1" } })).then(() => true)
  await drive("warm-up", 2000, send)
  const figures = await drive("apns2", count, send)
  await client.close()
  return figures
}

const nodeApnRun = async (port: number, keyPem: string, caPem: string, count: number) => {
  const apn = require("@parse/node-apn")
  const provider = new apn.MultiProvider({
    token: { key: keyPem, keyId: "SIMKEY0001", teamId: "SIMTEAM001" },
    address: "127.0.0.1",
    port,
    ca: caPem,
    production: true,
    clientCount: CONNECTIONS,
    requestTimeout: 30_000
  })
  const send = async (i: number) => {
    const note = new apn.Notification()
    note.alert = payload(i).aps.alert
    note.threadId = "ses_1"
    note.payload = { sessionID: "ses_1" }
    note.topic = TOPIC
    note.pushType = "alert"
    const result = await provider.send(note, token(i))
    return result.sent.length === 1
  }
  await drive("warm-up", 2000, send)
  const figures = await drive("@parse/node-apn", count, send)
  provider.shutdown()
  return figures
}

/** Empties the simulator's list of accepted pushes, so each client starts with the same simulator heap. */
const clearRecords = (port: number, caPem: string) =>
  new Promise<void>((resolve, reject) => {
    const request = https.request({ host: "127.0.0.1", port, path: "/pushes", method: "DELETE", ca: caPem }, (response) => {
      response.resume()
      response.on("end", () => (response.statusCode === 200 ? resolve() : reject(new Error(`DELETE /pushes: ${response.statusCode}`))))
    })
    request.on("error", reject)
    request.end()
  })

const main = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pushline-bench-apns-"))
  const sim = await startSimulatorProcess(dir)
  console.log(`bench:apns: ${PUSHES} pushes each, ${CONNECTIONS} connection(s), ${INFLIGHT} in flight, simulator in its own process on loopback, ${os.cpus().length} cores`)
  console.log(`  apns2 runs with undici pipelining ${Math.ceil(INFLIGHT / CONNECTIONS)} per connection; by default it keeps one push in flight per connection (over 32 connections)`)
  try {
    type Measured = Figures & { clientCpu: number; simulatorCpu: number }
    const measured = async (run: () => Promise<Figures>): Promise<Measured> => {
      await clearRecords(sim.port, sim.caPem)
      const [client0, sim0] = [process.cpuUsage(), cpuSeconds(sim.child.pid)]
      const figures = await run()
      const client = process.cpuUsage(client0)
      return { ...figures, clientCpu: (client.user + client.system) / 1e6, simulatorCpu: cpuSeconds(sim.child.pid) - sim0 }
    }
    const clients: Array<() => Promise<Figures>> = [
      () => pushlineRun(sim.port, sim.keyPem, sim.caPem, PUSHES),
      ...(process.env.ONLY === "pushline" ? [] : [
        () => apns2Run(sim.port, sim.keyPem, sim.caPem, PUSHES),
        () => nodeApnRun(sim.port, sim.keyPem, sim.caPem, PUSHES),
        () => floorRun(sim.port, sim.keyPem, sim.caPem, PUSHES)
      ])
    ]
    // The machine's speed drifts within minutes (other tenants of the host), so every client
    // runs once per round, the order rotating, and the ratio is taken from the median rounds.
    const byClient: Array<Array<Measured>> = clients.map(() => [])
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < clients.length; k++) {
        const i = (k + round) % clients.length
        const r = await measured(clients[i]!)
        byClient[i]!.push(r)
        console.log(
          `round ${round + 1}  ${r.name.padEnd(16)} ${r.rate.toFixed(0).padStart(7)} pushes/s   p50 ${r.p50.toFixed(1).padStart(6)} ms   p99 ${r.p99.toFixed(1).padStart(7)} ms   failed ${r.failed}` +
            `   cpu: client ${r.clientCpu.toFixed(1)} s, simulator ${r.simulatorCpu.toFixed(1)} s`
        )
      }
    }
    const median = (runs: ReadonlyArray<Measured>) => [...runs].sort((a, b) => a.rate - b.rate)[Math.floor(runs.length / 2)]!
    const medians = byClient.map(median)
    for (const r of medians) {
      console.log(`median   ${r.name.padEnd(16)} ${r.rate.toFixed(0).padStart(7)} pushes/s   p50 ${r.p50.toFixed(1).padStart(6)} ms   p99 ${r.p99.toFixed(1).padStart(7)} ms`)
    }
    const ours = medians[0]!
    if (medians.length === 1) return
    const fastest = medians.slice(1, 3).reduce((a, b) => (a.rate >= b.rate ? a : b))
    const floor = medians[3]!
    const perRound = byClient[0]!.map((r, round) => (r.rate / Math.max(byClient[1]![round]!.rate, byClient[2]![round]!.rate)).toFixed(2))
    console.log(`ratio pushline / ${fastest.name} (the faster library), medians: ${(ours.rate / fastest.rate).toFixed(2)}x (target >= 1.5x); by round: ${perRound.join(", ")}`)
    console.log(`ratio node:http2 floor / ${fastest.name}: ${(floor.rate / fastest.rate).toFixed(2)}x; pushline reaches ${(100 * ours.rate / floor.rate).toFixed(0)}% of the floor`)
  } finally {
    sim.child.kill("SIGTERM")
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})
