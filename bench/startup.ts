/**
 * Start-up figures: `pushline --help`, and `npm start` until /health answers on an
 * existing data dir (embedded PostgreSQL, local APNs simulator), each run RUNS times
 * (default 5), medians printed; `node -e 0` measured in the same run as the baseline.
 * Targets: --help <= 1 s, start to healthy <= 3 s.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { freePort } from "../src/db/EmbeddedPostgres.ts"

const RUNS = Number(process.env.RUNS ?? 5)
const root = path.resolve(import.meta.dirname, "..")
const bin = path.join(root, "bin/pushline.mjs")
const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}` }

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const timed = (command: string, args: ReadonlyArray<string>) => {
  const started = performance.now()
  const result = spawnSync(command, args, { env, stdio: "ignore" })
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${result.status}`)
  return performance.now() - started
}

const startToHealthy = async (dataDir: string) => {
  const port = await freePort()
  const started = performance.now()
  const child = spawn("npm", ["start"], { cwd: root, env: { ...env, PORT: String(port), HOST: "127.0.0.1", PUSHLINE_DATA_DIR: dataDir }, stdio: "ignore" })
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  let healthyAfter: number | undefined
  while (healthyAfter === undefined) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode} before it was healthy`)
    if (performance.now() - started > 60_000) throw new Error("not healthy within 60 s")
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) })
      if (response.ok) healthyAfter = performance.now() - started
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  const stopping = performance.now()
  child.kill("SIGTERM")
  const code = await exited
  return { healthyAfter, stopMs: performance.now() - stopping, code }
}

const main = async () => {
  const baseline = Array.from({ length: RUNS }, () => timed(process.execPath, ["-e", "0"]))
  const help = Array.from({ length: RUNS }, () => timed(bin, ["--help"]))
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pushline-startup-"))
  fs.chmodSync(dataDir, 0o755)
  try {
    const first = await startToHealthy(dataDir)
    const runs = []
    for (let i = 0; i < RUNS; i++) runs.push(await startToHealthy(dataDir))
    const ms = (value: number) => `${value.toFixed(0)} ms`
    console.log(`node      : ${process.version}, ${RUNS} runs each, medians`)
    console.log(`baseline  : node -e 0 ${ms(median(baseline))}`)
    console.log(`--help    : ${ms(median(help))} (${(median(help) / median(baseline)).toFixed(1)}x node -e 0; target <= 1000 ms) runs ${help.map(ms).join(", ")}`)
    console.log(`new dir   : npm start to healthy ${ms(first.healthyAfter)} (initialises the cluster)`)
    console.log(`start     : npm start to healthy on an existing data dir ${ms(median(runs.map((r) => r.healthyAfter)))} (${(median(runs.map((r) => r.healthyAfter)) / median(baseline)).toFixed(1)}x node -e 0; target <= 3000 ms) runs ${runs.map((r) => ms(r.healthyAfter)).join(", ")}`)
    console.log(`stop      : SIGTERM to exit ${ms(median(runs.map((r) => r.stopMs)))}, exit codes ${[...new Set(runs.map((r) => r.code))].join(", ")}`)
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

main().then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})
