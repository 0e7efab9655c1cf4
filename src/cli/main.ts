/**
 * The `pushline` command line. Only the commands' names, options and descriptions are
 * loaded here; each command's code is imported when it runs (src/cli/run/), so `--help`
 * and a mistyped option answer quickly.
 */
import { Command, ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit, Layer } from "effect"
import { EnvironmentLive } from "../config/Environment.ts"
import { LoggingLive } from "../config/Logging.ts"
import { apnsSimulatorCommand } from "./ApnsSimulatorCommand.ts"
import { bridgeCommand } from "./BridgeCommand.ts"
import { migrateCommand } from "./MigrateCommand.ts"
import { pairCommand } from "./PairCommand.ts"
import { rebuildCommand } from "./RebuildCommand.ts"
import { replayCommand } from "./ReplayCommand.ts"
import { serveCommand } from "./ServeCommand.ts"
import { sessionsCommand } from "./SessionsCommand.ts"
import { timelineCommand } from "./TimelineCommand.ts"

const pushline = Command.make("pushline").pipe(
  Command.withDescription("Pushline: event-sourced APNs relay for OpenCode sessions"),
  Command.withSubcommands([
    serveCommand,
    migrateCommand,
    sessionsCommand,
    timelineCommand,
    replayCommand,
    rebuildCommand,
    apnsSimulatorCommand,
    bridgeCommand,
    pairCommand
  ])
)

const cli = Command.run(pushline, { name: "pushline", version: "0.1.0" })

/** Conditions an operator can act on: one plain line on stderr, exit status 2. */
const operatorError = (error: { readonly message: string }) =>
  Effect.sync(() => {
    process.stderr.write(`pushline: ${error.message}\n`)
    process.exitCode = 2
  })

cli(process.argv).pipe(
  Effect.catchTags({
    SessionNotFound: operatorError,
    AmbiguousSession: operatorError,
    ProjectorBusy: operatorError,
    ConfigurationProblem: operatorError
  }),
  // @effect/cli has already printed what is wrong with the command line, and its usage.
  Effect.catchIf(ValidationError.isValidationError, () => Effect.sync(() => (process.exitCode = 2))),
  Effect.provide(Layer.mergeAll(NodeContext.layer, LoggingLive).pipe(Layer.provideMerge(EnvironmentLive()))),
  // LOG_FORMAT or LOG_LEVEL itself invalid: there is no logger to say so through.
  Effect.catchTag("ConfigurationProblem", operatorError),
  NodeRuntime.runMain({
    disableErrorReporting: false,
    disablePrettyLogger: true,
    // The status a command set (process.exitCode) is the process's; an interruption
    // (SIGTERM, SIGINT) that drained cleanly is a normal stop.
    teardown: (exit, onExit) => onExit(Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause) ? 1 : Number(process.exitCode ?? 0))
  })
)
