import { Effect } from "effect"
import type { NewEvent } from "../../domain/LoggedEvent.ts"
import { sessionFolds } from "../../projections/SessionProjection.ts"
import { appendEvents } from "../../src/eventstore/appendEvents.ts"
import { readAfter } from "../../src/eventstore/readAfter.ts"
import { loadCheckpoint } from "../../src/projector/Checkpoints.ts"
import { projectBatch } from "../../src/projector/projectBatch.ts"

/** Appends the events and projects everything new with the session projection, as the projector's loop does. */
export const projectNew = (...events: Array<NewEvent>) =>
  Effect.gen(function*() {
    yield* appendEvents(events)
    const from = yield* loadCheckpoint("sessions")
    const batch = yield* readAfter(from, 1000)
    yield* projectBatch(sessionFolds, "sessions", from, batch.checkpoint, batch.events, { markDue: true })
  })
