import { Data, Effect } from "effect"
import { describeError } from "../errors/describeError.ts"

/**
 * One POST of spooled items to the relay's `/v1/opencode/events`. The items are
 * already JSON lines, so the body is assembled without parsing them again.
 */
export type PostResult = Data.TaggedEnum<{
  /** Committed by the relay (202). */
  Accepted: { readonly accepted: number; readonly duplicates: number }
  /** Worth trying again later: network error, timeout, 408, 429, 5xx. */
  Unavailable: { readonly reason: string }
  /**
   * The secret is refused (401, 403) or the URL is not a relay's events route (404, 405):
   * no retry can succeed until the bridge is restarted with a fixed `--secret` or `--relay`.
   */
  Refused: { readonly reason: string; readonly fix: string }
  /** The body is too large (413): send fewer at once. */
  TooLarge: { readonly reason: string }
  /**
   * The relay refused the batch as invalid (400, or any other 4xx): sending it again
   * cannot help. `index` names the item when the answer says which.
   */
  Invalid: { readonly reason: string; readonly index: number | undefined }
}>
export const PostResult = Data.taggedEnum<PostResult>()

export interface RelayTarget {
  readonly url: string
  readonly secret: string
  readonly serverID?: string | undefined
  readonly timeoutMs?: number | undefined
}

export const postBatch = (target: RelayTarget, lines: ReadonlyArray<string>): Effect.Effect<PostResult> =>
  Effect.promise(async (signal) => {
    const body = `{${target.serverID === undefined ? "" : `"serverID":${JSON.stringify(target.serverID)},`}"events":[${lines.join(",")}]}`
    let response: Response
    let text: string
    try {
      response = await fetch(new URL("/v1/opencode/events", target.url), {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${target.secret}` },
        body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(target.timeoutMs ?? 10_000)])
      })
      text = await response.text()
    } catch (error) {
      return PostResult.Unavailable({ reason: describeError(error) })
    }
    let parsed: any = undefined
    try {
      parsed = JSON.parse(text)
    } catch {
      // not JSON: reported as text below
    }
    const reason = typeof parsed?.error === "string" ? parsed.error : `HTTP ${response.status} ${text.slice(0, 200)}`
    if (response.status === 202 || (response.ok && parsed?.ok === true)) {
      return PostResult.Accepted({ accepted: Number(parsed?.accepted ?? lines.length), duplicates: Number(parsed?.duplicates ?? 0) })
    }
    const status = response.status
    if (status === 401 || status === 403) return PostResult.Refused({ reason, fix: "check the secret (--secret)" })
    if (status === 404 || status === 405) return PostResult.Refused({ reason, fix: "check the relay URL (--relay)" })
    if (status === 413) return PostResult.TooLarge({ reason })
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      const match = /events\[(\d+)\]/.exec(reason)
      return PostResult.Invalid({ reason, index: match === null ? undefined : Number(match[1]) })
    }
    return PostResult.Unavailable({ reason })
  })

