import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { uniqueTenant } from "../support/database.ts"
import { pipelineLayer } from "../support/pipeline.ts"
import { recordingSettings, recordSession } from "../support/recordedSession.ts"
import { request } from "../support/server.ts"

layer(pipelineLayer(recordingSettings), { excludeTestServices: true, timeout: 120_000 })("timeline and replay", (it) => {
  it.effect("the timeline shows each event's outcome, the content-state, decisions and deliveries, page by page", () =>
    Effect.gen(function*() {
      const { activity, auth, base, lateId, pushes, sessionId } = yield* recordSession("timeline")
      const response = yield* request(base, "GET", `/v1/sessions/${sessionId}/timeline?limit=1000`, undefined, auth)
      expect(response.status).toBe(200)
      const steps: Array<any> = response.body.steps
      expect(response.body.nextAfter).toBe(null)

      // Every event of the session is there, in log order; the late one ignored with the reason.
      const positions = steps.map((s) => BigInt(s.position))
      expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)))
      const late = steps.find((s) => s.eventId === lateId)
      expect(late).toMatchObject({ type: "session.status", summary: "status busy", outcome: "ignored", contentState: null })
      expect(late.reason).toMatch(/^older than the newest applied event/)
      const permission = steps.find((s) => s.type === "permission.asked")
      expect(permission).toMatchObject({ outcome: "applied", summary: 'permission asked: bash "echo hello-from-tool"' })
      expect(permission.contentState.status).toBe("permission")
      const lastApplied = steps.filter((s) => s.outcome === "applied").at(-1)
      expect(lastApplied.contentState.status).toBe("complete")

      // Decisions: sends, a throttled stretch whose states were superseded, the permission held for its grace.
      const decisions = steps.flatMap((s) => s.decisions.map((d: any) => ({ ...d, position: s.position })))
      expect(decisions.some((d) => d.decision === "throttled" && d.target === `…${activity.slice(-8)}`)).toBe(true)
      expect(decisions.some((d) => d.decision === "superseded" && BigInt(d.supersededBy) > BigInt(d.position))).toBe(true)
      expect(decisions.some((d) => d.decision === "permission-grace")).toBe(true)

      // Every push the simulator accepted is a delivery on the step that caused it, with APNs' answer.
      const deliveries = steps.flatMap((s) => s.deliveries)
      expect(deliveries.map((d) => d.apnsId).sort()).toEqual(pushes.map((p) => p.headers["apns-id"] ?? p.apnsId).sort())
      expect(deliveries.every((d) => d.status === 200 && d.outcome === "delivered" && typeof d.latencyMs === "number")).toBe(true)
      const end = deliveries.find((d) => d.event === "end")
      expect(end.payload.aps["content-state"].status).toBe("complete")
      expect(end.token).toBe(`…${activity.slice(-8)}`)
      for (const step of steps) {
        for (const delivery of step.deliveries) {
          if (delivery.pushType === "liveactivity") expect(delivery.payload.aps["content-state"]).toEqual(step.contentState)
        }
      }

      // Pages of 7 add up to the whole timeline.
      const paged: Array<any> = []
      let after = "0"
      for (let i = 0; i < 50; i++) {
        const page = yield* request(base, "GET", `/v1/sessions/${sessionId}/timeline?limit=7&after=${after}`, undefined, auth)
        expect(page.status).toBe(200)
        paged.push(...page.body.steps)
        if (page.body.nextAfter === null) break
        after = page.body.nextAfter
      }
      expect(paged.map((s) => s.position)).toEqual(steps.map((s) => s.position))
    }))

  it.effect("bad paging names the parameter; another tenant's session is a 404", () =>
    Effect.gen(function*() {
      const { auth, base, sessionId } = yield* recordSession("timeline-errors")
      const badLimit = yield* request(base, "GET", `/v1/sessions/${sessionId}/timeline?limit=0`, undefined, auth)
      expect(badLimit).toMatchObject({ status: 400, body: { ok: false, error: "limit: must be an integer from 1 to 1000" } })
      const badAfter = yield* request(base, "GET", `/v1/sessions/${sessionId}/timeline?after=-3`, undefined, auth)
      expect(badAfter).toMatchObject({ status: 400, body: { ok: false, error: "after: must be a log position (a non-negative integer)" } })
      const other = { authorization: `Bearer other-${uniqueTenant("timeline-other")}` }
      expect((yield* request(base, "GET", `/v1/sessions/${sessionId}/timeline`, undefined, other)).status).toBe(404)
      expect((yield* request(base, "POST", `/v1/sessions/${sessionId}/replay`, undefined, other)).status).toBe(404)
      const badReplay = yield* request(base, "POST", `/v1/sessions/${sessionId}/replay`, { throttleMs: -1 }, auth)
      expect(badReplay).toMatchObject({ status: 400, body: { ok: false, error: "throttleMs: must be an integer number of milliseconds from 0 to 3600000" } })
    }))

  it.effect("replay of an untouched session matches; an altered delivery is reported as exactly that difference", () =>
    Effect.gen(function*() {
      const { auth, base, pushes, sessionId } = yield* recordSession("replay")
      const clean = yield* request(base, "POST", `/v1/sessions/${sessionId}/replay`, undefined, auth)
      expect(clean.status).toBe(200)
      expect(clean.body.differences).toEqual({ missing: [], extra: [], different: [], decisions: [] })
      expect(clean.body.identical).toBe(true)
      expect(clean.body.recorded).toBe(pushes.length)
      expect(clean.body.settings).toEqual(recordingSettings)

      // Tamper with one recorded update: the replay names that delivery and nothing else.
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<{ id: string }>`
        select id::text as id from deliveries where session_id = ${sessionId} and event = 'update' and tenant = (
          select tenant from deliveries where session_id = ${sessionId} order by id desc limit 1)
        order by id desc limit 1`
      yield* sql`update deliveries set payload = jsonb_set(payload, '{aps,content-state,lastMessage}', '"tampered"') where id = ${row!.id}::bigint`
      const altered = yield* request(base, "POST", `/v1/sessions/${sessionId}/replay`, {}, auth)
      expect(altered.body.identical).toBe(false)
      expect(altered.body.differences.missing).toEqual([])
      expect(altered.body.differences.extra).toEqual([])
      expect(altered.body.differences.decisions).toEqual([])
      expect(altered.body.differences.different).toHaveLength(1)
      const [difference] = altered.body.differences.different
      expect(difference.recorded.deliveryId).toBe(row!.id)
      expect(difference.recorded.content.lastMessage).toBe("tampered")
      expect(difference.replayed.content.lastMessage).not.toBe("tampered")
      expect({ ...difference.recorded.content, lastMessage: null }).toEqual({ ...difference.replayed.content, lastMessage: null })

      // Other settings: without a throttle every progress state goes out, so replay sends more than was recorded.
      const unthrottled = yield* request(base, "POST", `/v1/sessions/${sessionId}/replay`, { throttleMs: 0, permissionGraceMs: 0 }, auth)
      expect(unthrottled.body.settings).toEqual({ throttleMs: 0, permissionGraceMs: 0, endSettleMs: 500 })
      expect(unthrottled.body.differences.missing.length).toBeGreaterThan(0)
      expect(unthrottled.body.differences.missing.some((p: any) => p.content?.status === "permission")).toBe(true)
    }))
})
