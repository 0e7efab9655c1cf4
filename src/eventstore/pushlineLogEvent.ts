import { Clock, Effect, Schema } from "effect"
import * as crypto from "node:crypto"
import type { NewEvent } from "../../domain/LoggedEvent.ts"
import { PushlineEvent } from "../../domain/PushlineEvent.ts"

const encode = Schema.encodeSync(PushlineEvent)

/**
 * Wraps one of Pushline's own events for the log. Each request is a new event
 * (re-registering after an unregister must count) unless the client sends an
 * `Idempotency-Key`, which makes a retried request a duplicate.
 */
export const pushlineLogEvent = (
  tenant: string,
  sessionId: string,
  event: PushlineEvent,
  idempotencyKey: string | undefined
) =>
  Effect.map(Clock.currentTimeMillis, (now): NewEvent => ({
    tenant,
    sessionId,
    eventId: idempotencyKey !== undefined && idempotencyKey !== ""
      ? `key_${crypto.createHash("sha256").update(`${event._tag}\n${idempotencyKey}`).digest("hex").slice(0, 40)}`
      : `pl_${crypto.randomUUID()}`,
    type: event._tag,
    payload: encode(event),
    meta: {},
    sourceTime: now
  }))

export const idempotencyKeyOf = (headers: Readonly<Record<string, string | undefined>>) => headers["idempotency-key"]
