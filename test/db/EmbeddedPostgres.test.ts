import { describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import pg from "pg"
import { findRunningCluster, startCluster } from "../../src/db/EmbeddedPostgres.ts"

const query = async (url: string, text: string) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(text)).rows
  } finally {
    await client.end()
  }
}

const tempDir = async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "pushline-embedded-"))
  await fs.chmod(dir, 0o755)
  return dir
}

const pidOf = async (dataDir: string) =>
  Number.parseInt((await fs.readFile(path.join(dataDir, "postgres", "postmaster.pid"), "utf8")).split("\n")[0]!, 10)

describe("embedded PostgreSQL", () => {
  it("keeps data across restarts and recovers from a stale postmaster.pid", async () => {
    const dataDir = await tempDir()
    try {
      // The crash takes the relay with it: nothing restarts this cluster in between.
      const first = await startCluster({ dataDir, fsync: false, restart: false })
      await query(first.cluster.url, "create table kept (v int); insert into kept values (42)")
      expect(await findRunningCluster(dataDir)).toEqual(first.cluster)

      // The machine "crashed": postgres died without cleaning up its pid file.
      const pid = await pidOf(dataDir)
      process.kill(pid, "SIGKILL")
      while (await fs.access(`/proc/${pid}`).then(() => true, () => false)) await new Promise((r) => setTimeout(r, 50))
      expect(await fs.access(path.join(dataDir, "postgres", "postmaster.pid")).then(() => true, () => false)).toBe(true)

      const second = await startCluster({ dataDir, fsync: false })
      expect(await query(second.cluster.url, "select v from kept")).toEqual([{ v: 42 }])
      await second.stop()
      expect(await findRunningCluster(dataDir)).toBeUndefined()
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true })
    }
  })

  it("stops a server left running by a relay killed with SIGKILL, then starts", async () => {
    const dataDir = await tempDir()
    try {
      const orphan = await startCluster({ dataDir, fsync: false, restart: false })
      const orphanPid = await pidOf(dataDir)
      // No stop(): the previous owner vanished, its postgres lives on.
      const next = await startCluster({ dataDir, fsync: false })
      expect(await pidOf(dataDir)).not.toBe(orphanPid)
      expect(await query(next.cluster.url, "select 1 as one")).toEqual([{ one: 1 }])
      expect(next.cluster.port).not.toBe(orphan.cluster.port)
      await next.stop()
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true })
    }
  })

  it("a postmaster killed under a running relay is started again on the same port, its data kept", async () => {
    const dataDir = await tempDir()
    const lines: Array<string> = []
    try {
      const running = await startCluster({ dataDir, fsync: false, log: (line) => lines.push(line), logError: (line) => lines.push(`ERROR ${line}`) })
      await query(running.cluster.url, "create table kept (v int); insert into kept values (7)")
      const pid = await pidOf(dataDir)
      process.kill(pid, "SIGKILL")
      let rows: Array<unknown> | undefined
      for (let i = 0; i < 300 && rows === undefined; i++) {
        rows = await query(running.cluster.url, "select v from kept").catch(() => undefined)
        if (rows === undefined) await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(rows).toEqual([{ v: 7 }])
      expect(await pidOf(dataDir)).not.toBe(pid)
      expect(lines).toContain(`ERROR embedded PostgreSQL exited unexpectedly (SIGKILL); restarting it on port ${running.cluster.port}`)
      expect(lines).toContain(`embedded PostgreSQL: restarted on 127.0.0.1:${running.cluster.port}`)
      await running.stop()
      expect(await findRunningCluster(dataDir)).toBeUndefined()
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true })
    }
  })
})
