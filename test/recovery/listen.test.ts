import { describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { startCluster } from "../../src/db/EmbeddedPostgres.ts"
import { waitUntil } from "../support/eventually.ts"
import { postStatus, startRelayProcess } from "../support/relay.ts"

/**
 * PostgreSQL restarts under a running relay: the LISTEN connection comes back by
 * itself (with backoff), and NOTIFY wakes the projector and sender again, seen in
 * /metrics as notifications received after the restart.
 */
const secret = "listen-secret-0123456789abc"

const metric = async (url: string, line: string): Promise<number> => {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text()
  const found = text.split("\n").find((l) => l.startsWith(`${line} `))
  return found === undefined ? 0 : Number(found.slice(line.length + 1))
}

const post = (url: string, events: ReadonlyArray<unknown>) =>
  postStatus(url, "/v1/opencode/events", { events }, { authorization: `Bearer ${secret}` }).catch(() => 0)

const status = (n: number, type: "busy" | "idle") => ({ id: `evt_${String(n).padStart(12, "0")}listen`, type: "session.status", properties: { sessionID: "ses_listen", status: { type } } })

describe("LISTEN across a PostgreSQL restart", () => {
  it("reconnects with backoff and NOTIFY wakes projector and sender again", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pushline-listen-"))
    fs.chmodSync(dir, 0o755)
    let { cluster, stop } = await startCluster({ dataDir: dir, fsync: false })
    const relay = await startRelayProcess({ databaseUrl: cluster.url, env: { PUSHLINE_THROTTLE_MS: "300" } })
    try {
      const notified = () => metric(relay.url, 'pushline_notifications_total{channel="pushline_events"}')
      expect(await metric(relay.url, "pushline_listen_connected")).toBe(1)
      expect(await post(relay.url, [status(1, "busy")])).toBe(202)
      await waitUntil(async () => expect(await notified()).toBeGreaterThanOrEqual(1))
      const before = await notified()

      await stop()
      await waitUntil(async () => expect(await metric(relay.url, "pushline_listen_connected")).toBe(0), 20_000)
      ;({ cluster, stop } = await startCluster({ dataDir: dir, fsync: false, port: cluster.port }))
      await waitUntil(async () => expect(await metric(relay.url, "pushline_listen_reconnects_total")).toBe(1), 30_000)
      expect(await metric(relay.url, "pushline_listen_connected")).toBe(1)

      // Appended after the restart: its NOTIFY arrives, and the projector folds it.
      await waitUntil(async () => expect(await post(relay.url, [status(2, "idle")])).toBe(202), 20_000)
      await waitUntil(async () => expect(await notified()).toBeGreaterThan(before), 10_000)
      await waitUntil(async () => {
        const ready = await (await fetch(`${relay.url}/ready`)).json() as { projector: { lagEvents: number } }
        expect(ready.projector.lagEvents).toBe(0)
      }, 10_000)
      // One line per lost connection and per reconnect, not one per failed attempt at full speed.
      const lines = relay.output().split("\n")
      const attempts = lines.filter((l) => l.includes("LISTEN: cannot connect")).length
      expect(lines.filter((l) => l.includes("LISTEN: reconnected")).length).toBe(1)
      expect(attempts).toBeLessThan(40)
    } finally {
      await relay.stop()
      await stop()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
