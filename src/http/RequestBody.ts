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
    return yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: (error) =>
        BadRequest.because(`request body is not valid JSON (${error instanceof Error ? error.message : String(error)})`)
    })
  })

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
