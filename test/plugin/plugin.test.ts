import { Effect, Fiber, Logger } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { bridgeProgram, bridgeSettings } from "../../src/bridge/Bridge.ts"
import { startFakeOpenCode, startRecordingRelay, tempDir, waitUntil } from "../bridge/support.ts"
import { readCapture } from "../support/captures.ts"
import { root } from "../support/pushlineBin.ts"

/**
 * plugin/pushline-opencode-plugin.js is generated from the bridge's TypeScript: the
 * committed file is what the sources build to, it imports only Node built-ins, and for
 * the same OpenCode events the plugin and the bridge write the same spool lines and
 * send the relay the same requests.
 */
const pluginFile = path.join(root, "plugin/pushline-opencode-plugin.js")
const secret = "plugin-test-secret-0123456789"
const directory = "/home/dev/project"
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** What both must agree on: the frame without the time it was seen (and the bridge's project). */
const comparable = (frame: { directory?: string; payload: unknown }) => ({ directory: frame.directory, payload: frame.payload })
const spoolLines = (dir: string) =>
  fs.readdirSync(dir).filter((name) => name.startsWith("segment-")).sort()
    .flatMap((name) => fs.readFileSync(path.join(dir, name), "utf8").split("\n").filter((line) => line !== ""))
    .map((line) => comparable(JSON.parse(line)))

const throughPlugin = async (frames: ReadonlyArray<Record<string, any>>, redact: boolean) => {
  const relay = await startRecordingRelay()
  const dataDir = tempDir("plugin-data")
  cleanups.push(() => relay.close(), () => fs.rmSync(dataDir, { recursive: true, force: true }))
  const { PushlinePlugin } = await import(`${pluginFile}?redact=${redact}`)
  const hooks = await PushlinePlugin({ directory }, { relayURL: relay.url, secret, dataDir, serverID: "test-server", redact })
  for (const frame of frames) await hooks.event({ event: frame.payload })
  return { relay, spoolDir: path.join(dataDir, "plugin-spool", fs.readdirSync(path.join(dataDir, "plugin-spool"))[0]!) }
}

const throughBridge = async (frames: ReadonlyArray<Record<string, any>>, redact: boolean) => {
  const opencode = await startFakeOpenCode()
  const relay = await startRecordingRelay()
  const dir = tempDir("plugin-bridge")
  const settings = bridgeSettings(
    { opencode: { url: opencode.url }, relay: { url: relay.url, secret, serverID: "test-server" }, spoolDir: path.join(dir, "spool") },
    { redact }
  )
  const fiber = Effect.runFork(bridgeProgram(settings).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, Logger.none))))
  cleanups.push(() => opencode.close(), () => relay.close(), () => fs.rmSync(dir, { recursive: true, force: true }))
  cleanups.push(() => Effect.runPromise(Fiber.interrupt(fiber)).then(() => undefined))
  await waitUntil("connected", () => opencode.connections() === 1)
  opencode.send(...frames)
  return { relay, spoolDir: path.join(dir, "spool") }
}

describe("the OpenCode plugin", () => {
  it("is the file the sources build to, with no imports beyond Node built-ins", () => {
    const out = path.join(tempDir("plugin-build"), "plugin.js")
    execFileSync(process.execPath, [path.join(root, "scripts/buildPlugin.mjs"), "--out", out])
    const built = fs.readFileSync(out, "utf8")
    fs.rmSync(path.dirname(out), { recursive: true, force: true })
    expect(built === fs.readFileSync(pluginFile, "utf8"), "plugin/ is stale: run npm run build:plugin").toBe(true)
    const imports = [...built.matchAll(/\bfrom\s*"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)|require\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1] ?? m[2] ?? m[3]!)
    expect(imports.length).toBeGreaterThan(0)
    expect(imports.filter((name) => !name.startsWith("node:"))).toEqual([])
  })

  for (const redact of [false, true]) {
    it(`writes the same spool lines and sends the same requests as the bridge${redact ? " (redacted)" : ""}`, async () => {
      // A real session with a question, and the transport frames both skip; then statuses
      // carrying more than a status, which redaction must rebuild, not pass through.
      const extra = { note: "text that must not leave the machine when redacted" }
      const frames = [
        ...readCapture("question.global.jsonl"),
        { payload: { id: "evt_zz01", type: "session.status", properties: { sessionID: "ses_x", status: { type: "busy", ...extra }, ...extra } } },
        { payload: { id: "evt_zz02", type: "session.updated", properties: { sessionID: "ses_x", info: { id: "ses_x", title: "a secret title" }, ...extra } } },
        { payload: { id: "evt_zz03", type: "session.error", properties: { sessionID: "ses_x", error: { name: "APIError", data: { message: "the prompt" } } } } }
      ].map((frame): Record<string, any> => ({ ...frame, directory }))
      const plugin = await throughPlugin(frames, redact)
      const bridge = await throughBridge(frames, redact)
      const expected = frames.filter((f) => f.payload.type !== "sync" && !String(f.payload.type).startsWith("server.")).length
      const count = (relay: { events: () => Array<unknown> }) => relay.events().length
      if (!redact) {
        await waitUntil("the plugin delivered", () => count(plugin.relay) === expected)
        await waitUntil("the bridge delivered", () => count(bridge.relay) === expected)
      } else {
        await waitUntil("both delivered", () => count(plugin.relay) > 0 && count(plugin.relay) === count(bridge.relay))
      }
      expect(plugin.relay.events().map(comparable)).toEqual(bridge.relay.events().map(comparable))
      expect(plugin.relay.batches.map((b) => b.serverID)).toEqual(plugin.relay.batches.map(() => "test-server"))
      expect(bridge.relay.batches.every((b) => b.authorization === `Bearer ${secret}`)).toBe(true)
      expect(plugin.relay.batches.every((b) => b.authorization === `Bearer ${secret}`)).toBe(true)
      expect(spoolLines(plugin.spoolDir)).toEqual(spoolLines(bridge.spoolDir))
      expect(spoolLines(plugin.spoolDir).length).toBe(count(plugin.relay))
    })
  }
})
