/**
 * What the session fold keeps per (tenant, session): plain JSON, stored in
 * jsonb, so a rebuild from position 0 must reach a deep-equal value.
 * Times are epoch milliseconds from the events themselves.
 */
export type SessionStatus = "idle" | "working" | "retry" | "permission" | "complete" | "error"

export interface PendingPermission {
  readonly id: string
  /** e.g. "bash: npm install" */
  readonly label: string
  readonly askedAt: number
  /** The subagent session that asked, when not this one. */
  readonly fromSession: string | null
}

export interface QueuedAlert {
  readonly seq: number
  readonly eventType: "complete" | "permission" | "error"
  readonly title: string
  readonly body: string
  readonly position: string
  readonly permissionId: string | null
  readonly at: number
}

export interface ActivityTarget {
  readonly token: string
  readonly apnsEnv: "sandbox" | "production"
  readonly bundleId: string | null
}

export interface SessionState {
  readonly sessionId: string
  readonly parentId: string | null
  readonly title: string
  readonly status: SessionStatus
  readonly lastMessage: string
  readonly retryInfo: string | null
  readonly turn: number
  readonly turnStartedAt: number | null
  readonly permissions: ReadonlyArray<PendingPermission>
  readonly statusBeforePermission: "working" | "retry"
  readonly turnError: { readonly name: string; readonly message: string } | null
  readonly aborted: boolean
  readonly userMessageIds: ReadonlyArray<string>
  /** Newest OpenCode event applied: (source time, event id), for out-of-order dedup. */
  readonly newest: { readonly time: number; readonly id: string } | null
  readonly activity: ActivityTarget | null
  readonly alerts: ReadonlyArray<QueuedAlert>
  readonly alertSeq: number
  /** Position of the newest event that changed this state. */
  readonly lastPosition: string
}

export const initialSessionState = (sessionId: string): SessionState => ({
  sessionId,
  parentId: null,
  title: "",
  status: "idle",
  lastMessage: "",
  retryInfo: null,
  turn: 0,
  turnStartedAt: null,
  permissions: [],
  statusBeforePermission: "working",
  turnError: null,
  aborted: false,
  userMessageIds: [],
  newest: null,
  activity: null,
  alerts: [],
  alertSeq: 0,
  lastPosition: "0"
})

export interface DeviceRegistration {
  readonly bundleId: string | null
  readonly apnsEnv: "sandbox" | "production"
  readonly pushToStartToken: string | null
  readonly events: ReadonlyArray<"complete" | "permission" | "error">
}

/** Tenant-level state: devices, subagent parents, dead tokens. */
export interface TenantState {
  readonly devices: Readonly<Record<string, DeviceRegistration>>
  readonly parents: Readonly<Record<string, string>>
}

export const initialTenantState = (): TenantState => ({ devices: {}, parents: {} })
