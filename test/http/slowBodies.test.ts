import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as http from "node:http"
import { tenantOf } from "../../src/http/Authentication.ts"
import { uniqueTenant } from "../support/database.ts"
import { RelayUrl, testServerLayer } from "../support/server.ts"

interface RawAnswer {
  readonly status: number
  readonly body: any
  readonly afterMs: number
}

/**
 * A POST written by hand: `write` gets the open request to send (or not send) the body
 * the test wants; resolves with the relay's answer, or rejects when the connection is reset.
 */
const rawPost = (base: string, headers: Record<string, string>, write: (req: http.ClientRequest) => void) =>
  Effect.promise(() =>
    new Promise<RawAnswer>((resolve, reject) => {
      const started = Date.now()
      const req = http.request(`${base}/v1/opencode/events`, { method: "POST", headers: { "content-type": "application/json", ...headers } }, (res) => {
        let text = ""
        res.on("data", (chunk: Buffer) => (text += chunk.toString()))
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), afterMs: Date.now() - started })
          req.destroy()
        })
      })
      req.on("error", reject)
      write(req)
    })
  )

const LIMIT = 64 * 1024

layer(testServerLayer({ bodyTimeoutMs: 1000, bodyLimitBytes: LIMIT }), { excludeTestServices: true })("bodies that arrive slowly, short or too large", (it) => {
  it.effect("a Content-Length the body never reaches is a JSON 408 after the body timeout, and stores nothing", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = `secret-${uniqueTenant("short-body")}`
      const answer = yield* rawPost(base, { authorization: `Bearer ${secret}`, "content-length": "1000" }, (req) => req.write(`{"events":[`))
      expect({ status: answer.status, body: answer.body }).toEqual({
        status: 408,
        body: { _tag: "RequestTimeout", ok: false, error: "request body did not arrive within 1000 ms" }
      })
      expect(answer.afterMs).toBeGreaterThanOrEqual(950)
      expect(answer.afterMs).toBeLessThan(5000)
      const sql = yield* SqlClient.SqlClient
      expect(yield* sql`select 1 from events where tenant = ${tenantOf(secret)}`).toEqual([])
    }))

  it.effect("a body trickling in slower than the timeout is a 408 too", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = `secret-${uniqueTenant("slow-body")}`
      let timer: NodeJS.Timeout | undefined
      const answer = yield* rawPost(base, { authorization: `Bearer ${secret}`, "transfer-encoding": "chunked" }, (req) => {
        req.write(`{"events":[`)
        timer = setInterval(() => req.write(" "), 100)
      })
      clearInterval(timer)
      expect(answer.status).toBe(408)
      expect(answer.body._tag).toBe("RequestTimeout")
    }))

  it.effect("a chunked body over the limit is answered 413 (not reset), and stores nothing", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = `secret-${uniqueTenant("chunked-large")}`
      const event = (i: number) => JSON.stringify({ id: `evt_big_${i}`, type: "message.part.updated", properties: { sessionID: "ses_big", part: { type: "text", text: "x".repeat(1000) } } })
      const answer = yield* rawPost(base, { authorization: `Bearer ${secret}`, "transfer-encoding": "chunked" }, (req) => {
        req.write(`{"events":[${event(0)}`)
        for (let i = 1; i < 400; i++) req.write(`,${event(i)}`)
        req.end("]}")
      })
      expect({ status: answer.status, body: answer.body }).toEqual({
        status: 413,
        body: { _tag: "PayloadTooLarge", ok: false, error: `request body is over the ${LIMIT}-byte limit` }
      })
      const sql = yield* SqlClient.SqlClient
      expect(yield* sql`select 1 from events where tenant = ${tenantOf(secret)}`).toEqual([])
    }))
})
