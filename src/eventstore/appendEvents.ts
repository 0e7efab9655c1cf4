import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import type { NewEvent } from "../../domain/LoggedEvent.ts"

/**
 * Wakes projectors; they also poll, so a lost notification only delays them.
 * The payload must not be empty: @effect/sql-pg's listen drops empty payloads.
 */
export const EVENTS_CHANNEL = "pushline_events"

export interface AppendResult {
  /** Positions of the newly stored events, in input order (duplicates left out). */
  readonly appended: ReadonlyArray<{ readonly eventId: string; readonly position: bigint }>
  /** Events whose (tenant, event id) was already in the log, or repeated in the batch. */
  readonly duplicates: number
}

/**
 * Appends a batch in one transaction: all of it is committed or none. An event
 * whose (tenant, event id) is already stored is skipped, not an error, so a
 * client may resend a batch it is unsure about. One statement, one round trip
 * (the batch travels as a single JSON parameter), committed synchronously
 * before it returns: an acknowledged event is durable.
 */
export const appendEvents = (events: ReadonlyArray<NewEvent>) =>
  Effect.gen(function*() {
    if (events.length === 0) return { appended: [], duplicates: 0 } satisfies AppendResult
    const sql = yield* SqlClient.SqlClient
    const rows = events.map((event) => ({
      tenant: event.tenant,
      session_id: event.sessionId,
      event_id: event.eventId,
      type: event.type,
      payload: event.payload,
      meta: event.meta,
      source_time: new Date(event.sourceTime).toISOString()
    }))
    // The insert and its NOTIFY (sent only when something was new) in one statement, so
    // one implicit transaction that has committed when the answer arrives.
    const inserted = yield* sql<{ position: string; event_id: string }>`
      with inserted as (
        insert into events (tenant, session_id, event_id, type, payload, meta, source_time)
        select item->>'tenant', item->>'session_id', item->>'event_id', item->>'type',
               item->'payload', item->'meta', (item->>'source_time')::timestamptz
        from jsonb_array_elements(${JSON.stringify(rows)}::jsonb) with ordinality as batch(item, ordinality)
        order by ordinality
        on conflict (tenant, event_id) do nothing
        returning position, event_id
      ),
      notified as (
        select count(pg_notify(${EVENTS_CHANNEL}, 'appended')) as sent
        from (select 1 from inserted limit 1) as any_new
      )
      select inserted.position, inserted.event_id from inserted, notified`
    const appended = inserted
      .map((row) => ({ eventId: row.event_id, position: BigInt(row.position) }))
      .sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0))
    return { appended, duplicates: events.length - appended.length } satisfies AppendResult
  })
