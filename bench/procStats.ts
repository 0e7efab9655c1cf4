/**
 * What Linux's /proc says of a process, for the benches: CPU used and resident
 * memory. NaN when the process is gone or /proc is not there.
 */
import * as fs from "node:fs"

/** Utime + stime of /proc/<pid>/stat and the parent pid (fields after the command name). */
const statOf = (pid: number | string) => {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return { parent: Number(fields[1]), seconds: (Number(fields[11]) + Number(fields[12])) / 100 }
}

/** CPU seconds (user + system) a process has used. */
export const cpuSeconds = (pid: number | undefined): number => {
  try {
    return pid === undefined ? Number.NaN : statOf(pid).seconds
  } catch {
    return Number.NaN
  }
}

/** CPU seconds of `root` and its children (a server and the workers it forked, as PostgreSQL's). */
export const treeCpuSeconds = (root: number): number => {
  let seconds = 0
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = statOf(entry)
      if (Number(entry) === root || stat.parent === root) seconds += stat.seconds
    } catch {
      // gone meanwhile
    }
  }
  return seconds
}

/** Resident memory in KiB. */
export const rssKb = (pid: number): number => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? Number.NaN)
  } catch {
    return Number.NaN
  }
}
