import * as fs from "node:fs"
import * as path from "node:path"
import { Effect, Layer } from "effect"
import { ApnsClient, type ApnsClientSettings } from "../../../src/apns/ApnsClient.ts"
import { importApnsKey } from "../../../src/apns/ApnsConfig.ts"
import { ApnsSimulator, type SimulatorOptions } from "../../../src/apns/simulator/ApnsSimulator.ts"
import { generateSigningKey, type LocalSigningKey } from "../../../src/apns/simulator/localKeys.ts"

/** A simulator on a random loopback port with a known key, for tests. */
export interface SimulatorFixture {
  readonly simulator: ApnsSimulator
  readonly key: LocalSigningKey
  /** Client settings pointing at this simulator (both environments). */
  readonly clientSettings: (overrides?: Partial<Omit<ApnsClientSettings, "credentials">>) => Effect.Effect<ApnsClientSettings>
  readonly close: () => Promise<void>
}

export const startSimulator = async (options: Partial<SimulatorOptions> = {}): Promise<SimulatorFixture> => {
  const key = generateSigningKey()
  const simulator = await ApnsSimulator.start({ keys: [key], ...options })
  return {
    simulator,
    key,
    clientSettings: (overrides = {}) =>
      Effect.map(Effect.orDie(importApnsKey(key.privateKeyPem, "APNS_PRIVATE_KEY")), (privateKey) => ({
        credentials: { teamId: key.teamId, keyId: key.keyId, privateKey },
        origins: { production: simulator.origin, sandbox: simulator.sandboxOrigin },
        caPem: simulator.certificate.certPem,
        connections: 2,
        requestTimeoutMs: 5_000,
        ...overrides
      })),
    close: () => simulator.close()
  }
}

export const clientLayer = (fixture: SimulatorFixture, overrides?: Partial<Omit<ApnsClientSettings, "credentials">>) =>
  Layer.scoped(ApnsClient, Effect.flatMap(fixture.clientSettings(overrides), (settings) => ApnsClient.make(settings, "test simulator")))

export const TOKEN = "a".repeat(64)
export const tokenN = (n: number) => n.toString(16).padStart(64, "0")

/**
 * The environment that points a relay process at this simulator as if it were Apple:
 * its CA and the signing key written to `dir`, credentials, host, a default bundle id.
 */
export const relayEnvFor = (fixture: SimulatorFixture, dir: string): Record<string, string> => {
  fs.writeFileSync(path.join(dir, "ca.pem"), fixture.simulator.certificate.certPem)
  fs.writeFileSync(path.join(dir, "key.p8"), fixture.key.privateKeyPem)
  return {
    APNS_HOST: fixture.simulator.host,
    APNS_CA_FILE: path.join(dir, "ca.pem"),
    APNS_TEAM_ID: fixture.key.teamId,
    APNS_KEY_ID: fixture.key.keyId,
    APNS_PRIVATE_KEY_FILE: path.join(dir, "key.p8"),
    APNS_DEFAULT_BUNDLE_ID: "com.example.app"
  }
}
