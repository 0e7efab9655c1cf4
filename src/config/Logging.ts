import { Config, Effect, Layer, Logger, LogLevel } from "effect"
import { fromConfigError } from "./ConfigurationProblem.ts"

/**
 * Where and how every log line goes: to stderr (stdout stays for command output such as
 * `--json`), as one JSON object per line when LOG_FORMAT=json, or by default whenever
 * stderr is not a terminal (a container, systemd, a pipe); colourful text on a terminal
 * or with LOG_FORMAT=pretty. LOG_LEVEL (trace, debug, info, warn, error, fatal, off)
 * sets the lowest level written; info by default.
 */
export type LogFormat = "json" | "pretty"

export const loggingConfig = Config.all({
  format: Config.literal("json", "pretty", "auto")("LOG_FORMAT").pipe(Config.withDefault("auto" as const)),
  level: Config.logLevel("LOG_LEVEL").pipe(Config.withDefault(LogLevel.Info))
})

export const resolveFormat = (format: LogFormat | "auto", stderrIsTTY: boolean): LogFormat =>
  format === "auto" ? (stderrIsTTY ? "pretty" : "json") : format

export const loggerFor = (format: LogFormat): Logger.Logger<unknown, void> =>
  format === "json" ? Logger.withConsoleError(Logger.jsonLogger) : Logger.prettyLogger({ stderr: true })

export const LoggingLive = Layer.unwrapEffect(
  Effect.map(Effect.mapError(loggingConfig, fromConfigError), ({ format, level }) =>
    Layer.merge(
      Logger.replace(Logger.defaultLogger, loggerFor(resolveFormat(format, process.stderr.isTTY === true))),
      Logger.minimumLogLevel(level)
    )
  )
)
