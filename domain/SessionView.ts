/**
 * What the session fold keeps per (tenant, session): the session as the phone
 * should see it. Plain JSON (no Dates, no bigint: positions are decimal
 * strings, times epoch ms), stored in jsonb; a rebuild from position 0 reaches
 * a deep-equal value.
 */

/** How a turn ended. `stopped` = aborted by the user or the session was deleted: ends quietly. */
export type TurnOutcome = "complete" | "error" | "stopped"

export interface Turn {
  /** 1 for the session's first turn. */
  readonly number: number
  /** Source time of the event that started it, epoch ms. */
  readonly startedAt: number
  /** null while the turn runs. */
  readonly outcome: TurnOutcome | null
  readonly endedAt: number | null
  /** `session.error` seen in this turn; it takes effect at the idle that follows. */
  readonly error: { readonly name: string; readonly message: string } | null
  /** `MessageAbortedError` seen in this turn. */
  readonly aborted: boolean
  /** The current retry, while OpenCode waits to retry the model. */
  readonly retry: { readonly attempt: number; readonly message: string; readonly info: string } | null
}

export interface PendingPermission {
  /** OpenCode's request id (`per_...`), or `legacy:<eventId>` for a legacy post. */
  readonly id: string
  /** Shown as lastMessage, e.g. `bash: npm install`. */
  readonly label: string
  /** The session that asked: this one, or a subagent of it. */
  readonly sessionId: string
  readonly askedAt: number
  /** Legacy posts were already decided by their sender: no grace. */
  readonly immediate: boolean
}

export type AlertEventType = "complete" | "permission" | "error"

/** An alert the fold decided on; the planner sends each once (permission ones after the grace, if still pending). */
export interface QueuedAlert {
  /** Ascending per session. */
  readonly seq: number
  readonly eventType: AlertEventType
  readonly title: string
  readonly body: string
  /** The permission it is about: dropped if answered within the grace. */
  readonly permissionId: string | null
  readonly at: number
  /** Log position of the event that raised it. */
  readonly position: string
}

export interface SessionView {
  readonly tenant: string
  readonly sessionId: string
  /** Set for subagent sessions, which get no pushes of their own. */
  readonly parentId: string | null
  readonly title: string
  /** The OpenCode server it runs on (from the event meta or a legacy post), echoed in alerts. */
  readonly serverId: string | null
  readonly deleted: boolean
  /** The current or last turn; null before the first. */
  readonly turn: Turn | null
  /** Newest assistant text or running tool, trimmed; "" at a turn's start. */
  readonly lastMessage: string
  /** The text part being streamed by deltas (first few hundred characters). */
  readonly streaming: { readonly partId: string; readonly text: string } | null
  /** User prompt messages, so their text parts are not shown as the assistant's (newest 20). */
  readonly userMessageIds: ReadonlyArray<string>
  /** Pending permission requests, this session's and its subagents'. */
  readonly permissions: ReadonlyArray<PendingPermission>
  /** Newest alerts (at most 20), oldest first. */
  readonly alerts: ReadonlyArray<QueuedAlert>
  readonly alertSeq: number
  /** Newest of this session's own OpenCode events read: (source time, event id), for out-of-order dedup. */
  readonly newest: { readonly sourceTime: number; readonly eventId: string } | null
  /** Position of the newest event that changed this view. */
  readonly lastPosition: string
  /** Source time of that event. */
  readonly changedAt: number
}

export const initialSessionView = (tenant: string, sessionId: string): SessionView => ({
  tenant,
  sessionId,
  parentId: null,
  title: "",
  serverId: null,
  deleted: false,
  turn: null,
  lastMessage: "",
  streaming: null,
  userMessageIds: [],
  permissions: [],
  alerts: [],
  alertSeq: 0,
  newest: null,
  lastPosition: "0",
  changedAt: 0
})

export const isTurnRunning = (view: SessionView): boolean => view.turn !== null && view.turn.outcome === null
