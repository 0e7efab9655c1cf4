import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import type { LoggedEvent } from "../../domain/LoggedEvent.ts"
import type { PushIntent } from "../../domain/PushIntent.ts"
import { decidePushes, type PushSettings } from "../../projections/PushDecisions.ts"
import { type DeliveryAnswer, recordAnswer, type SenderMemory } from "../../projections/SenderMemory.ts"
import { shownContentState } from "../../projections/ShownState.ts"
import { activity, asked, busy, device, idle, replied, retry, sessionError, T0, Tenant, text, titled, tool } from "./views.ts"

/**
 * Random OpenCode streams, random sender timing and APNs answers: whatever
 * happens, every push shows the newest state, nothing follows an `end` of the
 * same turn, progress pushes respect the throttle, a permission is never
 * shown or alerted inside its grace, an alert goes once, and all state is JSON.
 */
const settings: PushSettings = { throttleMs: 1_000, permissionGraceMs: 500 }

const step = fc.oneof(
  fc.constant("busy"),
  fc.constant("idle"),
  fc.constant("text"),
  fc.constant("tool"),
  fc.constant("ask"),
  fc.constant("reply"),
  fc.constant("retry"),
  fc.constant("error"),
  fc.constant("abort"),
  fc.constant("title"),
  fc.constant("register")
)

const scenario = fc.array(
  fc.record({ step, gap: fc.integer({ min: 0, max: 1_500 }), answer: fc.constantFrom<DeliveryAnswer>("delivered", "delivered", "delivered", "retryable", "rejected") }),
  { minLength: 1, maxLength: 40 }
)

const build = (steps: ReadonlyArray<{ readonly step: string; readonly gap: number }>) => {
  const events: Array<LoggedEvent> = [device(-1000)]
  let at = 0
  let permission = 0
  steps.forEach(({ step, gap }, index) => {
    at += gap
    switch (step) {
      case "busy": return void events.push(busy(at))
      case "idle": return void events.push(idle(at))
      case "text": return void events.push(text(`message ${index}`, at))
      case "tool": return void events.push(tool("bash", "running", { command: `cmd ${index}` }, at))
      case "ask": return void events.push(asked(`per_${++permission}`, at))
      case "reply": return void events.push(replied(`per_${permission}`, at))
      case "retry": return void events.push(retry(index, at + 3000, at))
      case "error": return void events.push(sessionError("APIError", `failure ${index}`, at))
      case "abort": return void events.push(sessionError("MessageAbortedError", "Aborted", at))
      case "title": return void events.push(titled(`title ${index}`, at))
      case "register": return void events.push(activity(at, `act-${index}`))
    }
  })
  return events
}

describe("push decisions: invariants over random streams", () => {
  it("hold for every stream, timing and answer", () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 0, max: 400 }), (steps, senderDelay) => {
        const events = build(steps)
        const tenant = new Tenant()
        let memory: SenderMemory | null = null
        let due: number | null = null
        const sent: Array<{ readonly at: number; readonly intent: PushIntent }> = []
        const answers = steps.map((s) => s.answer)
        let answerIndex = 0

        const decide = (now: number) => {
          const view = tenant.view()
          const plan = decidePushes(view, tenant.registrations, memory, now, settings)
          const shown = shownContentState(view, now, settings.permissionGraceMs)
          let next = plan.memory
          due = plan.nextDueAt
          for (const intent of plan.pushes) {
            if (intent.kind !== "alert") expect(intent.contentState).toEqual(shown) // always the newest state
            if (intent.kind === "alert" && intent.eventType === "permission") {
              const alert = view.alerts.find((a) => a.seq === intent.alertSeq)!
              expect(now).toBeGreaterThanOrEqual(alert.at + settings.permissionGraceMs)
              expect(view.permissions.some((p) => p.id === alert.permissionId)).toBe(true)
            }
            const answer = answers[answerIndex++ % answers.length]!
            if (answer === "delivered") sent.push({ at: now, intent })
            const recorded = recordAnswer(next, intent, answer, now, 0.5)
            next = recorded.memory
            if (recorded.nextDueAt !== null) due = due === null ? recorded.nextDueAt : Math.min(due, recorded.nextDueAt)
          }
          memory = JSON.parse(JSON.stringify(next)) as SenderMemory // as stored in jsonb
          expect(memory).toEqual(next)
        }
        const runDue = (limit: number) => {
          for (let guard = 0; due !== null && due <= limit && guard < 200; guard++) decide(Math.max(due, 0))
        }
        for (const event of events) {
          runDue(event.sourceTime - 1)
          tenant.apply(event)
          decide(event.sourceTime + senderDelay)
        }
        runDue(Number.MAX_SAFE_INTEGER)

        // Per token: nothing after an end of the same turn; progress pushes spaced by the throttle.
        const byToken = new Map<string, Array<{ readonly at: number; readonly intent: PushIntent }>>()
        for (const push of sent) {
          if (push.intent.kind === "alert") continue
          byToken.set(push.intent.target.token, [...(byToken.get(push.intent.target.token) ?? []), push])
        }
        for (const pushes of byToken.values()) {
          pushes.forEach((push, index) => {
            const previous = pushes[index - 1]
            if (previous === undefined || push.intent.kind === "alert" || previous.intent.kind === "alert") return
            expect(previous.intent.kind === "end" && previous.intent.turn === push.intent.turn).toBe(false)
            if (push.intent.priority === 5) expect(push.at - previous.at).toBeGreaterThanOrEqual(settings.throttleMs)
          })
        }
        // Alerts: each (alert, device) at most once.
        const alertKeys = sent.flatMap((s) => (s.intent.kind === "alert" ? [`${s.intent.alertSeq}:${s.intent.target.token}`] : []))
        expect(new Set(alertKeys).size).toBe(alertKeys.length)
        expect(JSON.parse(JSON.stringify(tenant.view()))).toEqual(tenant.view())
      }),
      { numRuns: 300, seed: 20261122 }
    )
  })

  it("a quiet session ends with nothing left due: every state change reached the activity", () => {
    fc.assert(
      fc.property(scenario, (steps) => {
        const events = [...build(steps), activity(10_000_000, "act-final")]
        const tenant = new Tenant()
        let memory: SenderMemory | null = null
        for (const event of events) tenant.apply(event)
        // Decide repeatedly long after the last event, everything delivered: it converges.
        let now = T0 + 20_000_000
        let last: ReturnType<typeof decidePushes> | null = null
        for (let i = 0; i < 10; i++) {
          last = decidePushes(tenant.view(), tenant.registrations, memory, now, settings)
          let next = last.memory
          for (const intent of last.pushes) next = recordAnswer(next, intent, "delivered", now, 0.5).memory
          memory = next
          now += 60_000
        }
        expect(last?.pushes).toEqual([])
        expect(last?.nextDueAt).toBeNull()
        const view = tenant.view()
        if (view.turn !== null) {
          expect(memory?.tokens["act-final"]?.sent).toEqual(shownContentState(view, now, settings.permissionGraceMs))
        }
      }),
      { numRuns: 200, seed: 7 }
    )
  })
})
