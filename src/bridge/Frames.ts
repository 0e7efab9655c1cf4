/**
 * What the bridge reads from `/global/event` and forwards: the frame as
 * OpenCode sent it, plus `seenAt` (epoch ms) stamped when the bridge saw it.
 */
export interface OpenCodePayload {
  readonly id?: string
  readonly type: string
  readonly properties?: Record<string, unknown>
}

export interface GlobalFrame {
  readonly directory?: string
  readonly project?: string
  readonly payload: OpenCodePayload
}

export interface ForwardedFrame extends GlobalFrame {
  readonly seenAt: number
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** A parsed SSE `data:` value as a frame, or undefined when it is not one. */
export const asGlobalFrame = (value: unknown): GlobalFrame | undefined => {
  if (!isRecord(value) || !isRecord(value.payload) || typeof value.payload.type !== "string") return undefined
  return value as unknown as GlobalFrame
}

/** `sync` repeats other events; `server.connected` and heartbeats are transport. */
export const isForwarded = (frame: GlobalFrame): boolean =>
  frame.payload.type !== "sync" && !frame.payload.type.startsWith("server.")
