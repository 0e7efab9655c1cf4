import type { HttpServerRequest } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Duration, Effect, ParseResult, Schema } from "effect"
import type { IncomingMessage } from "node:http"
import { BadRequest, PayloadTooLarge, RequestTimeout } from "./ApiErrors.ts"

/** How much of a request body the relay reads, and for how long. */
export interface BodyLimits {
  readonly bodyLimitBytes: number
  readonly bodyTimeoutMs: number
}

/**
 * A body over the limit is still read (and thrown away) up to this many times the limit,
 * so the client, which may still be sending, gets the 413 instead of a reset connection.
 */
const DRAIN_FACTOR = 8

/**
 * Request bodies are read and decoded here rather than by HttpApi so that
 * every failure becomes our `{ok: false, error}` with the field named, and the
 * size limit is enforced while streaming (a huge body is never buffered). A body
 * that has not fully arrived within `bodyTimeoutMs` (a slow client, or a
 * Content-Length the body never reaches) is a 408.
 */
export const readJson = (request: HttpServerRequest.HttpServerRequest, limits: BodyLimits, whenEmpty?: unknown) =>
  Effect.gen(function*() {
    const limitBytes = limits.bodyLimitBytes
    const tooLarge = PayloadTooLarge.because(`request body is over the ${limitBytes}-byte limit`)
    const declared = Number(request.headers["content-length"] ?? "0")
    if (declared > limitBytes) return yield* Effect.fail(tooLarge)
    const body = yield* readRaw(NodeHttpServerRequest.toIncomingMessage(request), limitBytes, tooLarge).pipe(
      Effect.timeoutFail({
        duration: Duration.millis(limits.bodyTimeoutMs),
        onTimeout: () => RequestTimeout.because(`request body did not arrive within ${limits.bodyTimeoutMs} ms`)
      })
    )
    const text = Buffer.concat(body).toString("utf8")
    if (text.trim() === "" && whenEmpty !== undefined) return whenEmpty
    if (text.trim() === "") return yield* Effect.fail(BadRequest.because("request body is empty; expected a JSON object"))
    const parsed = yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: (error) =>
        BadRequest.because(`request body is not valid JSON (${error instanceof Error ? error.message : String(error)})`)
    })
    return yield* storable(parsed)
  })

/**
 * The body's chunks, or `tooLarge` once it has all been read past the limit. Read from
 * Node's request directly: a stopped read (the timeout) only stops listening, and the
 * rest is discarded as it comes, where destroying the stream would reset the connection
 * before the answer is written.
 */
const readRaw = (incoming: IncomingMessage, limitBytes: number, tooLarge: PayloadTooLarge) =>
  Effect.async<Array<Uint8Array>, BadRequest | PayloadTooLarge>((resume) => {
    const chunks: Array<Uint8Array> = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength
      if (size <= limitBytes) chunks.push(chunk)
      else if (size > limitBytes * DRAIN_FACTOR) {
        detach()
        resume(Effect.fail(tooLarge))
      }
    }
    const onEnd = () => {
      detach()
      resume(size > limitBytes ? Effect.fail(tooLarge) : Effect.succeed(chunks))
    }
    const onError = () => {
      detach()
      resume(Effect.fail(BadRequest.because("request body could not be read")))
    }
    const detach = () => {
      incoming.off("data", onData)
      incoming.off("end", onEnd)
      incoming.off("error", onError)
      // Still flowing: what the client sends from now on is thrown away.
      incoming.resume()
    }
    incoming.on("data", onData)
    incoming.on("end", onEnd)
    incoming.on("error", onError)
    return Effect.sync(detach)
  })

/** JSON nested deeper than this is refused: no OpenCode event comes near it. */
export const MAX_JSON_DEPTH = 100

// U+0000 and UTF-16 surrogates without their pair are valid in JSON text but not in
// PostgreSQL's jsonb (nor in UTF-8).
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, "g")

/** Whether text holds a code point PostgreSQL cannot store (U+0000, a lone surrogate). */
export const isUnstorable = (text: string) => UNSTORABLE.test(text)

/**
 * The body as the log can store it: every U+0000 and lone surrogate, in keys and values,
 * replaced by U+FFFD (the event is kept, only those code points are not), and a
 * BadRequest naming the place where it nests deeper than MAX_JSON_DEPTH.
 */
export const storable = (body: unknown): Effect.Effect<unknown, BadRequest> => {
  let tooDeep: string | undefined
  const clean = (text: string) => (UNSTORABLE.test(text) ? text.replace(UNSTORABLE_ALL, "\ufffd") : text)
  const walk = (value: unknown, depth: number, path: string): unknown => {
    if (tooDeep !== undefined) return value
    if (typeof value === "string") return clean(value)
    if (typeof value !== "object" || value === null) return value
    if (depth >= MAX_JSON_DEPTH) {
      tooDeep = path === "" ? "request body" : path
      return value
    }
    if (Array.isArray(value)) return value.map((item, i) => walk(item, depth + 1, `${path}[${i}]`))
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) out[clean(key)] = walk(item, depth + 1, path === "" ? key : `${path}.${key}`)
    return out
  }
  const result = walk(body, 0, "")
  return tooDeep === undefined
    ? Effect.succeed(result)
    : Effect.fail(BadRequest.because(`${tooDeep}: nested deeper than ${MAX_JSON_DEPTH} levels`))
}

const describePath = (path: ReadonlyArray<PropertyKey>) =>
  path.map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`)).join("")

/** "field: message" for the first problem, which is what a client fixes first. */
export const formatParseError = (error: ParseResult.ParseError, prefix = ""): string => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const first = issues[0]
  if (first === undefined) return "request body is invalid"
  const field = prefix + describePath(first.path)
  const message = first.message === "is missing" ? "is required" : first.message
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : ""
  return field === "" ? `request body: ${message}${more}` : `${field}: ${message}${more}`
}

export const decodeBody = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknown(schema, { errors: "all", onExcessProperty: "ignore" })
  return (body: unknown) => Effect.mapError(decode(body), (error) => BadRequest.because(formatParseError(error)))
}

export const readBody = <A, I>(
  schema: Schema.Schema<A, I>,
  request: HttpServerRequest.HttpServerRequest,
  limits: BodyLimits
) => Effect.flatMap(readJson(request, limits), decodeBody(schema))

/** For bodies that may be left out: an empty body decodes as `{}`. */
export const readOptionalBody = <A, I>(
  schema: Schema.Schema<A, I>,
  request: HttpServerRequest.HttpServerRequest,
  limits: BodyLimits
) => Effect.flatMap(readJson(request, limits, {}), decodeBody(schema))
