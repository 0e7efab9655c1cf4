import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { importPKCS8 } from "jose"
import * as http2 from "node:http2"
import { signProviderToken } from "../../src/apns/ProviderToken.ts"
import { generateSigningKey } from "../../src/apns/simulator/localKeys.ts"
import { type SimulatorFixture, startSimulator, TOKEN } from "./support/simulator.ts"

const T0 = Date.parse("2026-11-22T10:00:00Z")
const minutes = (n: number) => n * 60_000
let now = T0
let fixture: SimulatorFixture

beforeAll(async () => {
  fixture = await startSimulator({ now: () => now })
})
afterAll(() => fixture.close())

const sign = async (issuedAt: number, key = fixture.key) =>
  Effect.runPromise(signProviderToken({ teamId: key.teamId, keyId: key.keyId, privateKey: await importPKCS8(key.privateKeyPem, "ES256") }, issuedAt))

/** One raw HTTP/2 connection, so the per-connection token rules are visible. */
const connect = () => http2.connect(fixture.simulator.origin, { ca: fixture.simulator.certificate.certPem })

const push = (session: http2.ClientHttp2Session, authorization: string | undefined) =>
  new Promise<{ status: number; reason?: string }>((resolve, reject) => {
    const headers: http2.OutgoingHttpHeaders = { ":method": "POST", ":path": `/3/device/${TOKEN}`, "apns-push-type": "alert", "apns-topic": "com.example.app" }
    if (authorization !== undefined) headers.authorization = authorization
    const stream = session.request(headers)
    let status = 0
    let body = ""
    stream.on("response", (h) => (status = Number(h[":status"])))
    stream.on("data", (chunk: Buffer) => (body += chunk.toString()))
    stream.on("end", () => resolve(body === "" ? { status } : { status, reason: (JSON.parse(body) as { reason: string }).reason }))
    stream.on("error", reject)
    stream.end(JSON.stringify({ aps: { alert: "hi" } }))
  })

describe("simulator provider-token rules per connection", () => {
  it("a token accepted on a connection is only re-checked for age; other tokens are checked in full", async () => {
    now = T0
    const first = await sign(T0)
    const session = connect()
    try {
      expect(await push(session, `bearer ${first}`)).toEqual({ status: 200 })
      expect(await push(session, `bearer ${first}`)).toEqual({ status: 200 })
      // Still verified in full after a good token: a forged signature, a stranger's key, no token.
      const [header, claims] = first.split(".")
      expect(await push(session, `bearer ${header}.${claims}.${"A".repeat(86)}`)).toEqual({ status: 403, reason: "InvalidProviderToken" })
      expect(await push(session, `bearer ${await sign(T0, generateSigningKey("SIMTEAM001", "OTHERKEY01"))}`)).toEqual({ status: 403, reason: "InvalidProviderToken" })
      expect(await push(session, undefined)).toEqual({ status: 403, reason: "MissingProviderToken" })
      // The same token written differently is the same token, not an update.
      expect(await push(session, `Bearer  ${first}`)).toEqual({ status: 200 })
      // A new valid token within 20 minutes on the same connection; fine on a new one.
      const second = await sign(T0 + minutes(1))
      expect(await push(session, `bearer ${second}`)).toEqual({ status: 429, reason: "TooManyProviderTokenUpdates" })
      const other = connect()
      try {
        expect(await push(other, `bearer ${second}`)).toEqual({ status: 200 })
      } finally {
        other.close()
      }
      // The cached token ages out on the connection that accepted it.
      now = T0 + minutes(61)
      expect(await push(session, `bearer ${first}`)).toEqual({ status: 403, reason: "ExpiredProviderToken" })
      // 20 minutes after the first token, a new one is taken.
      expect(await push(session, `bearer ${await sign(now)}`)).toEqual({ status: 200 })
    } finally {
      session.close()
    }
  })
})
