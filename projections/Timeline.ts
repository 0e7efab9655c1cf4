import { type AttemptAnswer, type DecisionKind, isHold, type PushDecision } from "../domain/PushDecision.ts"
import { summarizeEvent, tokenSuffix } from "./EventSummary.ts"

/**
 * A session's history as the timeline shows it: each event with what the fold
 * made of it, the sender's decisions on the state it produced, and each APNs
 * attempt it caused. Pure assembly of recorded rows; nothing is recomputed.
 */
export interface RecordedRun {
  readonly id: string
  readonly sessionPosition: string
  readonly plannedAt: number
  readonly decisions: ReadonlyArray<PushDecision>
}

export interface TimelineEventRow {
  readonly position: string
  readonly sessionId: string
  readonly eventId: string
  readonly type: string
  readonly payload: unknown
  /** What ingest noted beside the event (e.g. a client time it did not believe). */
  readonly meta: Readonly<Record<string, unknown>>
  readonly sourceTime: number
  readonly receivedTime: number
  /** null when the projector has not reached the event yet. */
  readonly applied: boolean | null
  readonly reason: string | null
  readonly contentState: unknown
}

export interface RecordedDelivery {
  readonly id: string
  readonly runId: string | null
  readonly causedBy: string | null
  readonly token: string
  readonly pushType: string
  readonly event: string
  readonly priority: number
  readonly headers: unknown
  readonly payload: unknown
  readonly status: number | null
  readonly reason: string | null
  readonly apnsId: string | null
  readonly latencyMs: number | null
  readonly outcome: string
  /** As the sender settled it; null for attempts recorded before answers were. */
  readonly answer: AttemptAnswer | null
  readonly attemptedAt: number
}

export interface TimelineDecision {
  readonly runId: string
  readonly at: number
  readonly decision: DecisionKind | "superseded"
  /** Token suffix, or "live-activity" / "alerts". */
  readonly target: string
  readonly event: string | null
  readonly pushType: string | null
  readonly until: number | null
  /** Why a push was skipped, or a run failed. */
  readonly reason: string | null
  /** For "superseded": the position of the newer state pushed instead. */
  readonly supersededBy: string | null
}

export interface TimelineDelivery {
  readonly id: string
  readonly attemptedAt: number
  readonly token: string
  readonly pushType: string
  readonly event: string
  readonly priority: number
  readonly headers: unknown
  readonly payload: unknown
  readonly status: number | null
  readonly reason: string | null
  readonly apnsId: string | null
  readonly latencyMs: number | null
  readonly outcome: string
}

export interface TimelineStep {
  readonly position: string
  readonly eventId: string
  /** The event's own session: differs for a subagent's permission shown on its root. */
  readonly sessionId: string
  readonly type: string
  readonly summary: string
  readonly sourceTime: number
  readonly receivedTime: number
  readonly outcome: "applied" | "ignored" | "pending"
  readonly reason: string | null
  readonly contentState: unknown
  readonly decisions: ReadonlyArray<TimelineDecision>
  readonly deliveries: ReadonlyArray<TimelineDelivery>
}

const displayTarget = (target: string) => (target === "live-activity" || target === "alerts" ? target : tokenSuffix(target))

const covers = (hold: PushDecision, send: PushDecision) =>
  hold.target === send.target ||
  (hold.target === "live-activity" && send.pushType === "liveactivity") ||
  (hold.target === "alerts" && send.pushType === "alert")

/**
 * For each hold, the position of the state that was eventually sent instead,
 * when that is a newer one (the held state itself never went out).
 */
const supersessions = (runs: ReadonlyArray<RecordedRun>) => {
  const result = new Map<string, Map<number, string>>()
  runs.forEach((run, index) => {
    run.decisions.forEach((decision, i) => {
      if (!isHold(decision.decision)) return
      for (const later of runs.slice(index + 1)) {
        const send = later.decisions.find((d) => d.decision === "send" && covers(decision, d))
        if (send === undefined) continue
        if (later.sessionPosition !== run.sessionPosition) {
          const byRun = result.get(run.id) ?? new Map<number, string>()
          byRun.set(i, later.sessionPosition)
          result.set(run.id, byRun)
        }
        return
      }
    })
  })
  return result
}

export const buildTimeline = (
  events: ReadonlyArray<TimelineEventRow>,
  runs: ReadonlyArray<RecordedRun>,
  deliveries: ReadonlyArray<RecordedDelivery>
): ReadonlyArray<TimelineStep> => {
  const superseded = supersessions(runs)
  const decisionsAt = new Map<string, Array<TimelineDecision>>()
  for (const run of runs) {
    const list = decisionsAt.get(run.sessionPosition) ?? []
    const seenSuperseded = new Set<string>()
    run.decisions.forEach((decision, i) => {
      list.push({
        runId: run.id,
        at: run.plannedAt,
        decision: decision.decision,
        target: displayTarget(decision.target),
        event: decision.event ?? null,
        pushType: decision.pushType ?? null,
        until: decision.until ?? null,
        reason: decision.reason ?? null,
        supersededBy: null
      })
      const by = superseded.get(run.id)?.get(i)
      if (by !== undefined && !seenSuperseded.has(decision.target)) {
        seenSuperseded.add(decision.target)
        list.push({
          runId: run.id,
          at: run.plannedAt,
          decision: "superseded",
          target: displayTarget(decision.target),
          event: null,
          pushType: null,
          until: null,
          reason: null,
          supersededBy: by
        })
      }
    })
    decisionsAt.set(run.sessionPosition, list)
  }
  const runPosition = new Map(runs.map((run) => [run.id, run.sessionPosition]))
  const deliveriesAt = new Map<string, Array<TimelineDelivery>>()
  for (const delivery of deliveries) {
    const at = delivery.causedBy ?? (delivery.runId === null ? undefined : runPosition.get(delivery.runId))
    if (at === undefined) continue
    const list = deliveriesAt.get(at) ?? []
    list.push({
      id: delivery.id,
      attemptedAt: delivery.attemptedAt,
      token: tokenSuffix(delivery.token),
      pushType: delivery.pushType,
      event: delivery.event,
      priority: delivery.priority,
      headers: delivery.headers,
      payload: delivery.payload,
      status: delivery.status,
      reason: delivery.reason,
      apnsId: delivery.apnsId,
      latencyMs: delivery.latencyMs,
      outcome: delivery.outcome
    })
    deliveriesAt.set(at, list)
  }
  return events.map((event): TimelineStep => ({
    position: event.position,
    eventId: event.eventId,
    sessionId: event.sessionId,
    type: event.type,
    summary: summarizeEvent(event),
    sourceTime: event.sourceTime,
    receivedTime: event.receivedTime,
    outcome: event.applied === null ? "pending" : event.applied ? "applied" : "ignored",
    reason: event.reason,
    contentState: event.contentState ?? null,
    decisions: decisionsAt.get(event.position) ?? [],
    deliveries: deliveriesAt.get(event.position) ?? []
  }))
}
