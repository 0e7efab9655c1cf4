import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import pg from "pg"
import { describe, expect, it } from "vitest"
import { tenantOf } from "../src/http/Authentication.ts"
import { relayEnvFor, startSimulator } from "../test/apns/support/simulator.ts"
import { createFreshDatabase } from "../test/support/database.ts"
import { startRelayProcess } from "../test/support/relay.ts"

/**
 * Hostile input on every route of a relay process: for each route REQUESTS requests,
 * each a valid body (or query) with a few fields swapped for hostile values (U+0000,
 * lone surrogates, huge, negative and fractional numbers, wrong types, deep nesting),
 * fields dropped or added, or the whole body replaced by malformed JSON. Every request
 * carries its own secret, so what a refused request stored is visible in the log.
 * Prints the answers by status per route; passes with no 5xx, no crash and nothing
 * stored for any refused request.
 */
const REQUESTS = Number(process.env.PUSHLINE_FUZZ_REQUESTS ?? 2000)
const CONCURRENCY = 16

/** mulberry32: the same seed makes the same requests, so a failure can be run again. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const random = seeded(Number(process.env.PUSHLINE_FUZZ_SEED ?? 20261202))
const pick = <A>(items: ReadonlyArray<A>): A => items[Math.floor(random() * items.length)]!

const nested = (depth: number): unknown => (depth === 0 ? "bottom" : { d: nested(depth - 1) })
const HOSTILE: ReadonlyArray<() => unknown> = [
  () => "",
  () => "\u0000",
  () => "a\u0000b",
  () => "\ud800",
  () => "lone \udfff low",
  () => "x".repeat(5000),
  () => "💥".repeat(300),
  () => "../../../etc/passwd",
  () => "<script>alert(1)</script>",
  () => 0,
  () => -1,
  () => 1.5,
  () => 1e308,
  () => -1e308,
  () => 8.64e15,
  () => 8.64e15 + 1,
  () => 2 ** 53 + 1,
  () => true,
  () => null,
  () => [],
  () => [1, "two", null],
  () => ({}),
  () => ({ nested: { deeper: "\u0000" } }),
  () => nested(60),
  () => nested(150),
  () => Array.from({ length: 500 }, (_, i) => i)
]
const hostile = () => pick(HOSTILE)()

/** Raw bodies that are not a JSON object at all. */
const MALFORMED: ReadonlyArray<() => string> = [
  () => "",
  () => "{",
  () => "[1,2",
  () => "null",
  () => "42",
  () => '"a string"',
  () => "\u0000",
  () => `${"[".repeat(5000)}${"]".repeat(5000)}`,
  () => `{"a":${"[".repeat(200)}${"]".repeat(200)}}`,
  () => "{\"events\": [}",
  () => "\ufeff{}"
]

const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join("")
const token = () => hex(64)

interface Mutable {
  [key: string]: unknown
}

/** A valid value with some of its fields (at any depth) replaced, dropped or added. */
const mutate = (value: Mutable): Mutable => {
  const copy = JSON.parse(JSON.stringify(value)) as Mutable
  const changes = 1 + Math.floor(random() * 3)
  for (let c = 0; c < changes; c++) {
    // Walk to a random object inside.
    let target: Mutable = copy
    for (let depth = 0; depth < 3; depth++) {
      const inner = Object.values(target).filter((v): v is Mutable => typeof v === "object" && v !== null)
      if (inner.length === 0 || random() < 0.5) break
      target = pick(inner)
    }
    const keys = Object.keys(target)
    const roll = random()
    if (roll < 0.6 && keys.length > 0) target[pick(keys)] = hostile()
    else if (roll < 0.8 && keys.length > 0) delete target[pick(keys)]
    else target[pick(["extra", "__proto__", "constructor", "\u0000key", "seenAt", "id"])] = hostile()
  }
  return copy
}

interface FuzzRequest {
  readonly method: "GET" | "POST"
  readonly path: string
  readonly body: string | undefined
  readonly secret: string | undefined
  readonly bearer: boolean
}

interface Route {
  readonly name: string
  readonly make: (secret: string, i: number) => FuzzRequest
}

