/**
 * One line saying what an event was, for the timeline and the CLI. Pure; it
 * never shows more than a short piece of message text, and never a full token.
 */
const record = (value: unknown): Record<string, any> => (typeof value === "object" && value !== null ? (value as Record<string, any>) : {})
const MAX = 120

const clip = (text: string, max = 60) => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`
}
const quoted = (text: unknown) => `"${clip(typeof text === "string" ? text : "")}"`
/** Tokens are secrets of a sort: the last 8 characters identify one well enough. */
export const tokenSuffix = (token: unknown) => (typeof token === "string" ? `…${token.slice(-8)}` : "…")

const summarizePart = (part: Record<string, any>): string => {
  switch (part.type) {
    case "text":
      return `text ${quoted(part.text)}`
    case "reasoning":
      return "reasoning"
    case "tool": {
      const state = record(part.state)
      const input = record(state.input)
      const detail = typeof input.command === "string" ? ` ${quoted(input.command)}` : typeof input.filePath === "string" ? ` ${input.filePath}` : ""
      return `tool ${part.tool ?? "?"} ${state.status ?? ""}${detail}`.trim()
    }
    case "step-start":
      return "step started"
    case "step-finish":
      return `step finished (${part.reason ?? "?"})`
    default:
      return `part ${part.type ?? "?"}`
  }
}

const summarizeOpenCode = (type: string, props: Record<string, any>): string => {
  switch (type) {
    case "session.created":
    case "session.updated": {
      const info = record(props.info)
      const parent = typeof info.parentID === "string" ? ` (subagent of ${info.parentID})` : ""
      return `${type === "session.created" ? "created" : "updated"} ${quoted(info.title)}${parent}`
    }
    case "session.status": {
      const status = record(props.status)
      if (status.type === "retry") return `status retry (attempt ${status.attempt ?? "?"}: ${clip(String(status.message ?? ""))})`
      return `status ${status.type ?? "?"}`
    }
    case "session.idle":
      return "idle"
    case "session.error": {
      const error = record(props.error)
      const message = record(error.data).message
      return `error ${error.name ?? "?"}${typeof message === "string" ? `: ${clip(message)}` : ""}`
    }
    case "message.updated": {
      const info = record(props.info)
      const finish = typeof info.finish === "string" ? `, ${info.finish}` : ""
      const error = record(info.error).name
      return `${info.role ?? "?"} message${finish}${typeof error === "string" ? `, ${error}` : ""}`
    }
    case "message.part.updated":
      return summarizePart(record(props.part))
    case "message.part.delta":
      return `+${String(props.delta ?? "").length} chars of ${props.field ?? "text"}`
    case "permission.asked": {
      const patterns = Array.isArray(props.patterns) ? props.patterns.join(", ") : ""
      return `permission asked: ${props.permission ?? "?"} ${quoted(patterns)}`
    }
    case "permission.replied":
      return `permission answered: ${props.reply ?? "?"}`
    case "question.asked": {
      // Each question with its options, as the user is asked them.
      const questions = (Array.isArray(props.questions) ? props.questions : []).map((q: unknown) => {
        const question = record(q)
        const options = (Array.isArray(question.options) ? question.options : []).map((o: unknown) => String(record(o).label ?? "?"))
        const header = typeof question.header === "string" && question.header !== "" ? `${question.header}: ` : ""
        return `${header}${quoted(String(question.question ?? ""))} [${options.join(" | ")}]${question.multiple === true ? " (several)" : ""}`
      })
      return `question asked: ${questions.join("; ")}`
    }
    case "question.replied": {
      const answers = Array.isArray(props.answers) ? props.answers.map((a: unknown) => (Array.isArray(a) ? a.join(", ") : String(a))) : []
      return `question answered: ${answers.join("; ")}`
    }
    case "question.rejected":
      return "question dismissed"
    default:
      return type
  }
}

const summarizePushline = (type: string, payload: Record<string, any>): string => {
  switch (type) {
    case "pushline.device.registered": {
      const events = Array.isArray(payload.events) && payload.events.length > 0 ? payload.events.join(", ") : "no alerts"
      const start = payload.pushToStartToken ? `, push-to-start ${tokenSuffix(payload.pushToStartToken)}` : ""
      return `device ${tokenSuffix(payload.deviceToken)} registered (${payload.apnsEnv}; ${events}${start})`
    }
    case "pushline.device.unregistered":
      return `device ${tokenSuffix(payload.deviceToken)} unregistered`
    case "pushline.activity.registered":
      return `activity token ${tokenSuffix(payload.activityToken)} registered (${payload.apnsEnv})`
    case "pushline.activity.unregistered":
      return "activity token unregistered"
    case "pushline.legacy.event":
      return `legacy ${payload.eventType}${payload.title ? ` ${quoted(payload.title)}` : ""}`
    case "pushline.token.invalidated":
      return `token ${tokenSuffix(payload.token)} invalidated (${payload.reason})`
    case "pushline.token.environment":
      return `token ${tokenSuffix(payload.token)} is a ${payload.apnsEnv} token (its registered environment answered ${payload.reason})`
    default:
      return type
  }
}

/** Ingest replaced a client time too far ahead of the relay's clock by the receive time. */
const clampNote = (meta: Readonly<Record<string, unknown>> | undefined) => {
  const said = meta?.clampedSeenAt ?? meta?.clampedSourceTime
  return typeof said === "number" ? ` (its time ${new Date(Math.min(said, 8.64e15)).toISOString()} was ahead of the relay's clock: taken as received)` : ""
}

export const summarizeEvent = (event: { readonly type: string; readonly payload: unknown; readonly meta?: Readonly<Record<string, unknown>> }): string => {
  const payload = record(event.payload)
  const line = event.type.startsWith("pushline.")
    ? summarizePushline(event.type, payload)
    : summarizeOpenCode(event.type, record(payload.properties))
  return clip(line, MAX) + clampNote(event.meta)
}
