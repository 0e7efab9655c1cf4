import { HttpServer } from "@effect/platform"
import { Context, Effect, Layer, Option, Redacted } from "effect"
import { RelayConfig, type RelaySettings } from "../../src/config/RelayConfig.ts"
import { pgLayer } from "../../src/db/Database.ts"
import { runMigrations } from "../../src/db/Migrator.ts"
import { HttpLive } from "../../src/server/HttpLive.ts"
import { PushPlannerLive } from "../../src/sender/PushPlannerLive.ts"
import { inject } from "vitest"

/** Base URL of the relay under test, e.g. http://127.0.0.1:43121 */
export class RelayUrl extends Context.Tag("test/RelayUrl")<RelayUrl, string>() {}

/**
 * The real HTTP server on a random loopback port, in this process, on the test
 * database (migrated). The pool is in the output so suites can query the log.
 */
export const testServerLayer = (settings: Partial<RelaySettings> = {}, databaseUrl?: string) => {
  const url = databaseUrl ?? inject("databaseUrl")
  const database = Layer.effectDiscard(runMigrations()).pipe(Layer.provideMerge(pgLayer(url, 10, settings.statementTimeoutMs ?? 0)))
  const config = RelayConfig.make({
    port: 0,
    host: "127.0.0.1",
    databaseUrl: Option.some(Redacted.make(url)),
    ...settings
  })
  const server = HttpLive.pipe(Layer.provide(PushPlannerLive(Option.none())))
  const relayUrl = Layer.effect(
    RelayUrl,
    Effect.map(HttpServer.HttpServer, (s) =>
      s.address._tag === "TcpAddress" ? `http://127.0.0.1:${s.address.port}` : "http://unknown"
    )
  )
  return relayUrl.pipe(Layer.provideMerge(server), Layer.provideMerge(database), Layer.provideMerge(config))
}

export interface JsonResponse {
  readonly status: number
  readonly body: any
}

/** A real HTTP request; the body is sent as given when it is a string. */
export const request = (
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {}
): Effect.Effect<JsonResponse> =>
  Effect.promise(async () => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { "content-type": "application/json", ...headers },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000)
    })
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {
      // leave as text
    }
    return { status: response.status, body: parsed }
  })
