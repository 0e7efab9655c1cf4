import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import pg from "pg"
import { inject } from "vitest"
import { Checkpoint } from "../../src/eventstore/readAfter.ts"
import { loadCheckpoint } from "../../src/projector/Checkpoints.ts"
import type { ProjectedWrites } from "../../projections/FoldBatch.ts"
import { SENDER_CHANNEL, writeProjectedBatch } from "../../src/projector/writeProjectedBatch.ts"
import { sharedDatabaseLayer, uniqueTenant } from "../support/database.ts"

// Positions far above anything the shared log reaches, so outcome rows of other suites never collide.
let nextPosition = 9_000_000_000n + BigInt(Math.floor(Math.random() * 1_000_000)) * 1000n

const writesFor = (tenant: string): ProjectedWrites => {
  const position = (nextPosition++).toString()
  return {
    sessions: [{ tenant, session_id: "ses_w", state: { status: "working" }, last_position: position, urgent: true, claim_priority: 1 }],
    tenants: [{ tenant, state: { devices: ["d"] }, last_position: position }],
    outcomes: [{ position, tenant, session_id: "ses_w", applied: true, reason: null }],
    steps: [{ tenant, session_id: "ses_w", position, applied: true, reason: null, content_state: { status: "working" } }]
  }
}

const stored = (tenant: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql<{ states: number; registrations: number; steps: number; due: number }>`
      select
        (select count(*)::int from session_states where tenant = ${tenant}) as states,
        (select count(*)::int from tenant_registrations where tenant = ${tenant}) as registrations,
        (select count(*)::int from session_steps where tenant = ${tenant}) as steps,
        (select count(*)::int from sender_sessions where tenant = ${tenant} and due_at <= now()) as due`
    return row!
  })

/** Notifications on the sender's channel while `effect` runs. */
const notificationsDuring = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.promise(async () => {
      const client = new pg.Client({ connectionString: inject("databaseUrl") })
      const seen: Array<string> = []
      client.on("notification", (message) => seen.push(message.payload ?? ""))
      await client.connect()
      await client.query(`listen ${SENDER_CHANNEL}`)
      return { client, seen }
    }),
    ({ seen }) => Effect.exit(effect).pipe(Effect.tap(() => Effect.sleep("200 millis")), Effect.map((exit) => ({ exit, seen }))),
    ({ client }) => Effect.promise(() => client.end())
  )

layer(sharedDatabaseLayer, { excludeTestServices: true })("writeProjectedBatch", (it) => {
  it.effect("writes states, registrations, steps, the sender's due mark and the checkpoint, and wakes the sender", () =>
    Effect.gen(function*() {
      const tenant = uniqueTenant("write")
      const projector = `test-${tenant}`
      const to = new Checkpoint({ transactionId: "10", position: 5n })
      const { exit, seen } = yield* notificationsDuring(writeProjectedBatch(projector, Checkpoint.start, to, writesFor(tenant), { markDue: true }))
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(yield* stored(tenant)).toEqual({ states: 1, registrations: 1, steps: 1, due: 1 })
      expect(yield* loadCheckpoint(projector)).toEqual(to)
      expect(seen).toContain("due")
    }))

  it.effect("the NOTIFY names the projector that wrote, so that relay's own sender can skip it", () =>
    Effect.gen(function*() {
      const tenant = uniqueTenant("named")
      const { seen } = yield* notificationsDuring(
        writeProjectedBatch(`test-${tenant}`, Checkpoint.start, new Checkpoint({ transactionId: "3", position: 2n }), writesFor(tenant), {
          markDue: true,
          projectedBy: `projector-${tenant}`
        })
      )
      expect(seen).toContain(`projector-${tenant}`)
    }))

  it.effect("without markDue (a rebuild) nothing becomes due and the sender is not woken", () =>
    Effect.gen(function*() {
      const tenant = uniqueTenant("rebuild")
      const { exit, seen } = yield* notificationsDuring(
        writeProjectedBatch(`test-${tenant}`, Checkpoint.start, new Checkpoint({ transactionId: "1", position: 1n }), writesFor(tenant), { markDue: false })
      )
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(yield* stored(tenant)).toEqual({ states: 1, registrations: 1, steps: 1, due: 0 })
      expect(seen).toEqual([])
    }))

  it.effect("a checkpoint that moved is a fence: the write dies with CheckpointMoved and stores nothing", () =>
    Effect.gen(function*() {
      const tenant = uniqueTenant("fence")
      const projector = `test-${tenant}`
      const first = new Checkpoint({ transactionId: "10", position: 5n })
      yield* writeProjectedBatch(projector, Checkpoint.start, first, { sessions: [], tenants: [], outcomes: [], steps: [] }, { markDue: true })

      // Another leader moved it on; this one still thinks it stands at the start.
      const { exit, seen } = yield* notificationsDuring(
        writeProjectedBatch(projector, Checkpoint.start, new Checkpoint({ transactionId: "11", position: 9n }), writesFor(tenant), { markDue: true })
      )
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) {
        const defect = Cause.squash(exit.cause) as { _tag?: string; message?: string }
        expect(defect._tag).toBe("CheckpointMoved")
        expect(defect.message).toBe(`checkpoint of ${projector} moved under us`)
      }
      expect(yield* stored(tenant)).toEqual({ states: 0, registrations: 0, steps: 0, due: 0 })
      expect(yield* loadCheckpoint(projector)).toEqual(first)
      expect(seen).toEqual([])
    }))
})
