import { LAST_MESSAGE_MAX } from "../domain/ContentState.ts"
import type { ContentStateFields } from "../domain/PushIntent.ts"
import type { PendingPermission, SessionView } from "../domain/SessionView.ts"
import { trimAtWord } from "./ApnsPayload.ts"

/**
 * The Live Activity content-state a session view shows at a given time. The
 * only time-dependent part is the permission grace: a permission asked less
 * than `graceMs` ago is not shown yet (it is often answered by a rule within
 * milliseconds), so the activity keeps showing the work until the grace ends.
 */

/** lastMessage: whitespace collapsed, at most LAST_MESSAGE_MAX characters, cut at a word boundary. */
export const trimLastMessage = (text: string): string => trimAtWord(text, LAST_MESSAGE_MAX)

/** e.g. `Retry 2 in 8s`: seconds from the retry status event to the next attempt. */
export const retryInfoText = (attempt: number, nextMs: number, atMs: number): string =>
  `Retry ${attempt} in ${Math.max(0, Math.round((nextMs - atMs) / 1000))}s`

/** lastMessage of a turn the user stopped (or whose session was deleted). */
export const STOPPED_MESSAGE = "Stopped"

export const isPermissionVisible = (permission: PendingPermission, now: number, graceMs: number): boolean =>
  permission.immediate || now >= permission.askedAt + graceMs

/** The newest permission still inside its grace, or null. */
export const permissionGraceEndsAt = (view: SessionView, now: number, graceMs: number): number | null => {
  let earliest: number | null = null
  for (const permission of view.permissions) {
    if (isPermissionVisible(permission, now, graceMs)) continue
    const end = permission.askedAt + graceMs
    earliest = earliest === null ? end : Math.min(earliest, end)
  }
  return earliest
}

/** null before the session's first turn: there is nothing to show yet. */
export const shownContentState = (view: SessionView, now: number, graceMs: number): ContentStateFields | null => {
  const turn = view.turn
  if (turn === null) return null
  const base = { sessionTitle: view.title, startedAt: Math.floor(turn.startedAt / 1000) }
  if (turn.outcome !== null) {
    return { ...base, status: turn.outcome === "error" ? "error" : "complete", lastMessage: view.lastMessage, retryInfo: null }
  }
  const visible = view.permissions.filter((p) => isPermissionVisible(p, now, graceMs))
  const newestPermission = visible.at(-1)
  if (newestPermission !== undefined) {
    return { ...base, status: "permission", lastMessage: newestPermission.label, retryInfo: null }
  }
  if (turn.retry !== null) {
    return { ...base, status: "retry", lastMessage: turn.retry.message, retryInfo: turn.retry.info }
  }
  return { ...base, status: "working", lastMessage: view.lastMessage, retryInfo: null }
}
