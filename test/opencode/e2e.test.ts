import * as fs from "node:fs"
import * as path from "node:path"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { tenantOf } from "../../src/http/Authentication.ts"
import { startSimulator, type SimulatorFixture } from "../apns/support/simulator.ts"
import { createFreshDatabase } from "../support/database.ts"
import { startRelayProcess, type RelayProcess } from "../support/relay.ts"
import { startBridgeProcess, type BridgeProcess } from "./bridgeProcess.ts"
import { type EventRecorder, isIdle, isPermissionAsked, openCodeDriver, type OpenCodeDriver, recordGlobalEvents } from "./driver.ts"
import { ANSWERS, type MockModel, startMockModel } from "./mockModel.ts"
import { openCodeUnavailable, type OpenCodeServer, startOpenCodeServer } from "./openCodeServer.ts"

/**
 * The whole path with a real OpenCode: `opencode serve` (offline, mock model)
 * → `pushline bridge` (or the plugin) → the real relay process → the APNs
 * simulator. Each scenario drives a session over OpenCode's HTTP API and
 * asserts the pushes the simulator received for it.
 */
const unavailable = openCodeUnavailable()
const secret = "e2e-bridge-secret-0123456789"
const pluginSecret = "e2e-plugin-secret-0123456789"
const DEVICE = "d".repeat(64)
const PLUGIN_DEVICE = "e".repeat(64)
/** A phone that starts Live Activities by push and registers each one's token only once it started. */
const PHONE = "f".repeat(64)
const PHONE_PUSH_TO_START = "a0".repeat(32)
const pluginSource = fs.readFileSync(path.resolve(import.meta.dirname, "../../plugin/pushline-opencode-plugin.js"), "utf8")

let model: MockModel
let simulator: SimulatorFixture
let relay: RelayProcess
let opencode: OpenCodeServer
let bridge: BridgeProcess
let recorder: EventRecorder
let driver: OpenCodeDriver
let databaseUrl: string
let work: string
let tokens = 0
let pluginProject: Promise<string>
/** Session -> the activity token the phone registered after its push-to-start. */
const lateTokens = new Map<string, string>()

