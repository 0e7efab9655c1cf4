import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { tenantOf } from "../../src/http/Authentication.ts"
import { uniqueTenant } from "../support/database.ts"
import { request, RelayUrl, testServerLayer } from "../support/server.ts"

const eventsOf = (secret: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql<{ type: string; session_id: string; payload: any }>`
      select type, session_id, payload from events where tenant = ${tenantOf(secret)} order by position`
  })

const TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"

layer(testServerLayer(), { excludeTestServices: true })("registration routes", (it) => {
  it.effect("device register and unregister append events to the log", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = `secret-${uniqueTenant()}`
      const register = yield* request(base, "POST", "/v1/device/register", {
        secret,
        deviceToken: TOKEN.toUpperCase(),
        bundleId: "com.example.app",
        apnsEnv: "sandbox",
        pushToStartToken: "ABCDEF",
        events: ["complete", "error"],
        sound: "chime.caf"
      })
      expect(register).toEqual({ status: 200, body: { ok: true } })
      const minimal = yield* request(base, "POST", "/v1/device/register", { secret, deviceToken: "0f0f" })
      expect(minimal.status).toBe(200)
      const unregister = yield* request(base, "POST", "/v1/device/unregister", { secret, deviceToken: TOKEN })
      expect(unregister).toEqual({ status: 200, body: { ok: true } })
      expect(yield* eventsOf(secret)).toEqual([
        {
          type: "pushline.device.registered",
          session_id: "",
          payload: {
            _tag: "pushline.device.registered",
            deviceToken: TOKEN,
            bundleId: "com.example.app",
            apnsEnv: "sandbox",
            pushToStartToken: "abcdef",
            events: ["complete", "error"],
            sound: "chime.caf"
          }
        },
        {
          type: "pushline.device.registered",
          session_id: "",
          payload: {
            _tag: "pushline.device.registered",
            deviceToken: "0f0f",
            bundleId: null,
            apnsEnv: "production",
            pushToStartToken: null,
            events: ["complete", "permission", "error"],
            sound: null
          }
        },
        { type: "pushline.device.unregistered", session_id: "", payload: { _tag: "pushline.device.unregistered", deviceToken: TOKEN } }
      ])
    }))

  it.effect("activity register and unregister are session events", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = `secret-${uniqueTenant()}`
      const register = yield* request(base, "POST", "/v1/activity/register", {
        secret,
        sessionID: "ses_1",
        activityToken: "beef",
        bundleId: "com.example.app",
        apnsEnv: "sandbox"
      })
      expect(register).toEqual({ status: 200, body: { ok: true } })
      const unregister = yield* request(base, "POST", "/v1/activity/unregister", { secret, sessionID: "ses_1" })
      expect(unregister).toEqual({ status: 200, body: { ok: true } })
      expect(yield* eventsOf(secret)).toEqual([
        {
          type: "pushline.activity.registered",
          session_id: "ses_1",
          payload: { _tag: "pushline.activity.registered", sessionID: "ses_1", activityToken: "beef", bundleId: "com.example.app", apnsEnv: "sandbox" }
        },
        { type: "pushline.activity.unregistered", session_id: "ses_1", payload: { _tag: "pushline.activity.unregistered", sessionID: "ses_1" } }
      ])
    }))

  it.effect("an Idempotency-Key makes a retried registration a duplicate", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = `secret-${uniqueTenant()}`
      const body = { secret, deviceToken: TOKEN }
      yield* request(base, "POST", "/v1/device/register", body, { "idempotency-key": "k1" })
      yield* request(base, "POST", "/v1/device/register", body, { "idempotency-key": "k1" })
      expect((yield* eventsOf(secret)).length).toBe(1)
    }))

  it.effect("bad input is a 400 naming the field and stores nothing", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = `secret-${uniqueTenant()}`
      const cases: Array<[string, unknown, string]> = [
        ["/v1/device/register", "{not json", "request body is not valid JSON"],
        ["/v1/device/register", { secret: "short", deviceToken: TOKEN }, "secret: must be a string of at least 16 characters"],
        ["/v1/device/register", { secret, deviceToken: "not-hex!" }, "deviceToken: must be a hex string"],
        ["/v1/device/register", { secret, deviceToken: 1234 }, "deviceToken: must be a hex string"],
        ["/v1/device/register", { secret }, "deviceToken: is required"],
        ["/v1/device/register", { secret, deviceToken: TOKEN, apnsEnv: "dev" }, `apnsEnv: must be one of "sandbox", "production"`],
        ["/v1/device/register", { secret, deviceToken: TOKEN, bundleId: "my app" }, "bundleId: must be a bundle id in reverse-DNS form (e.g. com.example.app)"],
        ["/v1/activity/register", { secret, sessionID: "ses_1", activityToken: "beef", bundleId: "noDots" }, "bundleId: must be a bundle id in reverse-DNS form"],
        ["/v1/device/register", { secret, deviceToken: TOKEN, pushToStartToken: "xyz" }, "pushToStartToken: must be a hex string"],
        ["/v1/device/register", { secret, deviceToken: TOKEN, events: ["complete", "start"] }, `events[1]: must be one of "complete", "permission", "error"`],
        ["/v1/device/unregister", { secret, deviceToken: "zz" }, "deviceToken: must be a hex string"],
        ["/v1/activity/register", { secret, sessionID: "ses_1", activityToken: "no" }, "activityToken: must be a hex string"],
        ["/v1/activity/register", { secret, activityToken: "beef" }, "sessionID: is required"],
        ["/v1/activity/unregister", { secret, sessionID: "" }, "sessionID: must be a non-empty string of at most 200 characters"],
        ["/v1/activity/unregister", [], "request body: "]
      ]
      for (const [path, body, error] of cases) {
        const response = yield* request(base, "POST", path, body)
        expect({ path, status: response.status }).toEqual({ path, status: 400 })
        expect(response.body.error).toContain(error)
        expect(response.body.ok).toBe(false)
      }
      expect(yield* eventsOf(secret)).toEqual([])
    }))
})
