import { Either, ParseResult, Schema } from "effect"

/**
 * The OpenCode events Pushline reads (OpenCode 1.18, the `@opencode-ai/sdk/v2`
 * shapes), as the bare `{id, type, properties}` the log stores. Only the fields
 * the session fold uses are declared; everything else OpenCode sends is
 * ignored on decode, so new fields never break reading. Any other `type`
 * passes through as `Unread` (see `readOpenCodeEvent`).
 */

/** `info` of session.created / updated / deleted. */
export const SessionInfo = Schema.Struct({
  id: Schema.String,
  parentID: Schema.optional(Schema.String),
  title: Schema.optional(Schema.String)
})
export type SessionInfo = typeof SessionInfo.Type

const sessionInfoEvent = <T extends string>(type: T) =>
  Schema.Struct({
    id: Schema.String,
    type: Schema.Literal(type),
    properties: Schema.Struct({ sessionID: Schema.optional(Schema.String), info: SessionInfo })
  })

export const SessionCreated = sessionInfoEvent("session.created")
export const SessionUpdated = sessionInfoEvent("session.updated")
export const SessionDeleted = sessionInfoEvent("session.deleted")

export const StatusIdle = Schema.Struct({ type: Schema.Literal("idle") })
export const StatusBusy = Schema.Struct({ type: Schema.Literal("busy") })
export const StatusRetry = Schema.Struct({
  type: Schema.Literal("retry"),
  attempt: Schema.Number,
  message: Schema.String,
  /** When the next attempt starts, epoch ms. */
  next: Schema.Number
})
export const SessionStatusValue = Schema.Union(StatusIdle, StatusBusy, StatusRetry)
export type SessionStatusValue = typeof SessionStatusValue.Type

export const SessionStatus = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("session.status"),
  properties: Schema.Struct({ sessionID: Schema.String, status: SessionStatusValue })
})

/** Deprecated duplicate of `session.status` idle; still sent. */
export const SessionIdle = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("session.idle"),
  properties: Schema.Struct({ sessionID: Schema.String })
})

/** Names seen: APIError, ProviderAuthError, UnknownError, MessageOutputLengthError, MessageAbortedError, ... */
export const SessionErrorValue = Schema.Struct({
  name: Schema.String,
  data: Schema.optional(Schema.Struct({ message: Schema.optional(Schema.String) }))
})
export type SessionErrorValue = typeof SessionErrorValue.Type

export const SessionError = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("session.error"),
  properties: Schema.Struct({
    sessionID: Schema.optional(Schema.String),
    error: Schema.optional(SessionErrorValue)
  })
})

export const MessageUpdated = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("message.updated"),
  properties: Schema.Struct({
    sessionID: Schema.String,
    info: Schema.Struct({
      id: Schema.String,
      role: Schema.String,
      error: Schema.optional(SessionErrorValue)
    })
  })
})

export const TextPart = Schema.Struct({
  type: Schema.Literal("text"),
  id: Schema.String,
  messageID: Schema.String,
  text: Schema.String
})

export const ToolState = Schema.Struct({
  status: Schema.Literal("pending", "running", "completed", "error"),
  input: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  title: Schema.optional(Schema.String)
})

export const ToolPart = Schema.Struct({
  type: Schema.Literal("tool"),
  id: Schema.String,
  messageID: Schema.String,
  tool: Schema.String,
  state: ToolState
})
export type ToolPart = typeof ToolPart.Type

/** step-start, step-finish, reasoning, file, ...: read only for their type. */
export const OtherPart = Schema.Struct({
  type: Schema.String.pipe(Schema.filter((type) => type !== "text" && type !== "tool")),
  messageID: Schema.optional(Schema.String)
})

export const Part = Schema.Union(TextPart, ToolPart, OtherPart)
export type Part = typeof Part.Type
export type TextPart = typeof TextPart.Type

// `type: string` of other parts does not narrow the union: these guards do.
export const isTextPart = (part: Part): part is TextPart => part.type === "text"
export const isToolPart = (part: Part): part is ToolPart => part.type === "tool"

export const MessagePartUpdated = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("message.part.updated"),
  properties: Schema.Struct({ sessionID: Schema.String, part: Part })
})

export const MessagePartDelta = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("message.part.delta"),
  properties: Schema.Struct({
    sessionID: Schema.String,
    messageID: Schema.String,
    partID: Schema.String,
    field: Schema.String,
    delta: Schema.String
  })
})

export const PermissionAsked = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("permission.asked"),
  properties: Schema.Struct({
    /** The request id (`per_...`), answered by `permission.replied.requestID`. */
    id: Schema.String,
    sessionID: Schema.String,
    permission: Schema.String,
    patterns: Schema.Array(Schema.String)
  })
})

export const PermissionReplied = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("permission.replied"),
  properties: Schema.Struct({
    sessionID: Schema.String,
    requestID: Schema.String,
    reply: Schema.String
  })
})

export const OpenCodeEvent = Schema.Union(
  SessionCreated,
  SessionUpdated,
  SessionDeleted,
  SessionStatus,
  SessionIdle,
  SessionError,
  MessageUpdated,
  MessagePartUpdated,
  MessagePartDelta,
  PermissionAsked,
  PermissionReplied
)
export type OpenCodeEvent = typeof OpenCodeEvent.Type

type Decoder = (input: unknown) => Either.Either<OpenCodeEvent, ParseResult.ParseError>

/** One decoder per type, so a malformed event's problem names its own schema, not the whole union's. */
const decoders: Readonly<Record<string, Decoder>> = {
  "session.created": Schema.decodeUnknownEither(SessionCreated),
  "session.updated": Schema.decodeUnknownEither(SessionUpdated),
  "session.deleted": Schema.decodeUnknownEither(SessionDeleted),
  "session.status": Schema.decodeUnknownEither(SessionStatus),
  "session.idle": Schema.decodeUnknownEither(SessionIdle),
  "session.error": Schema.decodeUnknownEither(SessionError),
  "message.updated": Schema.decodeUnknownEither(MessageUpdated),
  "message.part.updated": Schema.decodeUnknownEither(MessagePartUpdated),
  "message.part.delta": Schema.decodeUnknownEither(MessagePartDelta),
  "permission.asked": Schema.decodeUnknownEither(PermissionAsked),
  "permission.replied": Schema.decodeUnknownEither(PermissionReplied)
}

/** The OpenCode event types Pushline reads; every other type passes by. */
export const readTypes: ReadonlySet<string> = new Set(Object.keys(decoders))

/** How an event reads: one we use, one we do not read, or one of ours that does not match its schema. */
export type ReadEvent =
  | { readonly _tag: "Read"; readonly event: OpenCodeEvent }
  | { readonly _tag: "Unread"; readonly type: string }
  | { readonly _tag: "Malformed"; readonly type: string; readonly problem: string }

/** Reads a bare OpenCode event; unknown types pass through harmlessly as `Unread`. */
export const readOpenCodeEvent = (payload: unknown): ReadEvent => {
  const type = typeof payload === "object" && payload !== null && "type" in payload ? payload.type : undefined
  const decoder = typeof type === "string" && Object.hasOwn(decoders, type) ? decoders[type] : undefined
  if (typeof type !== "string" || decoder === undefined) {
    return { _tag: "Unread", type: typeof type === "string" ? type : "(no type)" }
  }
  const result = decoder(payload)
  return Either.isRight(result)
    ? { _tag: "Read", event: result.right }
    : { _tag: "Malformed", type, problem: ParseResult.TreeFormatter.formatErrorSync(result.left) }
}
