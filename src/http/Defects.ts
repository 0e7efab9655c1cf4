import { type HttpApp, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"

/**
 * A 500 is a bug in the relay, never the client's input (that is a 4xx). When one
 * happens the client still gets the API's JSON error shape, and the operator a log
 * line with the whole cause, naming the route.
 */
export const jsonDefects = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.catchAllDefect(app, (defect) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
      Effect.logError(`internal error (a bug) answering ${request.method} ${request.url}`, defect).pipe(
        Effect.as(HttpServerResponse.unsafeJson({ ok: false, error: "internal error: the relay logged it" }, { status: 500 }))
      )))
