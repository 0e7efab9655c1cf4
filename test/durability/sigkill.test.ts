import { describe, expect, it } from "vitest"
import pg from "pg"
import { createFreshDatabase } from "../support/database.ts"
import { startRelayProcess } from "../support/relay.ts"
import { tenantOf } from "../../src/http/Authentication.ts"

const secret = "durability-secret-0123456789"

describe("relay killed with SIGKILL", () => {
  it("keeps every acknowledged event", async () => {
    const databaseUrl = await createFreshDatabase("durability")
    const relay = await startRelayProcess({ databaseUrl })
    const acknowledged = new Set<string>()
    let sent = 0
    try {
      for (let round = 0; round < 2; round++) {
        let stop = false
        // Four clients post batches as fast as they can until the relay dies under them.
        const clients = Array.from({ length: 4 }, async (_, client) => {
          while (!stop) {
            const ids = Array.from({ length: 50 }, (_, i) => `evt_r${round}_c${client}_${sent}_${i}`)
            sent++
            try {
              const response = await fetch(`${relay.url}/v1/opencode/events`, {
                method: "POST",
                headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
                body: JSON.stringify({
                  events: ids.map((id) => ({ id, type: "message.part.delta", properties: { sessionID: `ses_${client}`, delta: "x" } }))
                }),
                signal: AbortSignal.timeout(5000)
              })
              if (response.status === 202) ids.forEach((id) => acknowledged.add(id))
            } catch {
              // connection dropped by the kill: not acknowledged, may or may not be stored
            }
          }
        })
        await new Promise((resolve) => setTimeout(resolve, 700))
        await relay.kill("SIGKILL")
        stop = true
        await Promise.all(clients)
        await relay.restart()
      }
      expect(acknowledged.size).toBeGreaterThan(100)
      const client = new pg.Client({ connectionString: databaseUrl })
      await client.connect()
      const rows = (await client.query("select event_id from events where tenant = $1", [tenantOf(secret)])).rows
      await client.end()
      const stored = new Set(rows.map((row: { event_id: string }) => row.event_id))
      const lost = [...acknowledged].filter((id) => !stored.has(id))
      expect(lost).toEqual([])
      // Nothing stored twice either: ids are unique per tenant.
      expect(stored.size).toBe(rows.length)
    } finally {
      await relay.stop()
    }
  }, 120_000)
})
