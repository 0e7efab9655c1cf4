/**
 * `pushline apns-simulator`: the local APNs simulator as a process of its own.
 * Loaded only when the command runs, so `pushline --help` stays quick.
 */
import type { ApnsSimulatorOptions } from "../ApnsSimulatorCommand.ts"
import { Console, Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { ApnsSimulator } from "../../apns/simulator/ApnsSimulator.ts"
import { generateSigningKey } from "../../apns/simulator/localKeys.ts"

export const run = ({ dir, port, quiet, streams }: ApnsSimulatorOptions) =>
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
