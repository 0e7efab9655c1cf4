import { Either, Schema } from "effect"
import { fieldMessage, ShortText } from "../http/Fields.ts"
import type { NewEvent } from "../../domain/LoggedEvent.ts"
import { sourceTimeFromId } from "../../domain/OpenCodeEventId.ts"

/**
 * Turns a posted batch (`/global/event` frames or bare `{id, type, properties}`
 * events) into log events. Pure: the tenant and the receive time come in.
 * One bad item rejects the whole batch, naming its index.
 */
export const OpenCodeBatchBody = Schema.Struct({
  serverID: Schema.optional(ShortText(200)),
  events: Schema.Array(Schema.Unknown).annotations({
    message: fieldMessage("must be an array of OpenCode events or /global/event frames"),
    description: "`/global/event` frames `{directory, project, payload: {id, type, properties}}` or bare `{id, type, properties}`; each may carry `seenAt` (epoch ms)"
  })
})
export type OpenCodeBatchBody = typeof OpenCodeBatchBody.Type

/** Frames that carry no session event: `sync` repeats others, `server.*` are transport. */
export const isSkippedType = (type: string) => type === "sync" || type.startsWith("server.")

/** Decoded ids further than this from when the event was seen are not trusted as times. */
const MAX_ID_SKEW_MS = 24 * 60 * 60 * 1000

/**
 * A client time (`seenAt`, or the time in an event id) more than this ahead of the relay's
 * clock is taken as the receive time: one event stamped ahead would otherwise become the
 * session's newest and every real event after it would be ignored as older.
 */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000

/** The latest time JavaScript can represent (a Date's limit), and so the upper bound of `seenAt`. */
const MAX_TIME_MS = 8_640_000_000_000_000

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const stringAt = (record: unknown, key: string): string | undefined =>
  isRecord(record) && typeof record[key] === "string" && record[key] !== "" ? (record[key] as string) : undefined

/** The session an OpenCode event belongs to, or "" for server-level events. */
export const sessionIdOf = (type: string, properties: Record<string, unknown>): string =>
  stringAt(properties, "sessionID") ??
    stringAt(properties.info, "sessionID") ??
    (type.startsWith("session.") ? stringAt(properties.info, "id") : undefined) ??
    stringAt(properties.part, "sessionID") ??
    ""

export interface ParsedBatch {
  readonly events: ReadonlyArray<NewEvent>
  readonly skipped: number
}

export const parseOpenCodeBatch = (
  body: OpenCodeBatchBody,
  tenant: string,
  receivedAt: number
): Either.Either<ParsedBatch, string> => {
  const events: Array<NewEvent> = []
  let skipped = 0
  for (let index = 0; index < body.events.length; index++) {
    const item = body.events[index]
    const at = `events[${index}]`
    if (!isRecord(item)) return Either.left(`${at}: must be an object`)
    const isFrame = "payload" in item
    const inner = isFrame ? item.payload : item
    if (!isRecord(inner)) return Either.left(`${at}.payload: must be an object`)
    const where = isFrame ? `${at}.payload` : at
    if (typeof inner.type !== "string" || inner.type === "") {
      return Either.left(`${where}.type: is required (a non-empty string)`)
    }
    if (isSkippedType(inner.type)) {
      skipped++
      continue
    }
    if (typeof inner.id !== "string" || inner.id === "") {
      return Either.left(`${where}.id: is required (a non-empty string)`)
    }
    if (inner.id.length > 200) return Either.left(`${where}.id: must be at most 200 characters`)
    const properties = inner.properties ?? {}
    if (!isRecord(properties)) return Either.left(`${where}.properties: must be an object`)
    const seenAt = item.seenAt
    if (seenAt !== undefined && (typeof seenAt !== "number" || !Number.isInteger(seenAt) || seenAt < 1 || seenAt > MAX_TIME_MS)) {
      return Either.left(`${at}.seenAt: must be whole epoch milliseconds from 1 to ${MAX_TIME_MS}`)
    }
    const latest = receivedAt + MAX_FUTURE_SKEW_MS
    const reference = typeof seenAt === "number" && seenAt <= latest ? seenAt : receivedAt
    const fromId = sourceTimeFromId(inner.id, reference)
    const trusted = fromId !== undefined && Math.abs(fromId - reference) <= MAX_ID_SKEW_MS ? fromId : reference
    const sourceTime = trusted <= latest ? trusted : receivedAt
    const meta: Record<string, unknown> = {}
    // Kept, so the log says which client time was not believed.
    if (typeof seenAt === "number" && seenAt > latest) meta.clampedSeenAt = seenAt
    if (trusted > latest) meta.clampedSourceTime = trusted
    if (body.serverID !== undefined) meta.serverID = body.serverID
    if (isFrame && typeof item.directory === "string") meta.directory = item.directory
    if (typeof seenAt === "number") meta.seenAt = seenAt
    events.push({
      tenant,
      sessionId: sessionIdOf(inner.type, properties),
      eventId: inner.id,
      type: inner.type,
      payload: { id: inner.id, type: inner.type, properties },
      meta,
      sourceTime
    })
  }
  return Either.right({ events, skipped })
}
