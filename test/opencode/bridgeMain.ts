import { Command } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { bridgeCommand } from "../../src/cli/BridgeCommand.ts"
import { pairCommand } from "../../src/cli/PairCommand.ts"

/** `pushline bridge` / `pushline pair` as their own process, for the end-to-end tests. */
const cli = Command.run(Command.make("pushline").pipe(Command.withSubcommands([bridgeCommand, pairCommand])), { name: "pushline", version: "test" })
cli(process.argv).pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain)
