import { describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { startRelayProcess } from "../support/relay.ts"

const secret = "postmaster-kill-secret-0123456789"
const auth = { "content-type": "application/json", authorization: `Bearer ${secret}` }

const post = async (url: string, ids: ReadonlyArray<string>) => {
  const response = await fetch(`${url}/v1/opencode/events`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ events: ids.map((id) => ({ id, type: "session.status", properties: { sessionID: "ses_pm", status: { type: "busy" } } })) }),
    signal: AbortSignal.timeout(10_000)
  }).catch(() => undefined)
  return response === undefined ? { status: 0, body: undefined } : { status: response.status, body: await response.json() as any }
}

describe("the embedded PostgreSQL killed under a running relay", () => {
  it("is started again by the relay: 503 while it is down, then every event is stored, and the relay never exits", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pushline-postmaster-"))
    fs.chmodSync(dataDir, 0o755)
    // DATABASE_URL empty is unset: the relay runs its own cluster in the data dir.
    const relay = await startRelayProcess({ databaseUrl: "", env: { PUSHLINE_DATA_DIR: dataDir }, startTimeoutMs: 90_000 })
    try {
      expect((await post(relay.url, ["evt_pm_before"])).status).toBe(202)
      const postmaster = Number.parseInt(fs.readFileSync(path.join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0]!, 10)
      process.kill(postmaster, "SIGKILL")

      const statuses = new Set<number>()
      let stored = false
      for (let i = 0; i < 300 && !stored; i++) {
        const answer = await post(relay.url, ["evt_pm_after"])
        statuses.add(answer.status)
        stored = answer.status === 202
        if (!stored) await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(stored).toBe(true)
      // Down: only "database unavailable" (the relay's own answer), never a 500 or a dropped connection.
      expect([...statuses].filter((status) => status !== 202 && status !== 503)).toEqual([])
      // Both events are in the log: posted again, both are duplicates. (A pooled connection
      // to the killed cluster may still answer one more 503, as a client retries past.)
      let again = await post(relay.url, ["evt_pm_before", "evt_pm_after"])
      for (let i = 0; i < 50 && again.status === 503; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100))
        again = await post(relay.url, ["evt_pm_before", "evt_pm_after"])
      }
      expect(again).toMatchObject({ status: 202, body: { accepted: 0, duplicates: 2 } })
      expect(relay.output()).toContain("embedded PostgreSQL exited unexpectedly (SIGKILL)")
      expect(relay.output()).toContain("embedded PostgreSQL: restarted on 127.0.0.1:")
      expect((await fetch(`${relay.url}/ready`)).status).toBe(200)
    } finally {
      await relay.stop()
      expect(relay.output()).toContain("[relay exited: 0]")
      fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }, 180_000)
})
