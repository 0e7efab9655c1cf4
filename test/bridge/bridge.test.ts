import { Duration, Effect, Fiber, Logger } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { bridgeProgram, bridgeSettings, type BridgeSettings } from "../../src/bridge/Bridge.ts"
import { sourceTimeFromId } from "../../domain/OpenCodeEventId.ts"
import { frame, startFakeOpenCode, startRecordingRelay, tempDir, waitUntil, type FakeOpenCode, type RecordingRelay } from "./support.ts"

const secret = "bridge-test-secret-0123456789"
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const setup = async () => {
  const opencode = await startFakeOpenCode()
  const relay = await startRecordingRelay()
  const dir = tempDir("bridge")
  cleanups.push(() => opencode.close(), () => relay.close(), () => fs.rmSync(dir, { recursive: true, force: true }))
  return { opencode, relay, dir }
}

/** Runs the bridge in this process; the returned stop interrupts it (a restart is stop + run). */
const runBridge = (env: { opencode: FakeOpenCode; relay: RecordingRelay; dir: string }, overrides: Partial<BridgeSettings> = {}) => {
  const logs: Array<string> = []
  const settings = bridgeSettings(
    { opencode: { url: env.opencode.url }, relay: { url: env.relay.url, secret, serverID: "test-server" }, spoolDir: path.join(env.dir, "spool") },
    { backoffBase: Duration.millis(20), backoffMax: Duration.millis(200), linger: Duration.millis(20), ...overrides }
  )
  const logger = Logger.make(({ message }) => logs.push(String(Array.isArray(message) ? message.join(" ") : message)))
  const fiber = Effect.runFork(bridgeProgram(settings).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger))))
  const stop = () => Effect.runPromise(Fiber.interrupt(fiber)).then(() => undefined)
  cleanups.push(stop)
  return { logs, stop }
}

const busy = (n: number, session = "ses_a") => frame(`evt_${String(n).padStart(4, "0")}`, "session.status", { sessionID: session, status: { type: "busy" } })

