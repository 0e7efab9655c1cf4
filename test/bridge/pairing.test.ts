import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { hostAddresses, hostUrls, type Interfaces, isTailscale } from "../../src/pairing/Hosts.ts"
import { pairPayload } from "../../src/pairing/PairingCode.ts"
import { pairLink, parsePairLink } from "../../src/pairing/PairLink.ts"
import { loadOrCreateSecret } from "../../src/pairing/Secret.ts"
import { binEnv, pushlineBin } from "../support/pushlineBin.ts"
import { tempDir } from "./support.ts"

const iface = (address: string, internal = false) => ({ address, netmask: "255.255.255.0", family: "IPv4" as const, mac: "00:00:00:00:00:00", internal, cidr: `${address}/24` })

describe("pairing", () => {
  it("the link carries {relaySecret, hosts, relayURL} url-encoded, as seed 001's app reads it", () => {
    const payload = { relaySecret: "s3cret-s3cret-s3cret", hosts: ["http://192.168.1.20:4096", "http://100.101.102.103:4096"], relayURL: "https://push.example.com" }
    const link = pairLink(payload)
    expect(link.startsWith("mobilevoice:///?pair=%7B%22relaySecret%22")).toBe(true)
    expect(JSON.parse(decodeURIComponent(link.slice("mobilevoice:///?pair=".length)))).toEqual(payload)
    expect(parsePairLink(link)).toEqual(payload)
  })

  it("hosts: LAN addresses first, then Tailscale (100.64.0.0/10), never loopback, on OpenCode's port", () => {
    const interfaces = {
      lo: [iface("127.0.0.1", true)],
      tailscale0: [iface("100.101.102.103")],
      eth0: [iface("192.168.1.20"), { ...iface("fe80::1"), family: "IPv6" as const, scopeid: 1 }],
      docker0: [iface("172.17.0.1")]
    } as Interfaces
    expect(hostAddresses(interfaces)).toEqual(["192.168.1.20", "172.17.0.1", "100.101.102.103"])
    expect(hostUrls(4096, interfaces)).toEqual(["http://192.168.1.20:4096", "http://172.17.0.1:4096", "http://100.101.102.103:4096"])
    expect([isTailscale("100.64.0.1"), isTailscale("100.127.255.255"), isTailscale("100.128.0.1"), isTailscale("100.63.0.1")]).toEqual([true, true, false, false])
    expect(pairPayload("x".repeat(20), "https://r.example", "http://127.0.0.1:5123").hosts.every((h) => h.endsWith(":5123"))).toBe(true)
  })

  it("the secret is created once (0600, 16+ characters) and loaded after", async () => {
    const dir = tempDir("pair")
    try {
      const first = await Effect.runPromise(loadOrCreateSecret(dir))
      expect(first.created).toBe(true)
      expect(first.secret.length).toBeGreaterThanOrEqual(16)
      expect(fs.statSync(path.join(dir, "secret")).mode & 0o777).toBe(0o600)
      expect(await Effect.runPromise(loadOrCreateSecret(dir))).toEqual({ secret: first.secret, created: false })
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("`pushline pair` prints a QR code and the link with the data dir's secret", () => {
    const dir = tempDir("paircli")
    try {
      const out = execFileSync(pushlineBin, ["pair", "--relay", "https://push.example.com", "--opencode", "http://127.0.0.1:4096"], {
        env: binEnv({ ...process.env, PUSHLINE_DATA_DIR: dir }),
        encoding: "utf8",
        timeout: 30_000
      })
      const secret = fs.readFileSync(path.join(dir, "secret"), "utf8").trim()
      const link = /mobilevoice:\/\/\/\?pair=\S+/.exec(out)?.[0]
      expect(parsePairLink(link!)).toMatchObject({ relaySecret: secret, relayURL: "https://push.example.com" })
      expect(out).toMatch(/[▀▄█]/)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
