import * as fs from "node:fs"

/**
 * One process per spool directory: a second OpenCode on the same project gets a
 * directory of its own (`<base>-<pid>`) instead of appending to the first one's
 * files. A lock left by a dead process is taken over.
 */
export const lockSpool = (base: string): string => {
  const tryLock = (dir: string): string | undefined => {
    fs.mkdirSync(dir, { recursive: true })
    const lock = `${dir}/owner.pid`
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: "wx" })
      return dir
    } catch {
      const owner = Number(fs.readFileSync(lock, "utf8"))
      let alive = false
      try {
        process.kill(owner, 0)
        alive = owner !== process.pid
      } catch {
        alive = false
      }
      if (alive) return undefined
      fs.writeFileSync(lock, String(process.pid))
      return dir
    }
  }
  return tryLock(base) ?? tryLock(`${base}-${process.pid}`)!
}
