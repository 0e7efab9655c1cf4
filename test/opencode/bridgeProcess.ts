import { type ChildProcess, spawn } from "node:child_process"
import { binEnv, pushlineBin, root } from "../support/pushlineBin.ts"

/** `pushline bridge` as a child process (the command the user runs). */
export interface BridgeProcess {
  readonly output: () => string
  readonly stop: () => Promise<void>
}

export const startBridgeProcess = (args: ReadonlyArray<string>, env: Record<string, string> = {}): BridgeProcess => {
  let log = ""
  const child: ChildProcess = spawn(pushlineBin, ["bridge", ...args], {
    cwd: root,
    env: binEnv({ ...process.env, ...env }),
    stdio: ["ignore", "pipe", "pipe"]
  })
  child.stdout?.on("data", (chunk: Buffer) => (log += chunk.toString()))
  child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()))
  const onExit = () => child.kill("SIGKILL")
  process.once("exit", onExit)
  return {
    output: () => log,
    stop: async () => {
      process.removeListener("exit", onExit)
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
      child.kill("SIGTERM")
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000)
      await exited
      clearTimeout(timer)
    }
  }
}
