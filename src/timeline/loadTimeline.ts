import { Effect } from "effect"
import { buildTimeline, type TimelineStep } from "../../projections/Timeline.ts"
import { readDeliveries, readRuns, readTimelineEvents } from "./Repo.ts"

export interface TimelinePage {
  readonly steps: ReadonlyArray<TimelineStep>
  /** Pass as `after` for the next page; null on the last one. */
  readonly nextAfter: string | null
}

/** One page of a session's timeline (steps after `after`, at most `limit`); null when the session has no events. */
export const loadTimeline = (tenant: string, sessionId: string, after: bigint, limit: number) =>
  Effect.gen(function*() {
    const events = yield* readTimelineEvents(tenant, sessionId, after, limit)
    const first = events[0]
    const last = events[events.length - 1]
    if (first === undefined || last === undefined) {
      return after === 0n ? null : ({ steps: [], nextAfter: null } satisfies TimelinePage)
    }
    const runs = yield* readRuns(tenant, sessionId)
    const deliveries = yield* readDeliveries(tenant, sessionId, { from: first.position, to: last.position })
    return {
      steps: buildTimeline(events, runs, deliveries),
      nextAfter: events.length === limit ? last.position : null
    } satisfies TimelinePage
  })