const json = (value: unknown) => JSON.stringify(value)
/** Mostly a mutated valid body, sometimes a malformed one, sometimes the valid one. */
const bodyOf = (valid: Mutable) => {
  const roll = random()
  if (roll < 0.1) return json(valid)
  if (roll < 0.25) return pick(MALFORMED)()
  if (roll < 0.3) return json(hostile())
  return json(mutate(valid))
}
const secretIn = (body: string | undefined) => {
  try {
    const value = JSON.parse(body ?? "") as { secret?: unknown }
    return typeof value?.secret === "string" ? value.secret : undefined
  } catch {
    return undefined
  }
}
const bodyRoute = (name: string, path: string, valid: (secret: string, i: number) => Mutable): Route => ({
  name,
  make: (secret, i) => {
    const body = bodyOf(valid(secret, i))
    return { method: "POST", path, body, secret: secretIn(body), bearer: false }
  }
})
/** A path segment or query value; a lone surrogate (which encodeURIComponent refuses) goes as its invalid UTF-8 bytes. */
const encoded = (value: string) => {
  try {
    return encodeURIComponent(value)
  } catch {
    return "%ED%A0%80"
  }
}
const hostileSegment = () => encoded(String(pick([...HOSTILE.slice(0, 9), () => "ses_fuzz", () => "%", () => "a/b", () => "%zz"])()))
const hostileQuery = () => pick(["", "0", "-1", "1.5", "abc", "1e30", "99999999999999999999", "%00", "1001", "5", "\u0000"])

const ROUTES: ReadonlyArray<Route> = [
  { name: "GET /health", make: () => ({ method: "GET", path: "/health", body: undefined, secret: undefined, bearer: false }) },
  { name: "GET /ready", make: () => ({ method: "GET", path: "/ready", body: undefined, secret: undefined, bearer: false }) },
  { name: "GET /metrics", make: () => ({ method: "GET", path: "/metrics", body: undefined, secret: undefined, bearer: false }) },
  bodyRoute("POST /v1/device/register", "/v1/device/register", (secret) => ({
    secret, deviceToken: token(), pushToStartToken: token(), bundleId: "com.example.app", apnsEnv: "sandbox", events: ["complete"], sound: "alert.wav"
  })),
  bodyRoute("POST /v1/device/unregister", "/v1/device/unregister", (secret) => ({ secret, deviceToken: token() })),
  bodyRoute("POST /v1/activity/register", "/v1/activity/register", (secret, i) => ({
    secret, sessionID: `ses_fuzz_${i}`, activityToken: token(), apnsEnv: "sandbox", bundleId: "com.example.app"
  })),
  bodyRoute("POST /v1/activity/unregister", "/v1/activity/unregister", (secret, i) => ({ secret, sessionID: `ses_fuzz_${i}` })),
  bodyRoute("POST /v1/event", "/v1/event", (secret, i) => ({
    secret, serverID: "fuzz", eventType: "complete", sessionID: `ses_fuzz_${i}`, title: "Done", body: "All tests pass", contentState: { status: "complete" }
  })),
  {
    name: "POST /v1/opencode/events",
    make: (secret, i) => ({
      method: "POST",
      path: "/v1/opencode/events",
      body: bodyOf({
        serverID: "fuzz",
        events: [
          { id: `evt_${hex(12)}fuzz${i}a`, type: "session.status", properties: { sessionID: `ses_fuzz_${i}`, status: { type: "busy" } }, seenAt: Date.now() },
          {
            directory: "/work/fuzz",
            project: "prj_fuzz",
            payload: { id: `evt_${hex(12)}fuzz${i}b`, type: "message.part.updated", properties: { sessionID: `ses_fuzz_${i}`, part: { type: "text", text: "hello" } } },
            seenAt: Date.now()
          }
        ]
      }),
      secret,
      bearer: true
    })
  },
  {
    name: "GET /v1/sessions",
    make: (secret) => ({
      method: "GET",
      path: `/v1/sessions?limit=${encoded(hostileQuery())}${random() < 0.5 ? "" : `&cursor=${hostileSegment()}`}`,
      body: undefined,
      secret,
      bearer: true
    })
  },
  { name: "GET /v1/sessions/:id", make: (secret) => ({ method: "GET", path: `/v1/sessions/${hostileSegment()}`, body: undefined, secret, bearer: true }) },
  {
    name: "GET /v1/sessions/:id/timeline",
    make: (secret) => ({
      method: "GET",
      path: `/v1/sessions/${hostileSegment()}/timeline?after=${encoded(hostileQuery())}&limit=${encoded(hostileQuery())}`,
      body: undefined,
      secret,
      bearer: true
    })
  },
  {
    name: "POST /v1/sessions/:id/replay",
    make: (secret) => ({ method: "POST", path: `/v1/sessions/${hostileSegment()}/replay`, body: bodyOf({ throttleMs: 1000, permissionGraceMs: 500 }), secret, bearer: true })
  },
  { name: "POST /v1/replay", make: (secret) => ({ method: "POST", path: "/v1/replay", body: bodyOf({ throttleMs: 1000 }), secret, bearer: true }) }
]

