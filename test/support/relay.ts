import { type ChildProcess, spawn } from "node:child_process"
import { freePort } from "../../src/db/EmbeddedPostgres.ts"
import { binEnv, pushlineBin, root } from "./pushlineBin.ts"

export { freePort }

/**
 * Runs the real relay as a separate process (`pushline serve`), so tests can
 * kill it with SIGKILL and start it again on the same port and database.
 */
export interface RelayProcess {
  readonly url: string
  readonly port: number
  /** The current relay process's pid. */
  readonly pid: () => number
  /** Everything the current process printed so far. */
  readonly output: () => string
  readonly kill: (signal?: NodeJS.Signals) => Promise<void>
  readonly restart: () => Promise<void>
  readonly stop: () => Promise<void>
}

export interface RelayProcessOptions {
  readonly databaseUrl: string
  readonly env?: Record<string, string>
  /** false: the relay sees only `env` (and PATH), not this process's environment. */
  readonly inheritEnv?: boolean
  readonly port?: number
  readonly startTimeoutMs?: number
}

const waitForHealth = async (url: string, child: ChildProcess, timeoutMs: number, output: () => string) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`relay exited before it was healthy:\n${output()}`)
    }
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })
      if (response.ok) return
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`relay was not healthy within ${timeoutMs} ms:\n${output()}`)
}

export const startRelayProcess = async (options: RelayProcessOptions): Promise<RelayProcess> => {
  const port = options.port ?? (await freePort())
  const url = `http://127.0.0.1:${port}`
  let child: ChildProcess | undefined
  let log = ""
  const launch = async () => {
    log = ""
    // The bin runs the relay in its own process, so a signal hits the relay itself.
    const proc = spawn(pushlineBin, ["serve"], {
      cwd: root,
      env: binEnv({
        ...(options.inheritEnv === false ? { PATH: process.env.PATH } : process.env),
        PORT: String(port),
        HOST: "127.0.0.1",
        DATABASE_URL: options.databaseUrl,
        ...options.env
      }),
      stdio: ["ignore", "pipe", "pipe"]
    })
    proc.stdout?.on("data", (chunk: Buffer) => (log += chunk.toString()))
    proc.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()))
    child = proc
    await waitForHealth(url, proc, options.startTimeoutMs ?? 30_000, () => log)
  }
  const kill = async (signal: NodeJS.Signals = "SIGKILL") => {
    const proc = child
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return
    // "close", not "exit": the output the process wrote last (its shutdown lines) is read by then.
    await new Promise<void>((resolve) => {
      proc.once("close", (code, signal) => {
        log += `[relay exited: ${signal ?? code}]\n`
        resolve()
      })
      proc.kill(signal)
    })
  }
  await launch()
  return {
    url,
    port,
    pid: () => child?.pid ?? 0,
    output: () => log,
    kill,
    restart: launch,
    stop: () => kill("SIGTERM")
  }
}

/** POSTs JSON to a relay process and gives the status (a test decides what a network error means). */
export const postStatus = async (url: string, pathName: string, body: unknown, headers: Record<string, string> = {}) => {
  const response = await fetch(`${url}${pathName}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000)
  })
  return response.status
}
