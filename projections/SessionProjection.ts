import { LegacyEventPosted } from "../domain/PushlineEvent.ts"
import {
  decodeSessionState,
  decodeRegistrations,
  initialSessionState,
  initialRegistrations,
  type SessionState,
  type Registrations
} from "../domain/SessionState.ts"
import type { Folds } from "./FoldBatch.ts"
import { claimsFirst, contentStateOf, pacedByThrottle } from "./PushPlanner.ts"
import { applySession } from "./SessionFold.ts"
import { applyRegistrations, sessionsOfEvent, touchesRegistrations } from "./RegistrationsFold.ts"

/**
 * The projection the relay runs: Live Activity state per session, devices
 * and subagent links per tenant, routed and paced by the rules below. The
 * live projector and rebuild fold the log with it; replay uses the same
 * session and tenant folds.
 */
export const sessionFolds: Folds<SessionState, Registrations> = {
  sessionsOf: sessionsOfEvent,
  initialSession: (_tenant, sessionId) => initialSessionState(sessionId),
  applySession,
  // A legacy /v1/event post waits for the pushes it causes, so it always wakes the sender.
  pacedByThrottle: (before, after, event) => event.type !== LegacyEventPosted._tag && pacedByThrottle(before, after),
  // A /v1/event post waits (at most 2 s) for its pushes: first in line too.
  claimsFirst: (after, event) => event.type === LegacyEventPosted._tag || claimsFirst(after),
  shownState: contentStateOf,
  touchesRegistrations: touchesRegistrations,
  initialRegistrations: () => initialRegistrations(),
  applyRegistrations: applyRegistrations,
  decodeSession: decodeSessionState,
  decodeRegistrations: decodeRegistrations
}
