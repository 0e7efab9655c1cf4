import { tokenSuffix } from "../../projections/EventSummary.ts"
import { isIdentical, type RecordedPush, type ReplayedPush, type ReplayResult } from "../../projections/Replay.ts"
import { ReplayResponse } from "./Api.ts"

const replayed = (push: ReplayedPush) => ({
  plannedAt: push.plannedAt,
  causedBy: push.causedBy,
  token: tokenSuffix(push.token),
  pushType: push.pushType,
  event: push.event,
  priority: push.priority,
  content: push.content,
  answer: push.answer
})
const recorded = (push: RecordedPush) => ({ ...push, token: tokenSuffix(push.token) })

/** The replay as the API and `pushline replay --json` show it (tokens shortened). */
export const toReplayResponse = (sessionId: string, result: ReplayResult) =>
  new ReplayResponse({
    ok: true,
    sessionID: sessionId,
    settings: { throttleMs: result.settings.throttleMs, permissionGraceMs: result.settings.permissionGraceMs, endSettleMs: result.settings.endSettleMs },
    identical: isIdentical(result.diff),
    pushes: result.pushes.map(replayed),
    recorded: result.recorded.length,
    differences: {
      missing: result.diff.missing.map(replayed),
      extra: result.diff.extra.map(recorded),
      different: result.diff.different.map((pair) => ({ recorded: recorded(pair.recorded), replayed: replayed(pair.replayed) })),
      decisions: result.diff.decisions
    }
  })
