import type { HttpServerRequest } from "@effect/platform"
import { Effect, ParseResult, Schema, Stream } from "effect"
import { BadRequest, PayloadTooLarge } from "./ApiErrors.ts"

/**
 * Request bodies are read and decoded here rather than by HttpApi so that
 * every failure becomes our `{ok: false, error}` with the field named, and the
 * size limit is enforced while streaming (a huge body is never buffered).
 */
export const readJson = (request: HttpServerRequest.HttpServerRequest, limitBytes: number, whenEmpty?: unknown) =>
  Effect.gen(function*() {
    const declared = Number(request.headers["content-length"] ?? "0")
    if (declared > limitBytes) {
      return yield* Effect.fail(PayloadTooLarge.because(`request body is over the ${limitBytes}-byte limit`))
    }
    const chunks: Array<Uint8Array> = []
    let size = 0
    yield* request.stream.pipe(
      Stream.mapError(() => BadRequest.because("request body could not be read")),
      Stream.runForEach((chunk) => {
        size += chunk.byteLength
        if (size > limitBytes) {
          return Effect.fail(PayloadTooLarge.because(`request body is over the ${limitBytes}-byte limit`))
        }
        chunks.push(chunk)
        return Effect.void
      })
    )
    const text = Buffer.concat(chunks).toString("utf8")
    if (text.trim() === "" && whenEmpty !== undefined) return whenEmpty
    if (text.trim() === "") return yield* Effect.fail(BadRequest.because("request body is empty; expected a JSON object"))
    const parsed = yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: (error) =>
        BadRequest.because(`request body is not valid JSON (${error instanceof Error ? error.message : String(error)})`)
    })
    return yield* storable(parsed)
  })

/** JSON nested deeper than this is refused: no OpenCode event comes near it. */
export const MAX_JSON_DEPTH = 100

// U+0000 and UTF-16 surrogates without their pair are valid in JSON text but not in
// PostgreSQL's jsonb (nor in UTF-8).
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, "g")

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
  limitBytes: number
) => Effect.flatMap(readJson(request, limitBytes), decodeBody(schema))

/** For bodies that may be left out: an empty body decodes as `{}`. */
export const readOptionalBody = <A, I>(
  schema: Schema.Schema<A, I>,
  request: HttpServerRequest.HttpServerRequest,
  limitBytes: number
) => Effect.flatMap(readJson(request, limitBytes, {}), decodeBody(schema))
