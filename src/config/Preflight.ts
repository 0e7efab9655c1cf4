/**
 * What `pushline serve` checks before it starts anything (the embedded database, the
 * APNs connections, the HTTP listener): every setting decodes, the data dir is usable,
 * the port is free, DATABASE_URL answers. Each problem names its variable and says what
 * to do, as one line, instead of a stack trace from wherever it would otherwise surface.
 */
import { Effect, Option, Redacted } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import pg from "pg"
import { loadApnsSettings } from "../apns/ApnsConfig.ts"
import { describeError } from "../errors/describeError.ts"
import { ConfigurationProblem, configurationProblem as problem, fromConfigError } from "./ConfigurationProblem.ts"
import { relaySettingsConfig, type RelaySettings } from "./RelayConfig.ts"

/**
 * As root, embedded PostgreSQL runs as the `postgres` user, which must be able to pass
 * through every directory above its cluster; `mktemp -d` makes 0700 directories.
 */
const unreachableForPostgres = (dir: string): string | undefined => {
  for (let current = dir; ; current = path.dirname(current)) {
    const mode = fs.statSync(current).mode
    if ((mode & 0o001) === 0) return current
    if (path.dirname(current) === current) return undefined
  }
}

export const checkDataDir = (dataDir: string, isRoot = os.userInfo().uid === 0) =>
  Effect.try({
    try: () => {
      const dir = path.resolve(dataDir)
      fs.mkdirSync(dir, { recursive: true })
      fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK)
      return dir
    },
    catch: (error) => problem("PUSHLINE_DATA_DIR", `cannot use ${path.resolve(dataDir)} for the embedded PostgreSQL: ${describeError(error)}`)
  }).pipe(
    Effect.flatMap((dir) => {
      const blocked = isRoot ? unreachableForPostgres(dir) : undefined
      return blocked === undefined
        ? Effect.void
        : Effect.fail(problem(
          "PUSHLINE_DATA_DIR",
          `running as root, embedded PostgreSQL runs as the postgres user, which cannot enter ${blocked} (mode ${
            (fs.statSync(blocked).mode & 0o777).toString(8)
          }): run \`chmod o+x ${blocked}\`, choose a data dir the postgres user can reach, or run pushline as another user`
        ))
    })
  )

export const checkPortFree = (host: string, port: number) =>
  Effect.async<void, ConfigurationProblem>((resume) => {
    const server = net.createServer()
    server.once("error", (error: NodeJS.ErrnoException) => {
      const detail = error.code === "EADDRINUSE"
        ? `port ${port} on ${host} is already in use (another pushline?): stop that process or set PORT to a free port`
        : `cannot listen on ${host}:${port}: ${error.message} (HOST and PORT choose where the relay listens)`
      resume(Effect.fail(problem("PORT", detail)))
    })
    server.listen({ host, port, exclusive: true }, () => server.close(() => resume(Effect.void)))
    return Effect.sync(() => server.close())
  })

export const checkDatabaseReachable = (url: Redacted.Redacted) =>
  Effect.tryPromise({
    try: async () => {
      const client = new pg.Client({ connectionString: Redacted.value(url), connectionTimeoutMillis: 5000 })
      try {
        await client.connect()
        await client.query("select 1")
      } finally {
        await client.end().catch(() => undefined)
      }
    },
    catch: (error) => {
      const target = (() => {
        try {
          const parsed = new URL(Redacted.value(url))
          return `${parsed.username === "" ? "" : `${decodeURIComponent(parsed.username)}@`}${parsed.host}${parsed.pathname}`
        } catch {
          return "the given URL"
        }
      })()
      return problem("DATABASE_URL", `cannot connect to ${target}: ${describeError(error)}`)
    }
  })

/** Every check, in order; the settings when all pass. */
export const preflight: Effect.Effect<RelaySettings, ConfigurationProblem> = Effect.gen(function*() {
  const settings = yield* Effect.mapError(relaySettingsConfig, fromConfigError)
  yield* Effect.mapError(loadApnsSettings, fromConfigError)
  yield* Option.match(settings.databaseUrl, {
    onNone: () => checkDataDir(settings.dataDir),
    onSome: checkDatabaseReachable
  })
  yield* checkPortFree(settings.host, settings.port)
  return settings
})
