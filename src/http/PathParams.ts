import { Effect } from "effect"
import { BadRequest } from "./ApiErrors.ts"
import { isUnstorable } from "./RequestBody.ts"

/**
 * A session id taken from the URL path, checked as the bodies' `sessionID` is: 1 to 200
 * characters, none that PostgreSQL cannot compare (U+0000, a lone surrogate), so such a
 * path is a 400 naming it rather than a failed query.
 */
export const sessionIdFromPath = (raw: string) =>
  raw.length >= 1 && raw.length <= 200 && !isUnstorable(raw)
    ? Effect.succeed(raw)
    : Effect.fail(BadRequest.because("sessionID: must be a non-empty string of at most 200 characters, without U+0000 or unpaired surrogates"))
