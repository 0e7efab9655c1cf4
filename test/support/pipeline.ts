import { HttpServer } from "@effect/platform"
import { Effect, Layer, Option, Redacted } from "effect"
import { localSimulatorLayer } from "../../src/apns/ApnsLive.ts"
import { RelayConfig, type RelaySettings } from "../../src/config/RelayConfig.ts"
import { pgLayer } from "../../src/db/Database.ts"
import { runMigrations } from "../../src/db/Migrator.ts"
import { relayWith } from "../../src/server/RelayLive.ts"
import { createFreshDatabase } from "./database.ts"
import { RelayUrl } from "./server.ts"

/**
 * The whole relay in this process: HTTP server, projector, sender and the
 * local APNs simulator, on a fresh database so the projector sees only this
 * suite's events. Short throttle and grace keep the tests quick; the logic is
 * the same at any setting.
 */
export const pipelineLayer = (settings: Partial<RelaySettings> = {}) =>
  Layer.unwrapEffect(
    Effect.promise(() => createFreshDatabase("pipeline")).pipe(
      Effect.map((url) => {
        const database = Layer.effectDiscard(runMigrations()).pipe(Layer.provideMerge(pgLayer(url, 10)))
        const config = RelayConfig.make({
          port: 0,
          host: "127.0.0.1",
          databaseUrl: Option.some(Redacted.make(url)),
          throttleMs: 1000,
          permissionGraceMs: 400,
          ...settings
        })
        const relayUrl = Layer.effect(
          RelayUrl,
          Effect.map(HttpServer.HttpServer, (s) => (s.address._tag === "TcpAddress" ? `http://127.0.0.1:${s.address.port}` : "http://unknown"))
        )
        return relayUrl.pipe(Layer.provideMerge(relayWith(database, config, localSimulatorLayer)))
      })
    )
  )
