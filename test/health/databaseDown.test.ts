import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { startCluster } from "../../src/db/EmbeddedPostgres.ts"
import { clusterPids, signalAll } from "../support/clusterProcesses.ts"
import { freePort } from "../support/relay.ts"
import { request, RelayUrl, testServerLayer } from "../support/server.ts"

describe("database outage", () => {
  it.live("answers 503 while PostgreSQL is down and recovers by itself when it is back", () =>
    Effect.gen(function*() {
      const dataDir = yield* Effect.promise(async () => {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "pushline-outage-"))
        await fs.chmod(dir, 0o755)
        return dir
      })
      const port = yield* Effect.promise(() => freePort())
      let running = yield* Effect.promise(() => startCluster({ dataDir, port, fsync: false }))
      const url = running.cluster.url
      const secret = "outage-secret-0123456789"
      const post = (base: string, id: string) =>
        request(base, "POST", "/v1/opencode/events", { events: [{ id, type: "session.idle", properties: { sessionID: "s" } }] }, {
          authorization: `Bearer ${secret}`
        })

      yield* Effect.gen(function*() {
        const base = yield* RelayUrl
        expect((yield* post(base, "evt_before")).status).toBe(202)

        yield* Effect.promise(() => running.stop())
        const down = yield* post(base, "evt_during")
        expect(down).toEqual({
          status: 503,
          body: { _tag: "DatabaseUnavailable", ok: false, error: "the database is unavailable; nothing was stored, retry later" }
        })
        expect((yield* request(base, "GET", "/health")).status).toBe(503)

        running = yield* Effect.promise(() => startCluster({ dataDir, port, fsync: false }))
        // The pool reconnects on its own: no restart of the relay.
        let status = 0
        for (let attempt = 0; attempt < 50 && status !== 202; attempt++) {
          status = (yield* post(base, "evt_after")).status
          if (status !== 202) yield* Effect.sleep("100 millis")
        }
        expect(status).toBe(202)
        expect((yield* request(base, "GET", "/health")).status).toBe(200)
      }).pipe(
        Effect.provide(testServerLayer({ databaseUrl: Option.some(Redacted.make(url)) }, url)),
        Effect.ensuring(Effect.promise(async () => {
          await running.stop().catch(() => {})
          await fs.rm(dataDir, { recursive: true, force: true })
        }))
      )
    }), 60_000)

  it.live("a stalled PostgreSQL (every process stopped) answers 503 within the statement timeout, and recovers when it resumes", () =>
    Effect.gen(function*() {
      const dataDir = yield* Effect.promise(async () => {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "pushline-stall-"))
        await fs.chmod(dir, 0o755)
        return dir
      })
      const running = yield* Effect.promise(() => startCluster({ dataDir, fsync: false }))
      const url = running.cluster.url
      const secret = "stall-secret-0123456789"
      const post = (base: string, id: string) =>
        request(base, "POST", "/v1/opencode/events", { events: [{ id, type: "session.idle", properties: { sessionID: "s" } }] }, {
          authorization: `Bearer ${secret}`
        })
      let pids: Array<number> = []
      const signal = (name: NodeJS.Signals) => Effect.sync(() => signalAll(pids, name))

      yield* Effect.gen(function*() {
        const base = yield* RelayUrl
        expect((yield* post(base, "evt_before")).status).toBe(202)
        // Read once the relay's connections exist: their backends are stopped too.
        pids = (yield* Effect.promise(() => clusterPids(dataDir))).all
        expect(pids.length).toBeGreaterThan(1)
        yield* signal("SIGSTOP")
        const started = Date.now()
        const stalled = yield* post(base, "evt_stalled")
        const tookMs = Date.now() - started
        expect(stalled.status).toBe(503)
        expect(stalled.body._tag).toBe("DatabaseUnavailable")
        // 1 s on the server (which is stopped), then 1 s more on the client; a new connection waits 5 s.
        expect(tookMs).toBeLessThan(8_000)
        yield* signal("SIGCONT")
        let status = 0
        for (let attempt = 0; attempt < 100 && status !== 202; attempt++) {
          status = (yield* post(base, "evt_after")).status
          if (status !== 202) yield* Effect.sleep("100 millis")
        }
        expect(status).toBe(202)
      }).pipe(
        Effect.provide(testServerLayer({ databaseUrl: Option.some(Redacted.make(url)), statementTimeoutMs: 1000 }, url)),
        Effect.ensuring(Effect.promise(async () => {
          signalAll(pids, "SIGCONT")
          await running.stop().catch(() => {})
          await fs.rm(dataDir, { recursive: true, force: true })
        }))
      )
    }), 60_000)
})
