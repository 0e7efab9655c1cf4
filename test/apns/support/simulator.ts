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