const post = async (pathName: string, body: unknown) => {
  const response = await fetch(`${relay.url}${pathName}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000)
  })
  expect(response.status, await response.clone().text()).toBe(200)
}

const pushesTo = (token: string) => simulator.simulator.pushes.filter((p) => p.token === token)
const states = (token: string) => pushesTo(token).map((p) => ({ event: p.payload.aps.event, ...p.payload.aps["content-state"] }))
const alertsFor = (device: string, sessionID: string) => pushesTo(device).filter((p) => p.payload.sessionID === sessionID)

const waitFor = async <A>(what: string, check: () => A | undefined | false, timeoutMs = 30_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  while (true) {
    const value = check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nrelay:\n${relay.output().slice(-3000)}\nbridge:\n${bridge.output().slice(-2000)}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const waitForEnd = (token: string) => waitFor(`an end push to …${token.slice(-6)}`, () => states(token).find((s) => s.event === "end"))

/** A new session in `directory` with its own Live Activity token registered for `tenantSecret`. */
const newSession = async (directory: string, tenantSecret = secret) => {
  const sessionID = await driver.createSession(directory)
  const activityToken = `ac${(++tokens).toString(16).padStart(62, "0")}`
  await post("/v1/activity/register", { secret: tenantSecret, sessionID, activityToken, apnsEnv: "sandbox" })
  return { sessionID, activityToken }
}

const loggedEventIds = async (tenantSecret: string, sessionID: string) => {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const rows = await client.query<{ event_id: string }>("select event_id from events where tenant = $1 and session_id = $2", [tenantOf(tenantSecret), sessionID])
    return new Set(rows.rows.map((r) => r.event_id))
  } finally {
    await client.end()
  }
}

/** Events OpenCode emitted for the session that are not (yet, after a few seconds) in the tenant's log. */
const missingFromLog = async (tenantSecret: string, sessionID: string) => {
  let missing: Array<string> = []
  for (let i = 0; i < 50; i++) {
    const ids = await loggedEventIds(tenantSecret, sessionID)
    missing = recorder.forSession(sessionID).filter((f) => f.payload.id !== undefined && !ids.has(f.payload.id)).map((f) => `${f.payload.type} ${f.payload.id}`)
    if (missing.length === 0) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return missing
}

describe.skipIf(unavailable !== undefined)(`real OpenCode → bridge/plugin → relay → APNs${unavailable === undefined ? "" : ` (skipped: ${unavailable})`}`, () => {
  beforeAll(async () => {
    model = await startMockModel()
    simulator = await startSimulator()
    databaseUrl = await createFreshDatabase("opencode_e2e")
    work = fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? "/tmp"), "pushline-e2e-"))
    fs.writeFileSync(path.join(work, "ca.pem"), simulator.simulator.certificate.certPem)
    fs.writeFileSync(path.join(work, "key.p8"), simulator.key.privateKeyPem)
    relay = await startRelayProcess({
      databaseUrl,
      env: {
        APNS_HOST: simulator.simulator.host,
        APNS_CA_FILE: path.join(work, "ca.pem"),
        APNS_TEAM_ID: simulator.key.teamId,
        APNS_KEY_ID: simulator.key.keyId,
        APNS_PRIVATE_KEY_FILE: path.join(work, "key.p8"),
        APNS_DEFAULT_BUNDLE_ID: "com.example.app",
        PUSHLINE_THROTTLE_MS: "300",
        PUSHLINE_PERMISSION_GRACE_MS: "200",
        PUSHLINE_DATA_DIR: path.join(work, "relay-data")
      }
    })
    opencode = await startOpenCodeServer({
      modelBaseURL: model.baseURL,
      // Read by the plugin, which only the "plugin" project loads.
      env: { PUSHLINE_RELAY_URL: relay.url, PUSHLINE_SECRET: pluginSecret, PUSHLINE_DATA_DIR: path.join(work, "plugin-data") }
    })
    recorder = await recordGlobalEvents(opencode.url)
    driver = openCodeDriver(opencode.url)
    // Loading a directory's plugins the first time installs their dependencies
    // (seconds): started now, awaited by the plugin scenario.
    const withPlugin = opencode.project("with-plugin", { "pushline-opencode-plugin.js": pluginSource })
    pluginProject = driver.warmUp(withPlugin, 100_000).then(() => withPlugin)
    pluginProject.catch(() => undefined)
    bridge = startBridgeProcess(
      ["--opencode", opencode.url, "--relay", relay.url, "--secret", secret, "--spool", path.join(work, "bridge-spool"), "--server-id", "e2e", "--no-pairing"],
      { PUSHLINE_DATA_DIR: path.join(work, "bridge-data") }
    )
    await waitFor("the bridge to connect", () => /connected to OpenCode/.test(bridge.output()), 30_000)
    await post("/v1/device/register", { secret, deviceToken: DEVICE, apnsEnv: "sandbox", events: ["complete", "permission", "error"] })
    await post("/v1/device/register", { secret: pluginSecret, deviceToken: PLUGIN_DEVICE, apnsEnv: "sandbox", events: ["complete", "permission", "error"] })
    await post("/v1/device/register", { secret, deviceToken: PHONE, pushToStartToken: PHONE_PUSH_TO_START, apnsEnv: "sandbox", events: [] })
    // As iOS does: the push-to-start starts the activity, and the app then registers its update token.
    simulator.simulator.onPush((push) => {
      if (push.token !== PHONE_PUSH_TO_START || push.payload.aps.event !== "start") return
      const sessionID = String(push.payload.aps.attributes.sessionId)
      const activityToken = `fa${(++tokens).toString(16).padStart(62, "0")}`
      lateTokens.set(sessionID, activityToken)
      void post("/v1/activity/register", { secret, sessionID, activityToken, apnsEnv: "sandbox" })
    })
  }, 120_000)

  afterAll(async () => {
    recorder?.close()
    await bridge?.stop()
    await opencode?.stop()
    await relay?.stop()
    await simulator?.close()
    await model?.close()
    if (work !== undefined) fs.rmSync(work, { recursive: true, force: true })
  })

  it("a text answer: the activity ends complete with the answer, and a complete alert", async () => {
    const dir = opencode.project("main")
    const { activityToken, sessionID } = await newSession(dir)
    await driver.prompt(dir, sessionID, "Say hello please")
    await recorder.waitFor("idle", isIdle(sessionID))
    const end = await waitForEnd(activityToken)
    expect(end).toMatchObject({ status: "complete", lastMessage: ANSWERS.text })
    expect(states(activityToken).every((s) => s.status === "working" || s.status === "complete")).toBe(true)
    const alerts = await waitFor("a complete alert", () => alertsFor(DEVICE, sessionID).length > 0 && alertsFor(DEVICE, sessionID))
    expect(alerts.map((a) => a.payload.eventType)).toEqual(["complete"])
  })

  it("a tool call whose permission is asked and answered: permission shown, then complete", async () => {
    const dir = opencode.project("main")
    const { activityToken, sessionID } = await newSession(dir)
    await driver.prompt(dir, sessionID, "USE_TOOL run echo for me")
    const asked = await recorder.waitFor("permission.asked", isPermissionAsked(sessionID))
    // Longer than the grace: the user is asked on the phone.
    await waitFor("the permission push", () => states(activityToken).some((s) => s.status === "permission"))
    await driver.replyPermission(dir, asked.payload.properties.id, "once")
    await recorder.waitFor("idle", isIdle(sessionID))
    const end = await waitForEnd(activityToken)
    expect(end).toMatchObject({ status: "complete", lastMessage: ANSWERS.toolDone })
    const permission = states(activityToken).find((s) => s.status === "permission")!
    expect(permission.lastMessage).toContain("echo hello-from-tool")
    await waitFor("alerts", () => alertsFor(DEVICE, sessionID).some((a) => a.payload.eventType === "complete"))
    expect(alertsFor(DEVICE, sessionID).map((a) => a.payload.eventType)).toEqual(["permission", "complete"])
  })

  it("a tool call whose permission is rejected: the turn ends without running it", async () => {
    const dir = opencode.project("main")
    const { activityToken, sessionID } = await newSession(dir)
    await driver.prompt(dir, sessionID, "USE_TOOL please, then I reject")
    const asked = await recorder.waitFor("permission.asked", isPermissionAsked(sessionID))
    await waitFor("the permission push", () => states(activityToken).some((s) => s.status === "permission"))
    await driver.replyPermission(dir, asked.payload.properties.id, "reject")
    await recorder.waitFor("idle", isIdle(sessionID))
    const end = await waitForEnd(activityToken)
    expect(end.status).toBe("complete")
    expect(end.lastMessage).not.toContain(ANSWERS.toolDone)
  })

  it("a 429 from the model: retry shown with its countdown, then the answer", async () => {
    const dir = opencode.project("main")
    const { activityToken, sessionID } = await newSession(dir)
    await driver.prompt(dir, sessionID, "FAIL429 please")
    await recorder.waitFor("idle", isIdle(sessionID), 30_000)
    const end = await waitForEnd(activityToken)
    expect(end).toMatchObject({ status: "complete", lastMessage: ANSWERS.recovered })
    const retry = states(activityToken).find((s) => s.status === "retry")
    expect(retry?.retryInfo).toMatch(/Retry/)
  })

  it("a 400 from the model: the activity ends in error, with an error alert", async () => {
    const dir = opencode.project("main")
    const { activityToken, sessionID } = await newSession(dir)
    await driver.prompt(dir, sessionID, "FAIL400 please")
    await recorder.waitFor("idle", isIdle(sessionID))
    const end = await waitForEnd(activityToken)
    expect(end).toMatchObject({ status: "error", lastMessage: expect.stringContaining("mock bad request") })
    await waitFor("an error alert", () => alertsFor(DEVICE, sessionID).some((a) => a.payload.eventType === "error"))
    expect(alertsFor(DEVICE, sessionID).map((a) => a.payload.eventType)).toEqual(["error"])
  })

  it("an abort: the activity ends quietly, no error alert", async () => {
    const dir = opencode.project("main")
    const { activityToken, sessionID } = await newSession(dir)
    await driver.prompt(dir, sessionID, "SLOW answer please")
    await waitFor("working", () => states(activityToken).some((s) => s.status === "working"))
    await driver.abort(dir, sessionID)
    await recorder.waitFor("idle", isIdle(sessionID))
    const end = await waitForEnd(activityToken)
    expect(end.status).toBe("complete")
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(alertsFor(DEVICE, sessionID).filter((a) => a.payload.eventType === "error")).toEqual([])
  })

  it("the plugin variant: a project with the plugin file forwards its own events", { timeout: 120_000 }, async () => {
    const dir = await pluginProject
    const { activityToken, sessionID } = await newSession(dir, pluginSecret)
    await driver.prompt(dir, sessionID, "Say hello please")
    await recorder.waitFor("idle", isIdle(sessionID))
    const end = await waitForEnd(activityToken)
    expect(end).toMatchObject({ status: "complete", lastMessage: ANSWERS.text })
    await waitFor("a complete alert", () => alertsFor(PLUGIN_DEVICE, sessionID).some((a) => a.payload.eventType === "complete"))
    // Everything OpenCode emitted for the session is in the plugin tenant's log.
    expect(await missingFromLog(pluginSecret, sessionID)).toEqual([])
  })

  it("the relay killed with SIGKILL mid-session and restarted: the spool delivers everything, pushes end on the final state", async () => {
    const dir = opencode.project("main")
    const { activityToken, sessionID } = await newSession(dir)
    await driver.prompt(dir, sessionID, "SLOW please, while the relay dies")
    await waitFor("working", () => states(activityToken).some((s) => s.status === "working"))
    await relay.kill("SIGKILL")
    // OpenCode keeps going while the relay is down; the bridge spools.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    await relay.restart()
    await recorder.waitFor("idle", isIdle(sessionID), 30_000)
    const end = await waitForEnd(activityToken)
    expect(end.status).toBe("complete")
    expect(end.lastMessage).toContain("Slow answer finished.")
    // Every event OpenCode emitted for the session reached the log.
    expect(await missingFromLog(secret, sessionID)).toEqual([])
    // The last push carries the final state, and no push after it.
    expect(states(activityToken).at(-1)).toEqual(end)
  })

  describe("a phone that registers the activity token only after the push-to-start arrived", () => {
    /** A session without a registered activity: the relay must push-to-start it, then follow the late token. */
    const lateSession = async (prompt: string) => {
      const dir = opencode.project("main")
      const sessionID = await driver.createSession(dir)
      await driver.prompt(dir, sessionID, prompt)
      const activityToken = await waitFor("the push-to-start and the phone's token", () => lateTokens.get(sessionID))
      return { dir, sessionID, activityToken }
    }

    it("text: the late token gets the end with the answer", async () => {
      const { activityToken, sessionID } = await lateSession("Say hello please")
      await recorder.waitFor("idle", isIdle(sessionID))
      expect(await waitForEnd(activityToken)).toMatchObject({ status: "complete", lastMessage: ANSWERS.text })
    })

    it("tool, permission answered at once: the late token gets the end", async () => {
      const { activityToken, dir, sessionID } = await lateSession("USE_TOOL run echo for me")
      const asked = await recorder.waitFor("permission.asked", isPermissionAsked(sessionID))
      await driver.replyPermission(dir, asked.payload.properties.id, "once")
      await recorder.waitFor("idle", isIdle(sessionID))
      expect(await waitForEnd(activityToken)).toMatchObject({ status: "complete", lastMessage: ANSWERS.toolDone })
    })

    it("tool, permission left waiting: the late token shows the permission, then the end", async () => {
      const { activityToken, dir, sessionID } = await lateSession("USE_TOOL run echo for me")
      const asked = await recorder.waitFor("permission.asked", isPermissionAsked(sessionID))
      await waitFor("the permission on the late token", () => states(activityToken).some((s) => s.status === "permission"))
      await driver.replyPermission(dir, asked.payload.properties.id, "once")
      await recorder.waitFor("idle", isIdle(sessionID))
      expect(await waitForEnd(activityToken)).toMatchObject({ status: "complete", lastMessage: ANSWERS.toolDone })
    })

    it("retry: the late token gets the end after the retry", async () => {
      const { activityToken, sessionID } = await lateSession("FAIL429 please")
      await recorder.waitFor("idle", isIdle(sessionID), 30_000)
      expect(await waitForEnd(activityToken)).toMatchObject({ status: "complete", lastMessage: ANSWERS.recovered })
    })

    it("error: the late token gets the end in error", async () => {
      const { activityToken, sessionID } = await lateSession("FAIL400 please")
      await recorder.waitFor("idle", isIdle(sessionID))
      expect(await waitForEnd(activityToken)).toMatchObject({ status: "error", lastMessage: expect.stringContaining("mock bad request") })
    })

    it("abort: the late token gets a quiet end", async () => {
      const { activityToken, dir, sessionID } = await lateSession("SLOW answer please")
      await driver.abort(dir, sessionID)
      await recorder.waitFor("idle", isIdle(sessionID))
      expect((await waitForEnd(activityToken)).status).toBe("complete")
    })
  })
})