describe("fuzzing every route of a relay process", () => {
  it(`${REQUESTS} hostile requests per route: no 5xx, no crash, nothing stored for what was refused`, async () => {
    const databaseUrl = await createFreshDatabase("fuzz")
    const fixture = await startSimulator()
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pushline-fuzz-"))
    const relay = await startRelayProcess({ databaseUrl, env: relayEnvFor(fixture, dir) })
    const counts: Record<string, Record<number, number>> = {}
    const refusedTenants = new Set<string>()
    // A hostile value can be a long string used as the secret by several requests: only
    // tenants that were never accepted count as refused.
    const acceptedTenants = new Set<string>()
    const serverErrors: Array<string> = []
    try {
      const started = Date.now()
      for (const route of ROUTES) {
        counts[route.name] = {}
        let next = 0
        await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
          while (next < REQUESTS) {
            const i = next++
            const secret = `fuzz-${hex(24)}`
            const request = route.make(secret, i)
            const response = await fetch(`${relay.url}${request.path}`, {
              method: request.method,
              headers: {
                "content-type": "application/json",
                ...(request.bearer ? { authorization: `Bearer ${secret}` } : {})
              },
              ...(request.body === undefined ? {} : { body: request.body }),
              signal: AbortSignal.timeout(30_000)
            }).then(async (r) => ({ status: r.status, text: await r.text() }), () => ({ status: 0, text: "" }))
            const byStatus = counts[route.name]!
            byStatus[response.status] = (byStatus[response.status] ?? 0) + 1
            if (response.status >= 500 || response.status === 0) serverErrors.push(`${route.name} ${response.status} ${response.text.slice(0, 200)} <- ${String(request.body).slice(0, 200)}`)
            if (request.secret !== undefined && request.secret.length >= 16) {
              ;(response.status >= 400 ? refusedTenants : acceptedTenants).add(tenantOf(request.secret))
            }
          }
        }))
      }
      const tookS = (Date.now() - started) / 1000

      const client = new pg.Client({ connectionString: databaseUrl })
      await client.connect()
      const stored = new Set((await client.query<{ tenant: string }>("select distinct tenant from events")).rows.map((r) => r.tenant))
      await client.end()
      const storedForRefused = [...refusedTenants].filter((tenant) => stored.has(tenant) && !acceptedTenants.has(tenant))

      const total = Object.values(counts).reduce((sum, byStatus) => sum + Object.values(byStatus).reduce((a, b) => a + b, 0), 0)
      console.log(`fuzz: ${total} requests over ${ROUTES.length} routes in ${tookS.toFixed(1)} s`)
      for (const [route, byStatus] of Object.entries(counts)) {
        console.log(`  ${route.padEnd(30)} ${Object.entries(byStatus).map(([status, n]) => `${status}: ${n}`).join(", ")}`)
      }
      console.log(`fuzz: ${serverErrors.length} 5xx or unanswered, ${storedForRefused.length} refused requests that stored something, relay ${relay.pid() > 0 ? "alive" : "gone"}`)

      expect(serverErrors.slice(0, 10)).toEqual([])
      expect(storedForRefused).toEqual([])
      expect((await fetch(`${relay.url}/health`)).status).toBe(200)
      expect(relay.output()).not.toContain("[relay exited")
    } finally {
      await relay.stop()
      await fixture.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 1_800_000)
})
