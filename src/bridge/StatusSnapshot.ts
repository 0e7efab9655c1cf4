import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { StatusSnapshotFailed } from "./BridgeErrors.ts"
import { syntheticEventId } from "./EventId.ts"
import type { ForwardedFrame, GlobalFrame } from "./Frames.ts"
import type { OpenCodeTarget } from "./GlobalEventStream.ts"

/**
 * `/global/event` has no resume: after a reconnect, events may be missing. The
 * bridge then reads `GET /session/status` and forwards one synthetic
 * `session.status` per session so the relay resynchronises. OpenCode lists only
 * sessions that are not idle, so sessions the bridge last saw active and that are
 * no longer listed get a synthetic idle: they finished while nobody was looking.
 * The synthetic ids carry the time the request started: anything OpenCode did
 * after that has a later id and wins over the snapshot.
 */
export type SessionStatus = { readonly type: string; readonly [key: string]: unknown }

/** Sessions seen busy or retrying and not idle since, by id, with their directory. */
export type ActiveSessions = ReadonlyMap<string, string | undefined>

/** The active set after a frame; the same set object when nothing changed. Pure. */
export const trackActive = (active: ActiveSessions, frame: GlobalFrame): ActiveSessions => {
  const { type, properties = {} } = frame.payload
  const sessionID = typeof properties.sessionID === "string" ? properties.sessionID : undefined
  if (sessionID === undefined) return active
  const status = (properties.status as SessionStatus | undefined)?.type
  const ends = type === "session.idle" || type === "session.deleted" || (type === "session.status" && status === "idle")
  if (ends) {
    if (!active.has(sessionID)) return active
    const next = new Map(active)
    next.delete(sessionID)
    return next
  }
  if (type === "session.status" && (status === "busy" || status === "retry") && !active.has(sessionID)) {
    return new Map(active).set(sessionID, frame.directory)
  }
  return active
}

/** The synthetic frames for a snapshot taken at `at`. Pure. */
export const snapshotFrames = (
  statuses: Readonly<Record<string, SessionStatus>>,
  active: ActiveSessions,
  at: number
): ReadonlyArray<ForwardedFrame> => {
  const frames: Array<ForwardedFrame> = []
  const add = (sessionID: string, status: SessionStatus, directory: string | undefined) => {
    const id = syntheticEventId(at, frames.length, `snapshot|${at}|${sessionID}|${JSON.stringify(status)}`)
    frames.push({
      ...(directory === undefined ? {} : { directory }),
      payload: { id, type: "session.status", properties: { sessionID, status } },
      seenAt: at
    })
  }
  for (const [sessionID, status] of Object.entries(statuses)) add(sessionID, status, active.get(sessionID))
  for (const [sessionID, directory] of active) {
    if (!(sessionID in statuses)) add(sessionID, { type: "idle" }, directory)
  }
  return frames
}

export const fetchStatuses = (target: OpenCodeTarget): Effect.Effect<Record<string, SessionStatus>, StatusSnapshotFailed> =>
  Effect.tryPromise({
    try: async () => {
      const response = await fetch(new URL("/session/status", target.url), {
        headers: target.authorization === undefined ? {} : { authorization: target.authorization },
        signal: AbortSignal.timeout(10_000)
      })
      if (!response.ok) throw new Error(`HTTP ${response.status}`)
      const body = await response.json()
      if (typeof body !== "object" || body === null || Array.isArray(body)) throw new Error("not a {sessionID: status} object")
      return body as Record<string, SessionStatus>
    },
    catch: (error) => new StatusSnapshotFailed({ reason: `GET ${target.url}/session/status: ${error instanceof Error ? error.message : String(error)}` })
  })

/** The active set survives bridge restarts beside the spool (small; rewritten when it changes). */
export const loadActive = (dir: string): Map<string, string | undefined> => {
  try {
    const entries = JSON.parse(fs.readFileSync(path.join(dir, "active.json"), "utf8"))
    if (Array.isArray(entries)) return new Map(entries.filter((e) => typeof e?.[0] === "string").map((e) => [e[0], e[1] ?? undefined]))
  } catch {
    // none yet
  }
  return new Map()
}

export const saveActive = (dir: string, active: ActiveSessions): void => {
  const tmp = path.join(dir, "active.json.tmp")
  fs.writeFileSync(tmp, JSON.stringify([...active]))
  fs.renameSync(tmp, path.join(dir, "active.json"))
}
