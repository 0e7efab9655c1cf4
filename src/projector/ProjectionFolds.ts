import { Context } from "effect"
import type { LoggedEvent } from "../../domain/LoggedEvent.ts"

/**
 * The pure folds the projector runs, behind one interface so the runner (I/O)
 * and the folds (projections/, pure) stay apart. States are JSON values: they
 * are stored in jsonb and a rebuild must reach deep-equal ones.
 */
export interface FoldOutcome<S> {
  readonly state: S
  readonly applied: boolean
  /** Why an event changed nothing, in words (shown by the timeline). */
  readonly reason: string | null
}

export interface ProjectionFoldsShape {
  /** Sessions the event updates: usually its own, none for tenant-level events; given the tenant state after the event. */
  readonly sessionsOf: (event: LoggedEvent, tenantState: unknown) => ReadonlyArray<string>
  readonly initialSession: (tenant: string, sessionId: string) => unknown
  readonly applySession: (state: unknown, event: LoggedEvent) => FoldOutcome<unknown>
  /** Whether `event` changing `before` into `after` only waits for the throttle window (no need to wake the sender early). */
  readonly pacedByThrottle: (before: unknown, after: unknown, event: LoggedEvent) => boolean
  /** Whether the sender should handle the session ahead of progress-only ones after `event` made `after`. */
  readonly claimsFirst: (after: unknown, event: LoggedEvent) => boolean
  /** What the phone would show for a session state (stored per step for the timeline). */
  readonly shownState: (state: unknown) => unknown
  readonly touchesRegistrations: (event: LoggedEvent) => boolean
  readonly initialRegistrations: (tenant: string) => unknown
  readonly applyRegistrations: (state: unknown, event: LoggedEvent) => FoldOutcome<unknown>
}

export class ProjectionFolds extends Context.Tag("pushline/ProjectionFolds")<ProjectionFolds, ProjectionFoldsShape>() {}
