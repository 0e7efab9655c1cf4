import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import pg from "pg"
import { tenantOf } from "../../src/http/Authentication.ts"
import { createFreshDatabase, currentDatabaseUrl } from "../support/database.ts"
import { pipelineLayer } from "../support/pipeline.ts"
import { binEnv, pushlineBin, root } from "../support/pushlineBin.ts"
import { recordingSettings, recordSession } from "../support/recordedSession.ts"
import { request } from "../support/server.ts"


interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** `pushline <args>` as an operator runs it, straight on the given database. */
const pushline = (databaseUrl: string, ...args: Array<string>) =>
  Effect.promise(() =>
    new Promise<CliResult>((resolve) => {
      execFile(pushlineBin, args, {
        cwd: root,
        env: binEnv({ ...process.env, DATABASE_URL: databaseUrl, NO_COLOR: "1" }),
        timeout: 60_000
      }, (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }))
    })
  )

layer(pipelineLayer(recordingSettings), { excludeTestServices: true, timeout: 180_000 })("operator CLI", (it) => {
  it.effect("sessions, timeline and replay read the database straight; errors are one plain line", () =>
    Effect.gen(function*() {
      const { auth, base, lateId, sessionId } = yield* recordSession("cli")
      const url = yield* currentDatabaseUrl

      const sessions = yield* pushline(url, "sessions", "--json")
      expect(sessions.code).toBe(0)
      const listed = JSON.parse(sessions.stdout).sessions.find((s: any) => s.sessionID === sessionId)
      expect(listed).toMatchObject({ turn: 1, contentState: { status: "complete" }, lastPush: { outcome: "delivered", status: 200 } })
      expect(listed.tenant).toMatch(/^[0-9a-f]{8}$/)
      const table = yield* pushline(url, "sessions")
      expect(table.stdout.split("\n")[0]).toMatch(/^TENANT\s+SESSION\s+STATUS\s+TURN\s+TITLE\s+LAST PUSH\s+UPDATED$/)
      expect(table.stdout).toMatch(new RegExp(`${listed.tenant}\\s+${sessionId}\\s+complete\\s+1\\s+`))

      // The CLI's timeline is the API's.
      const api = yield* request(base, "GET", `/v1/sessions/${sessionId}/timeline?limit=1000`, undefined, auth)
      const timeline = yield* pushline(url, "timeline", sessionId, "--json")
      expect(timeline.code).toBe(0)
      expect(JSON.parse(timeline.stdout).steps).toEqual(api.body.steps)
      const text = yield* pushline(url, "timeline", sessionId)
      const lateStep = api.body.steps.find((s: any) => s.eventId === lateId)
      expect(text.stdout).toMatch(new RegExp(`^\\s+${lateStep.position}\\s+\\S+\\s+session\\.status\\s+status busy\\s+ignored: older than the newest applied event`, "m"))
      expect(text.stdout).toMatch(/^\s+✓ end \(liveactivity, p10\) → …\w{8}: 200 [\d.]+ms apns-id /m)
      expect(text.stdout).toMatch(/^\s+▸ throttled …\w{8} for \d+\.\ds$/m)
      expect(text.stdout).toMatch(/^\s+▸ held for permission grace live-activity for \d+\.\ds$/m)

      const replay = yield* pushline(url, "replay", sessionId)
      expect(replay.code).toBe(0)
      expect(replay.stdout).toContain("no difference: today's code makes exactly the recorded pushes")
      const all = yield* pushline(url, "replay", "--all", "--tenant", listed.tenant)
      expect(all.code).toBe(0)
      expect(all.stdout.trim().split("\n").at(-1)).toBe("1 sessions replayed, 0 with differences")

      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<{ id: string }>`
        select id::text as id from deliveries where session_id = ${sessionId} and event = 'end' order by id desc limit 1`
      yield* sql`update deliveries set payload = jsonb_set(payload, '{aps,content-state,status}', '"error"') where id = ${row!.id}::bigint`
      const altered = yield* pushline(url, "replay", sessionId, "--json")
      expect(altered.code).toBe(1)
      const report = JSON.parse(altered.stdout)
      expect(report.differences.missing).toEqual([])
      expect(report.differences.extra).toEqual([])
      expect(report.differences.different.map((d: any) => [d.recorded.deliveryId, d.recorded.content.status, d.replayed.content.status])).toEqual([
        [row!.id, "error", "complete"]
      ])

      const unknown = yield* pushline(url, "timeline", "ses_nobody")
      expect(unknown).toMatchObject({ code: 2, stdout: "" })
      expect(unknown.stderr.trim().split("\n").at(-1)).toBe("pushline: no session ses_nobody in the log")
      const busy = yield* pushline(url, "rebuild")
      expect(busy.code).toBe(2)
      expect(busy.stderr).toContain("pushline: a relay is running on this database (it holds the projector lock): stop it first, or pass --wait")
    }), 240_000) // a dozen CLI processes: slow on a loaded machine

  it.effect("rebuild folds a copied log from position 0 and reaches the same session state", () =>
    Effect.gen(function*() {
      // Every recording replays the same capture, so the session id repeats across tenants.
      const { secret, sessionId } = yield* recordSession("cli-rebuild")
      const tenant = tenantOf(secret)
      const sql = yield* SqlClient.SqlClient
      const events = yield* sql<Record<string, unknown>>`
        select tenant, session_id, event_id, type, payload, meta, source_time, received_time from events
        where tenant = ${tenant}
        order by transaction_id, position`
      const fresh = yield* Effect.promise(() => createFreshDatabase("cli-rebuild"))
      expect((yield* pushline(fresh, "migrate")).code).toBe(0)
      yield* Effect.promise(async () => {
        const client = new pg.Client({ connectionString: fresh })
        await client.connect()
        for (const event of events) {
          await client.query(
            "insert into events (tenant, session_id, event_id, type, payload, meta, source_time, received_time) values ($1, $2, $3, $4, $5, $6, $7, $8)",
            [event.tenant, event.session_id, event.event_id, event.type, JSON.stringify(event.payload), JSON.stringify(event.meta), event.source_time, event.received_time]
          )
        }
        await client.end()
      })
      const rebuilt = yield* pushline(fresh, "rebuild")
      expect(rebuilt.code).toBe(0)
      expect(rebuilt.stdout.trim()).toMatch(new RegExp(`^rebuilt: ${events.length} events folded in \\d+\\.\\d\\d s$`))
      const [projected] = yield* sql<{ state: any }>`select state from session_states where tenant = ${tenant} and session_id = ${sessionId}`
      const copy = JSON.parse((yield* pushline(fresh, "sessions", "--json")).stdout).sessions.find((s: any) => s.sessionID === sessionId)
      expect(copy.contentState).toEqual({
        status: "complete",
        sessionTitle: projected!.state.title,
        lastMessage: projected!.state.lastMessage,
        retryInfo: null,
        startedAt: Math.floor(projected!.state.turnStartedAt / 1000)
      })
    }), 240_000)
})
