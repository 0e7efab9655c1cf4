import { Duration, Effect } from "effect"
import { OpenCodeStreamLost } from "./BridgeErrors.ts"
import { asGlobalFrame, type GlobalFrame } from "./Frames.ts"

/**
 * One connection to OpenCode's `GET /global/event` (SSE). Calls `onOpen` once the
 * stream is open and `onFrames` with each read's complete frames, in order.
 * Never ends successfully: a closed stream, an error, or silence longer than
 * `idleTimeout` (OpenCode sends a heartbeat every ~10 s) fails with
 * OpenCodeStreamLost, and the caller reconnects.
 */
export interface OpenCodeTarget {
  readonly url: string
  /** `Authorization` header value for OpenCode's basic auth, when it has a password. */
  readonly authorization?: string | undefined
}

export const basicAuthorization = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`

/** Splits SSE text into `data:` payloads; returns the complete ones and the rest. */
export const parseSse = (buffer: string): { readonly data: ReadonlyArray<string>; readonly rest: string } => {
  const data: Array<string> = []
  const normalized = buffer.replace(/\r\n?/g, "\n")
  let start = 0
  let end: number
  while ((end = normalized.indexOf("\n\n", start)) >= 0) {
    const lines = normalized.slice(start, end).split("\n").filter((line) => line.startsWith("data:"))
    if (lines.length > 0) data.push(lines.map((line) => line.slice(line.startsWith("data: ") ? 6 : 5)).join("\n"))
    start = end + 2
  }
  return { data, rest: normalized.slice(start) }
}

export const streamGlobalEvents = <R>(
  target: OpenCodeTarget,
  idleTimeout: Duration.DurationInput,
  onOpen: Effect.Effect<void, never, R>,
  onFrames: (frames: ReadonlyArray<GlobalFrame>) => Effect.Effect<void, never, R>
): Effect.Effect<never, OpenCodeStreamLost, R> =>
  Effect.scoped(
    Effect.gen(function*() {
      const controller = yield* Effect.acquireRelease(
        Effect.sync(() => new AbortController()),
        (c) => Effect.sync(() => c.abort())
      )
      const lost = (reason: string) => new OpenCodeStreamLost({ reason })
      const response = yield* Effect.tryPromise({
        try: () =>
          fetch(new URL("/global/event", target.url), {
            headers: { accept: "text/event-stream", ...(target.authorization === undefined ? {} : { authorization: target.authorization }) },
            signal: controller.signal
          }),
        catch: (error) => lost(`cannot connect to ${target.url}: ${error instanceof Error ? error.message : String(error)}`)
      }).pipe(Effect.timeoutFail({ duration: idleTimeout, onTimeout: () => lost(`${target.url} did not answer`) }))
      if (response.status === 401) return yield* Effect.fail(lost(`${target.url} wants a password (401): set --opencode-password`))
      if (!response.ok || response.body === null) return yield* Effect.fail(lost(`${target.url}/global/event answered ${response.status}`))
      const reader = response.body.getReader()
      yield* Effect.addFinalizer(() => Effect.promise(() => reader.cancel().catch(() => undefined)))
      yield* onOpen
      const decoder = new TextDecoder()
      let buffer = ""
      while (true) {
        const chunk = yield* Effect.tryPromise({
          try: () => reader.read(),
          catch: (error) => lost(`stream from ${target.url} failed: ${error instanceof Error ? error.message : String(error)}`)
        }).pipe(Effect.timeoutFail({ duration: idleTimeout, onTimeout: () => lost(`no event or heartbeat from ${target.url} for ${Duration.format(idleTimeout)}`) }))
        if (chunk.done) return yield* Effect.fail(lost(`${target.url} closed the event stream`))
        buffer += decoder.decode(chunk.value, { stream: true })
        const { data, rest } = parseSse(buffer)
        buffer = rest
        const frames: Array<GlobalFrame> = []
        for (const text of data) {
          try {
            const frame = asGlobalFrame(JSON.parse(text))
            if (frame !== undefined) frames.push(frame)
          } catch {
            // not JSON: not an event
          }
        }
        if (frames.length > 0) yield* onFrames(frames)
      }
    })
  )
