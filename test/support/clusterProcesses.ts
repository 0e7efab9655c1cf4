import * as fs from "node:fs/promises"
import * as path from "node:path"

/**
 * An embedded cluster's processes, read from its postmaster.pid and /proc: the postmaster
 * and every process it started (its backends and workers), to stop or kill them all.
 */
export const clusterPids = async (dataDir: string) => {
  const postmaster = Number.parseInt((await fs.readFile(path.join(dataDir, "postgres", "postmaster.pid"), "utf8")).split("\n")[0]!, 10)
  const children: Array<number> = []
  for (const entry of await fs.readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    const stat = await fs.readFile(`/proc/${entry}/stat`, "utf8").catch(() => "")
    // pid (comm) state ppid ...: the command may hold spaces, so read after its ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
    if (ppid === postmaster) children.push(Number(entry))
  }
  return { postmaster, all: [postmaster, ...children] }
}

/** Sends `signal` to each of `pids` that still exists. */
export const signalAll = (pids: ReadonlyArray<number>, signal: NodeJS.Signals) =>
  pids.forEach((pid) => {
    try {
      process.kill(pid, signal)
    } catch {
      // gone already
    }
  })
