import { Context, Effect, Layer, Option } from "effect"
import { ApnsClient } from "./ApnsClient.ts"
import { importApnsKey, loadApnsSettings, PRODUCTION_HOST, SANDBOX_HOST } from "./ApnsConfig.ts"
import { ApnsSimulator } from "./simulator/ApnsSimulator.ts"
import { generateSigningKey } from "./simulator/localKeys.ts"

/** The in-process simulator, when the relay runs one (no APNs credentials configured). */
export class LocalApnsSimulator extends Context.Tag("pushline/LocalApnsSimulator")<
  LocalApnsSimulator,
  Option.Option<ApnsSimulator>
>() {}

const originOf = (host: string) => `https://${host.includes(":") && !host.startsWith("[") ? host : `${host}:443`}`

/** Starts a simulator on a random loopback port with a fresh key, and a client that trusts it. */
export const localSimulatorLayer = Layer.scopedContext(
  Effect.gen(function*() {
    const key = generateSigningKey()
    const simulator = yield* Effect.acquireRelease(
      Effect.promise(() => ApnsSimulator.start({ keys: [key] })),
      (sim) => Effect.promise(() => sim.close())
    )
    const privateKey = yield* Effect.orDie(importApnsKey(key.privateKeyPem, "APNS_PRIVATE_KEY"))
    yield* Effect.logInfo(
      `No APNS_* credentials configured: pushes go to the built-in local APNs simulator at ${simulator.origin} ` +
        `(production; sandbox at ${simulator.sandboxOrigin}; list them: curl -k ${simulator.origin}/pushes). Set APNS_TEAM_ID, APNS_KEY_ID and APNS_PRIVATE_KEY to talk to Apple.`
    )
    const client = yield* ApnsClient.make(
      {
        credentials: { teamId: key.teamId, keyId: key.keyId, privateKey },
        origins: { production: simulator.origin, sandbox: simulator.sandboxOrigin },
        caPem: simulator.certificate.certPem,
        connections: 2,
        requestTimeoutMs: 10_000
      },
      `local APNs simulator at ${simulator.origin}`
    )
    return Context.make(ApnsClient, client).pipe(Context.add(LocalApnsSimulator, Option.some(simulator)))
  })
)

/** APNs as configured: Apple (or APNS_HOST) with credentials, else the local simulator. */
export const ApnsLive = Layer.unwrapEffect(
  Effect.map(loadApnsSettings, (settings) =>
    Option.match(settings.credentials, {
      onNone: () => localSimulatorLayer,
      onSome: (credentials) => {
        const hostFor = (own: Option.Option<string>, apple: string) => originOf(Option.getOrElse(Option.orElse(own, () => settings.host), () => apple))
        const production = hostFor(settings.productionHost, PRODUCTION_HOST)
        const sandbox = hostFor(settings.sandboxHost, SANDBOX_HOST)
        const overridden = Option.isSome(settings.host) || Option.isSome(settings.productionHost) || Option.isSome(settings.sandboxHost)
        return Layer.merge(
          ApnsClient.layer(
            {
              credentials,
              origins: { production, sandbox },
              caPem: Option.getOrUndefined(settings.caPem),
              connections: settings.connections,
              requestTimeoutMs: settings.requestTimeoutMs
            },
            overridden ? `APNs at ${production} (sandbox ${sandbox})` : `Apple APNs (${PRODUCTION_HOST} / ${SANDBOX_HOST})`
          ),
          Layer.succeed(LocalApnsSimulator, Option.none())
        )
      }
    })
  )
)
