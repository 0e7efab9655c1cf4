import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { freePort } from "../../src/db/EmbeddedPostgres.ts"

/**
 * A real `opencode serve` (the `opencode-ai` devDependency), isolated in a temp
 * HOME and XDG dirs, offline, with its model pointed at the local mock model.
 * Its project directories are created under the same temp dir; `plugins` puts
 * files into a directory's `.opencode/plugins/`.
 */
export interface OpenCodeServer {
  readonly url: string
  readonly root: string
  readonly output: () => string
  /** A project directory (created on first use) with optional plugin files. */
  readonly project: (name: string, plugins?: Record<string, string>) => string
  readonly stop: () => Promise<void>
}

export interface OpenCodeServerOptions {
  readonly modelBaseURL: string
  readonly env?: Record<string, string>
  readonly password?: string
  readonly startTimeoutMs?: number
}

const repoRoot = path.resolve(import.meta.dirname, "../..")
export const openCodeBinary = path.join(repoRoot, "node_modules/.bin/opencode")

/** Why the real server cannot run here, or undefined when it can. */
export const openCodeUnavailable = (): string | undefined => {
  if (process.platform === "linux" && process.arch === "x64") return undefined
  if (fs.existsSync(openCodeBinary)) return undefined
  return `opencode-ai has no binary for ${process.platform}-${process.arch}: the real-OpenCode end-to-end tests cannot run on this platform`
}

const config = (modelBaseURL: string) => ({
  $schema: "https://opencode.ai/config.json",
  model: "mock/mock-model",
  small_model: "mock/mock-model",
  autoupdate: false,
  share: "disabled",
  provider: {
    mock: {
      npm: "@ai-sdk/openai-compatible",
      name: "Mock",
      options: { baseURL: modelBaseURL, apiKey: "mock-key" },
      models: { "mock-model": { name: "Mock model", tool_call: true, limit: { context: 100000, output: 4000 } } }
    }
  },
  // Every bash call asks, so the tool scenarios see permission.asked.
  permission: { bash: "ask" }
})

/** Ends the whole process group (opencode may start helpers). */
const killGroup = (child: ChildProcess, signal: NodeJS.Signals) => {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

export const startOpenCodeServer = async (options: OpenCodeServerOptions): Promise<OpenCodeServer> => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "pushline-opencode-"))
  const home = path.join(root, "home")
  const xdg = {
    XDG_CONFIG_HOME: path.join(home, ".config"),
    XDG_DATA_HOME: path.join(home, ".local/share"),
    XDG_CACHE_HOME: path.join(home, ".cache"),
    XDG_STATE_HOME: path.join(home, ".local/state")
  }
  for (const dir of Object.values(xdg)) fs.mkdirSync(dir, { recursive: true })
  fs.mkdirSync(path.join(xdg.XDG_CONFIG_HOME, "opencode"), { recursive: true })
  fs.writeFileSync(path.join(xdg.XDG_CONFIG_HOME, "opencode", "opencode.json"), JSON.stringify(config(options.modelBaseURL), null, 2))

  const port = await freePort()
  let log = ""
  const child = spawn(openCodeBinary, ["serve", "--port", String(port), "--hostname", "127.0.0.1"], {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home,
      ...xdg,
      OPENCODE_DISABLE_AUTOUPDATE: "1",
      OPENCODE_DISABLE_MODELS_FETCH: "1",
      OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
      OPENCODE_DISABLE_SHARE: "1",
      OPENCODE_DISABLE_CLAUDE_CODE: "1",
      ...(options.password === undefined ? {} : { OPENCODE_SERVER_PASSWORD: options.password }),
      ...options.env
    }
  })
  child.stdout?.on("data", (chunk: Buffer) => (log += chunk.toString()))
  child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()))
  // A test runner that dies must not leave opencode behind.
  const onExit = () => killGroup(child, "SIGKILL")
  process.once("exit", onExit)

  const stop = async () => {
    process.removeListener("exit", onExit)
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
      killGroup(child, "SIGTERM")
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), 3000)
      await exited
      clearTimeout(timer)
    }
    killGroup(child, "SIGKILL")
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 })
  }

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000)
  try {
    while (!/listening on/i.test(log)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`opencode exited before listening:\n${log}`)
      if (Date.now() > deadline) throw new Error(`opencode did not listen within the timeout:\n${log}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  } catch (error) {
    await stop()
    throw error
  }

  const projects = new Map<string, string>()
  return {
    url: `http://127.0.0.1:${port}`,
    root,
    output: () => log,
    project: (name, plugins = {}) => {
      const existing = projects.get(name)
      if (existing !== undefined) return existing
      const dir = path.join(root, "projects", name)
      fs.mkdirSync(dir, { recursive: true })
      for (const [file, text] of Object.entries(plugins)) {
        fs.mkdirSync(path.join(dir, ".opencode", "plugins"), { recursive: true })
        fs.writeFileSync(path.join(dir, ".opencode", "plugins", file), text)
      }
      projects.set(name, dir)
      return dir
    },
    stop
  }
}
