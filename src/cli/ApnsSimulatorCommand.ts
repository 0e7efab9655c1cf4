import { Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { ApnsSimulator } from "../apns/simulator/ApnsSimulator.ts"
import { generateSigningKey } from "../apns/simulator/localKeys.ts"

const port = Options.integer("port").pipe(Options.withDefault(2197), Options.withDescription("port to listen on (loopback)"))
const dir = Options.text("dir").pipe(
  Options.withDefault("./.pushline/apns-simulator"),
  Options.withDescription("where to write the simulator's certificate and the signing key for clients")
)
const quiet = Options.boolean("quiet").pipe(Options.withDescription("do not print each accepted push"))
const streams = Options.integer("max-streams").pipe(Options.withDefault(1000), Options.withDescription("SETTINGS_MAX_CONCURRENT_STREAMS to advertise"))

export const apnsSimulatorCommand = Command.make("apns-simulator", { port, dir, streams, quiet }, ({ dir, port, quiet, streams }) =>
  Effect.gen(function*() {
    const key = generateSigningKey()
    const simulator = yield* Effect.acquireRelease(
      Effect.promise(() => ApnsSimulator.start({ keys: [key], port, maxConcurrentStreams: streams })),
      (sim) => Effect.promise(() => sim.close())
    )
    const out = path.resolve(dir)
    fs.mkdirSync(out, { recursive: true })
    fs.writeFileSync(path.join(out, "ca.pem"), simulator.certificate.certPem)
    fs.writeFileSync(path.join(out, "AuthKey.p8"), key.privateKeyPem)
    if (!quiet) simulator.onPush((push) =>
      console.log(`${new Date(push.receivedAt).toISOString()} ${push.environment} ${push.headers["apns-push-type"]} …${push.token.slice(-8)} ${JSON.stringify(push.payload)}`)
    )
    yield* Console.log(
      [
        `APNs simulator listening on ${simulator.origin} (production) and ${simulator.sandboxOrigin} (sandbox), HTTP/2 over TLS`,
        "",
        "Point a relay at it:",
        `  APNS_PRODUCTION_HOST=${simulator.host} APNS_SANDBOX_HOST=${simulator.sandboxHost} APNS_CA_FILE=${path.join(out, "ca.pem")} \\`,
        `  APNS_TEAM_ID=${key.teamId} APNS_KEY_ID=${key.keyId} APNS_PRIVATE_KEY_FILE=${path.join(out, "AuthKey.p8")} npm start`,
        "",
        `Accepted pushes: curl --cacert ${path.join(out, "ca.pem")} ${simulator.origin}/pushes`,
        "Each accepted push is also printed below. Ctrl-C stops it."
      ].join("\n")
    )
    return yield* Effect.never
  }).pipe(Effect.scoped)
).pipe(Command.withDescription("Run the local APNs simulator (HTTP/2, TLS, Apple's validation rules)"))