describe("bridge", () => {
  it("forwards frames in batches with seenAt, skipping sync and server frames, after a status snapshot", async () => {
    const env = await setup()
    env.opencode.statuses = { ses_running: { type: "busy" } }
    runBridge(env)
    await waitUntil("connected", () => env.opencode.connections() === 1)
    const before = Date.now()
    env.opencode.send(
      { payload: { type: "server.heartbeat", properties: {} } },
      frame("evt_sync", "sync", { name: "x" }),
      ...Array.from({ length: 50 }, (_, i) => busy(i))
    )
    await waitUntil("all delivered", () => env.relay.events().length === 51)
    const events = env.relay.events()
    // The snapshot first: a synthetic status for the running session, with a time-prefixed id.
    expect(events[0].payload).toMatchObject({ type: "session.status", properties: { sessionID: "ses_running", status: { type: "busy" } } })
    expect(Math.abs(sourceTimeFromId(events[0].payload.id, Date.now())! - events[0].seenAt)).toBeLessThan(5)
    expect(events.slice(1).map((e) => e.payload.id)).toEqual(Array.from({ length: 50 }, (_, i) => `evt_${String(i).padStart(4, "0")}`))
    for (const event of events.slice(1)) {
      expect(event.seenAt).toBeGreaterThanOrEqual(before)
      expect(event.directory).toBe("/work/project")
    }
    // Sent in few batches, not one request per event.
    expect(env.relay.batches.length).toBeLessThanOrEqual(4)
    expect(env.relay.batches[0]).toMatchObject({ serverID: "test-server", authorization: `Bearer ${secret}` })
  })

  it("keeps what the relay did not acknowledge in the spool across a restart, and delivers it", async () => {
    const env = await setup()
    env.relay.answer = () => ({ status: 503, body: { ok: false, error: "database unavailable" } })
    const first = runBridge(env)
    await waitUntil("connected", () => env.opencode.connections() === 1)
    env.opencode.send(...Array.from({ length: 30 }, (_, i) => busy(i)))
    await waitUntil("spooled", () => fs.readFileSync(path.join(env.dir, "spool", "segment-0.jsonl"), "utf8").split("\n").length > 30)
    await first.stop()
    expect(env.relay.events()).toEqual([])

    env.relay.answer = (body) => ({ status: 202, body: { ok: true, accepted: body.events.length, duplicates: 0 } })
    const second = runBridge(env)
    await waitUntil("delivered after restart", () => env.relay.events().filter((e) => e.payload.id.startsWith("evt_00")).length === 30)
    expect(second.logs.some((line) => /30 events from before/.test(line))).toBe(true)
    // Stopping before the 202 is read would rightly send them again (at-least-once): wait for the ack.
    await waitUntil("acknowledged in the spool", () => {
      const spoolDir = path.join(env.dir, "spool")
      if (!fs.existsSync(path.join(spoolDir, "state.json"))) return false
      const state = JSON.parse(fs.readFileSync(path.join(spoolDir, "state.json"), "utf8"))
      return state.offset === fs.statSync(path.join(spoolDir, `segment-${state.segment}.jsonl`)).size
    })
    // Acknowledged: a third start sends nothing again.
    await second.stop()
    const count = env.relay.events().length
    runBridge(env)
    await waitUntil("reconnected", () => env.opencode.connections() === 3)
    // A new event after the restart: the spool is FIFO, so once it arrives anything left
    // from before would have arrived ahead of it.
    env.opencode.send(busy(1000))
    await waitUntil("the marker delivered", () => env.relay.events().some((e) => e.payload.id === busy(1000).payload.id))
    expect(env.relay.events().filter((e) => e.payload.id.startsWith("evt_00")).length).toBe(30)
    // Besides the marker only status snapshot events (ids time-prefixed at each connect): a
    // bridge stopped before it saved its list of busy sessions says "idle" again.
    const sent = env.relay.events().slice(count).map((e) => e.payload)
    expect(sent.filter((p) => p.id === busy(1000).payload.id || p.id.startsWith("evt_00")).map((p) => p.id)).toEqual([busy(1000).payload.id])
    expect(sent.filter((p) => p.id !== busy(1000).payload.id).every((p) => p.type === "session.status" && p.properties.status.type === "idle")).toBe(true)
  })

  it("is bounded: when full it drops the oldest and says so loudly", async () => {
    const env = await setup()
    env.relay.answer = () => ({ status: 503, body: { ok: false, error: "down" } })
    const bridge = runBridge(env, { limits: { maxEvents: 10, maxBytes: 1024 * 1024 } })
    await waitUntil("connected", () => env.opencode.connections() === 1)
    env.opencode.send(...Array.from({ length: 25 }, (_, i) => busy(i)))
    await waitUntil("full", () => bridge.logs.some((line) => line.includes("SPOOL FULL")))
    await new Promise((resolve) => setTimeout(resolve, 100))
    env.relay.answer = (body) => ({ status: 202, body: { ok: true, accepted: body.events.length, duplicates: 0 } })
    await waitUntil("the newest delivered", () => env.relay.events().some((e) => e.payload.id === "evt_0024"))
    expect(env.relay.events().map((e) => e.payload.id)).toEqual(Array.from({ length: 10 }, (_, i) => `evt_${String(15 + i).padStart(4, "0")}`))
  })

  it("after a reconnect, resynchronises: sessions that went idle unseen get a synthetic idle", async () => {
    const env = await setup()
    runBridge(env)
    await waitUntil("connected", () => env.opencode.connections() === 1)
    env.opencode.send(busy(1, "ses_a"), busy(2, "ses_b"))
    await waitUntil("delivered", () => env.relay.events().length === 2)
    // While disconnected, ses_a finished and ses_b is retrying.
    env.opencode.statuses = { ses_b: { type: "retry", attempt: 1, message: "rate limited", next: Date.now() + 1000 } }
    env.opencode.dropConnections()
    await waitUntil("reconnected and resynchronised", () => env.relay.events().length === 4)
    const snapshot = env.relay.events().slice(2).map((e) => [e.payload.properties.sessionID, e.payload.properties.status.type])
    expect(snapshot.sort()).toEqual([["ses_a", "idle"], ["ses_b", "retry"]])
    for (const event of env.relay.events().slice(2)) expect(event.payload.id > "evt_0002").toBe(true)
  })

  it("drops only the event the relay names as invalid, and halves batches the relay finds too large", async () => {
    const env = await setup()
    let tooLarge = true
    env.relay.answer = (body) => {
      if (body.events.length > 5 && tooLarge) return { status: 413, body: { ok: false, error: "body too large" } }
      tooLarge = false
      const bad = body.events.findIndex((e: any) => e.payload.id === "evt_0003")
      if (bad >= 0) return { status: 400, body: { ok: false, error: `events[${bad}].payload.type: is required` } }
      return { status: 202, body: { ok: true, accepted: body.events.length, duplicates: 0 } }
    }
    const bridge = runBridge(env, { linger: Duration.millis(100) })
    await waitUntil("connected", () => env.opencode.connections() === 1)
    env.opencode.send(...Array.from({ length: 8 }, (_, i) => busy(i)))
    await waitUntil("delivered", () => env.relay.events().length === 7)
    expect(env.relay.events().map((e) => e.payload.id)).not.toContain("evt_0003")
    expect(bridge.logs.some((line) => line.includes("invalid") && line.includes("evt_0003"))).toBe(true)
  })

  it("--redact forwards statuses only, without text", async () => {
    const env = await setup()
    runBridge(env, { redact: true })
    await waitUntil("connected", () => env.opencode.connections() === 1)
    env.opencode.send(
      frame("evt_0001", "session.updated", { sessionID: "ses_a", info: { id: "ses_a", title: "secret plan", time: { created: 1 } } }),
      frame("evt_0002", "message.part.updated", { sessionID: "ses_a", part: { type: "text", text: "the secret answer" } }),
      frame("evt_0003", "message.part.delta", { sessionID: "ses_a", delta: "secret" }),
      frame("evt_0004", "permission.asked", { id: "per_1", sessionID: "ses_a", permission: "bash", patterns: ["cat secret.txt"], metadata: { command: "cat secret.txt" } }),
      busy(5)
    )
    await waitUntil("delivered", () => env.relay.events().some((e) => e.payload.id === "evt_0005"))
    const events = env.relay.events()
    expect(events.map((e) => e.payload.id)).toEqual(["evt_0001", "evt_0004", "evt_0005"])
    expect(JSON.stringify(events)).not.toContain("secret")
    expect(events[1].payload.properties).toMatchObject({ id: "per_1", sessionID: "ses_a", permission: "bash" })
  })
})
