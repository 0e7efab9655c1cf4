#!/usr/bin/env node
import { Command } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Logger, LogLevel } from "effect"
import { apnsSimulatorCommand } from "./ApnsSimulatorCommand.ts"
import { bridgeCommand } from "./BridgeCommand.ts"
import { migrateCommand } from "./MigrateCommand.ts"
import { pairCommand } from "./PairCommand.ts"
import { serveCommand } from "./ServeCommand.ts"

const pushline = Command.make("pushline").pipe(
  Command.withDescription("Pushline: event-sourced APNs relay for OpenCode sessions"),
  Command.withSubcommands([serveCommand, migrateCommand, apnsSimulatorCommand, bridgeCommand, pairCommand])
)

const cli = Command.run(pushline, { name: "pushline", version: "0.1.0" })

cli(process.argv).pipe(
  Effect.provide(Layer.mergeAll(NodeContext.layer, Logger.pretty)),
  Logger.withMinimumLogLevel(LogLevel.Info),
  NodeRuntime.runMain({ disableErrorReporting: false })
)
