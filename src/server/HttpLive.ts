import { HttpApiBuilder, HttpApiSwagger, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import { RelayConfig } from "../config/RelayConfig.ts"
import { HealthLive } from "../health/Http.ts"
import { IngestLive } from "../ingest/Http.ts"
import { LegacyLive } from "../legacy/Http.ts"
import { RegistrationsLive } from "../registrations/Http.ts"
import { ReplayLive } from "../replay/Http.ts"
import { SessionsLive } from "../sessions/Http.ts"
import { TimelineLive } from "../timeline/Http.ts"
import { UiLive } from "../ui/UiLive.ts"
import { AuthenticationLive } from "../http/Authentication.ts"
import { jsonDefects } from "../http/Defects.ts"
import { PushlineApi } from "../api/PushlineApi.ts"

export const ApiLive = HttpApiBuilder.api(PushlineApi).pipe(
  Layer.provide([HealthLive, RegistrationsLive, LegacyLive, IngestLive, SessionsLive, TimelineLive, ReplayLive]),
  Layer.provide(AuthenticationLive)
)

/** Unknown routes answer in the API's JSON error shape too. */
const NotFoundLive = HttpApiBuilder.Router.use((router) =>
  router.all(
    "*",
    Effect.map(HttpServerRequest.HttpServerRequest, (request) =>
      HttpServerResponse.unsafeJson({ ok: false, error: `no route for ${request.method} ${request.url}` }, { status: 404 })
    )
  )
)

/**
 * Node's own limits, a little after the body timeout the routes enforce (with a JSON 408):
 * they also close connections no route reads, instead of Node's 300 s default.
 */
const nodeTimeouts = (bodyTimeoutMs: number) => ({
  requestTimeout: bodyTimeoutMs + 5_000,
  headersTimeout: Math.min(60_000, bodyTimeoutMs + 5_000)
})

/** The HTTP server on PORT, with the API, its OpenAPI document at /docs and the timeline page at /ui. */
export const HttpLive = Layer.unwrapEffect(
  Effect.map(RelayConfig, (config) =>
    HttpApiBuilder.serve(jsonDefects).pipe(
      Layer.provide(NotFoundLive),
      Layer.provide(UiLive),
      Layer.provide(HttpApiSwagger.layer({ path: "/docs" })),
      Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/docs/openapi.json" })),
      Layer.provide(ApiLive),
      HttpServer.withLogAddress,
      Layer.provideMerge(NodeHttpServer.layer(() => createServer(nodeTimeouts(config.bodyTimeoutMs)), { port: config.port, host: config.host }))
    )
  )
)
