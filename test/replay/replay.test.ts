/**
 * Replay tells the truth: through the real relay, sessions whose pushes
 * depended on things outside the log (a device registered late, an APNs
 * Retry-After, the jitter drawn) replay with no difference, and every push
 * that was not sent is a recorded decision with its reason.
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Option } from "effect"
import { LocalApnsSimulator } from "../../src/apns/ApnsLive.ts"
import { isSessionFrame, readCapture } from "../support/captures.ts"
import { uniqueTenant } from "../support/database.ts"
import { eventually } from "../support/eventually.ts"
import { pipelineLayer } from "../support/pipeline.ts"
import { recordingSettings, restamp } from "../support/recordedSession.ts"
import { request, RelayUrl } from "../support/server.ts"
import { hex } from "../support/simulatorPushes.ts"

const simulator = Effect.map(LocalApnsSimulator, Option.getOrThrow)

const postCapture = (base: string, auth: Record<string, string>, name: string) =>
  Effect.gen(function*() {
    const frames = restamp(readCapture(name).filter(isSessionFrame))
    const sessionId = frames.find((f) => f.payload.type === "session.created")!.payload.properties.sessionID as string
    for (let i = 0; i < frames.length; i += 10) {
      expect((yield* request(base, "POST", "/v1/opencode/events", { events: frames.slice(i, i + 10) }, auth)).status).toBe(202)
    }
    return sessionId
  })

const decisionsOf = (base: string, auth: Record<string, string>, sessionId: string) =>
  Effect.map(request(base, "GET", `/v1/sessions/${sessionId}/timeline?limit=1000`, undefined, auth), (response) =>
    (response.body.steps as Array<any>).flatMap((step) => step.decisions as Array<any>))

const replay = (base: string, auth: Record<string, string>, sessionId: string) =>
  Effect.map(request(base, "POST", `/v1/sessions/${sessionId}/replay`, {}, auth), (response) => response.body)

const noDifferences = { missing: [], extra: [], different: [], decisions: [] }

layer(pipelineLayer(recordingSettings), { excludeTestServices: true, timeout: 120_000 })("replay", (it) => {
  it.effect("a turn that ended before any device was registered: skipped with reasons, and no difference after one registers", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const secret = `secret-${uniqueTenant("late-device")}`
      const auth = { authorization: `Bearer ${secret}` }
      const sessionId = yield* postCapture(base, auth, "text.global.jsonl")
      const skipped = yield* eventually("the complete alert's decision", Effect.map(decisionsOf(base, auth, sessionId), (decisions) => {
        const alert = decisions.find((d) => d.decision === "skipped" && d.event === "complete")
        return alert === undefined ? undefined : decisions
      }))
      expect(skipped.filter((d) => d.decision === "skipped").map((d) => [d.target, d.event, d.reason])).toEqual([
        ["live-activity", "start", "no-token"],
        ["alerts", "complete", "no-device"]
      ])
      expect(skipped.filter((d) => d.decision === "send")).toEqual([])

      // Now a phone registers, with a push-to-start token: the ended turn is not pushed again.
      const device = hex(`${secret}-device`)
      expect((yield* request(base, "POST", "/v1/device/register", { secret, deviceToken: device, pushToStartToken: hex(`${secret}-start`), apnsEnv: "sandbox" })).status).toBe(200)
      const result = yield* replay(base, auth, sessionId)
      expect(result.differences).toEqual(noDifferences)
      expect(result.identical).toBe(true)
      expect(result.pushes).toEqual([])

      const tenantReplay = yield* request(base, "POST", "/v1/replay", {}, auth)
      expect(tenantReplay.status).toBe(200)
      expect(tenantReplay.body).toMatchObject({ ok: true, sessions: 1, withDifferences: 0, differing: [] })
    }))

  it.effect("a Live Activity push answered 503 with Retry-After is retried then; replay re-makes both attempts", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const sim = yield* simulator
      const secret = `secret-${uniqueTenant("retry-after")}`
      const auth = { authorization: `Bearer ${secret}` }
      const activity = hex(`${secret}-activity`)
      const frames = restamp(readCapture("text.global.jsonl").filter(isSessionFrame))
      const sessionId = frames.find((f) => f.payload.type === "session.created")!.payload.properties.sessionID as string
      expect((yield* request(base, "POST", "/v1/activity/register", { secret, sessionID: sessionId, activityToken: activity, apnsEnv: "sandbox" })).status).toBe(200)
      sim.faultsByToken.set(activity, { kind: "status", status: 503, retryAfterSeconds: 1 })
      const busyAt = frames.findIndex((f) => f.payload.type === "session.status" && f.payload.properties.status.type === "busy")
      expect((yield* request(base, "POST", "/v1/opencode/events", { events: frames.slice(0, busyAt + 1) }, auth)).status).toBe(202)
      yield* eventually("the 503", Effect.sync(() => sim.rejections.find((r) => r.token === activity)))
      sim.faultsByToken.delete(activity)
      expect((yield* request(base, "POST", "/v1/opencode/events", { events: frames.slice(busyAt + 1) }, auth)).status).toBe(202)
      const sql = yield* SqlClient.SqlClient
      yield* eventually("the end's recorded delivery", Effect.map(
        sql<{ id: string }>`select id::text as id from deliveries where session_id = ${sessionId} and event = 'end' and outcome = 'delivered'`,
        (rows) => rows[0]
      ))
      const attempts = yield* sql<{ outcome: string; retry_after_ms: number | null; jitter: number | null; answered: boolean }>`
        select outcome, retry_after_ms, jitter, answered_at_ms is not null as answered from deliveries
        where session_id = ${sessionId} and token = ${activity} order by deliveries.id`
      expect(attempts[0]).toMatchObject({ outcome: "retryable", retry_after_ms: 1000, answered: true })
      expect(attempts.every((a) => a.jitter !== null && a.jitter >= 0 && a.jitter < 1)).toBe(true)
      const retried = yield* decisionsOf(base, auth, sessionId)
      expect(retried.some((d) => d.decision === "retry-backoff")).toBe(true)

      const result = yield* replay(base, auth, sessionId)
      expect(result.differences).toEqual(noDifferences)
      expect(result.pushes.map((p: any) => p.answer)).toEqual(attempts.map((a) => a.outcome))
    }))

  it.effect("a legacy /v1/event permission (the app's test button) pushes an alert at once", () =>
    Effect.gen(function*() {
      const base = yield* RelayUrl
      const sim = yield* simulator
      const secret = `secret-${uniqueTenant("legacy-permission")}`
      const device = hex(`${secret}-device`)
      expect((yield* request(base, "POST", "/v1/device/register", { secret, deviceToken: device, apnsEnv: "sandbox" })).status).toBe(200)
      const response = yield* request(base, "POST", "/v1/event", {
        secret,
        eventType: "permission",
        sessionID: "ses_test_button",
        title: "Permission needed",
        body: "Test notification"
      })
      expect(response).toEqual({ status: 200, body: { ok: true, sent: 1, failed: 0 } })
      const alert = sim.pushes.find((p) => p.token === device)
      expect(alert?.payload.aps.alert).toEqual({ title: "Permission needed", body: "Test notification" })
      expect(alert?.payload.eventType).toBe("permission")
      const result = yield* replay(base, { authorization: `Bearer ${secret}` }, "ses_test_button")
      expect(result.differences).toEqual(noDifferences)
    }))
})
