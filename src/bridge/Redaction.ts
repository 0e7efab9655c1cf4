import type { ForwardedFrame } from "./Frames.ts"

/**
 * `--redact`: only statuses leave the machine. Message text, tool input and
 * output, titles (they are generated from the prompt) and error messages are
 * dropped; what remains is enough for working / retry / permission / complete
 * / error. Pure.
 */
const STATUS_TYPES = new Set([
  "session.created",
  "session.updated",
  "session.deleted",
  "session.status",
  "session.idle",
  "session.error",
  "permission.asked",
  "permission.replied",
  "question.asked",
  "question.replied",
  "question.rejected"
])

type Props = Record<string, any>

const redactProperties = (type: string, p: Props): Props => {
  switch (type) {
    case "session.created":
    case "session.updated":
    case "session.deleted": {
      const info = p.info ?? {}
      return {
        sessionID: p.sessionID ?? info.id,
        info: {
          id: info.id,
          ...(info.parentID === undefined ? {} : { parentID: info.parentID }),
          ...(info.time === undefined ? {} : { time: info.time })
        }
      }
    }
    case "session.status": {
      const status = p.status ?? {}
      // Retry messages come from the provider; the attempt and time are enough.
      return { sessionID: p.sessionID, status: status.type === "retry" ? { type: "retry", attempt: status.attempt, next: status.next, message: "" } : status }
    }
    case "session.error":
      return {
        ...(p.sessionID === undefined ? {} : { sessionID: p.sessionID }),
        ...(p.error === undefined ? {} : { error: { name: p.error.name, data: { message: "" } } })
      }
    case "permission.asked":
      return { id: p.id, sessionID: p.sessionID, permission: p.permission, patterns: [], metadata: {}, always: [] }
    // The question and its options are the user's words: only that one is asked, and its answer.
    case "question.asked":
      return { id: p.id, sessionID: p.sessionID, questions: [] }
    case "question.replied":
    case "question.rejected":
      return { sessionID: p.sessionID, requestID: p.requestID }
    default:
      return p
  }
}

export const redact = (frame: ForwardedFrame): ForwardedFrame | undefined => {
  const { type } = frame.payload
  if (!STATUS_TYPES.has(type)) return undefined
  return { ...frame, payload: { ...frame.payload, properties: redactProperties(type, frame.payload.properties ?? {}) } }
}
