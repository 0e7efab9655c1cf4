import { Effect } from "effect"
import { BadRequest } from "./ApiErrors.ts"

/**
 * Page sizes and opaque cursors for the paged lists (timeline, sessions). A cursor is
 * the key of the last row of a page, base64url-encoded JSON: clients pass it back as
 * it is and never read it.
 */
export const DEFAULT_PAGE = 200
export const MAX_PAGE = 1000

/** `limit` as given in the query (default 200), or a BadRequest naming it. */
export const parseLimit = (limit: string | undefined) =>
  Effect.gen(function*() {
    const size = limit === undefined ? DEFAULT_PAGE : Number(limit)
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE || (limit !== undefined && !/^\d+$/.test(limit))) {
      return yield* Effect.fail(BadRequest.because(`limit: must be an integer from 1 to ${MAX_PAGE}`))
    }
    return size
  })

export const encodeCursor = (key: ReadonlyArray<string>): string => Buffer.from(JSON.stringify(key)).toString("base64url")

/** The key of `length` strings a cursor carries, undefined when it is not a cursor. */
export const readCursor = (cursor: string, length: number): ReadonlyArray<string> | undefined => {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))
    if (Array.isArray(key) && key.length === length && key.every((part) => typeof part === "string")) return key as ReadonlyArray<string>
  } catch {
    // not JSON
  }
  return undefined
}

/** The key a cursor of `length` strings carries (null without one), or a BadRequest naming `cursor`. */
export const decodeCursor = (cursor: string | undefined, length: number) =>
  Effect.gen(function*() {
    if (cursor === undefined) return null
    const key = readCursor(cursor, length)
    if (key !== undefined) return key
    return yield* Effect.fail(BadRequest.because("cursor: not a cursor this relay gave (pass nextCursor as it is)"))
  })

/**
 * A page of `limit` out of the keys read (one more than `limit` was asked for, to know
 * whether a next page exists): the keys on the page, and the cursor after them.
 */
export const pageOf = <K extends ReadonlyArray<string>>(read: ReadonlyArray<K>, limit: number) => {
  const keys = read.slice(0, limit)
  const last = keys.at(-1)
  return { keys, nextCursor: read.length > limit && last !== undefined ? encodeCursor(last) : null }
}
