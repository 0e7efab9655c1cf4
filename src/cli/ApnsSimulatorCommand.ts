import { Command, Options } from "@effect/cli"
import { Effect } from "effect"

const port = Options.integer("port").pipe(Options.withDefault(2197), Options.withDescription("port to listen on (loopback)"))
const dir = Options.text("dir").pipe(
  Options.withDefault("./.pushline/apns-simulator"),
  Options.withDescription("where to write the simulator's certificate and the signing key for clients")
)
const quiet = Options.boolean("quiet").pipe(Options.withDescription("do not print each accepted push"))
const streams = Options.integer("max-streams").pipe(Options.withDefault(1000), Options.withDescription("SETTINGS_MAX_CONCURRENT_STREAMS to advertise"))

const config = { port, dir, streams, quiet }
export type ApnsSimulatorOptions = Command.Command.ParseConfig<typeof config>

export const apnsSimulatorCommand = Command.make("apns-simulator", config, (options) =>
  Effect.promise(() => import("./run/apnsSimulator.ts")).pipe(Effect.flatMap((m) => m.run(options)))
).pipe(Command.withDescription("Run the local APNs simulator (HTTP/2, TLS, Apple's validation rules)"))
