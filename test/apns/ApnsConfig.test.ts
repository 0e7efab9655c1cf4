import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Option } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { loadApnsSettings } from "../../src/apns/ApnsConfig.ts"
import { generateSigningKey } from "../../src/apns/simulator/localKeys.ts"

const load = (env: Record<string, string>) =>
  loadApnsSettings.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))

const failureOf = (env: Record<string, string>) => Effect.map(Effect.flip(load(env)), (error) => String(error))

describe("APNs configuration", () => {
  const key = generateSigningKey()
  const base = { APNS_TEAM_ID: "TEAM123456", APNS_KEY_ID: "KEY1234567" }

  it.effect("nothing configured means the local simulator", () =>
    Effect.gen(function*() {
      const settings = yield* load({})
      expect(Option.isNone(settings.credentials)).toBe(true)
      expect(settings.connections).toBe(2)
    }))

  it.effect("a PEM with literal \\n is accepted", () =>
    Effect.gen(function*() {
      const settings = yield* load({ ...base, APNS_PRIVATE_KEY: key.privateKeyPem.replace(/\n/g, "\\n"), APNS_HOST: "127.0.0.1:2197" })
      expect(Option.map(settings.credentials, (c) => [c.teamId, c.keyId])).toEqual(Option.some(["TEAM123456", "KEY1234567"]))
      expect(settings.host).toEqual(Option.some("127.0.0.1:2197"))
    }))

  it.effect("the key can come from a file", () =>
    Effect.gen(function*() {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "apns-key-")), "AuthKey.p8")
      fs.writeFileSync(file, key.privateKeyPem)
      const settings = yield* load({ ...base, APNS_PRIVATE_KEY_FILE: file })
      expect(Option.isSome(settings.credentials)).toBe(true)
    }))

  it.effect("half-given or bad configuration names the variable", () =>
    Effect.gen(function*() {
      expect(yield* failureOf({ APNS_KEY_ID: "KEY1234567" })).toContain("APNS_TEAM_ID")
      expect(yield* failureOf({ ...base })).toContain("APNS_PRIVATE_KEY")
      expect(yield* failureOf({ APNS_TEAM_ID: "TEAM123456", APNS_PRIVATE_KEY: key.privateKeyPem })).toContain("APNS_KEY_ID")
      expect(yield* failureOf({ ...base, APNS_TEAM_ID: "team" })).toContain("APNS_TEAM_ID")
      expect(yield* failureOf({ ...base, APNS_PRIVATE_KEY_FILE: "/nonexistent/AuthKey.p8" })).toContain("APNS_PRIVATE_KEY_FILE")
      expect(yield* failureOf({ ...base, APNS_PRIVATE_KEY: "not a key" })).toContain("APNS_PRIVATE_KEY is not an APNs auth key")
      const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString()
      expect(yield* failureOf({ ...base, APNS_PRIVATE_KEY: rsa })).toContain("APNS_PRIVATE_KEY is not an APNs auth key")
      expect(yield* failureOf({ APNS_CONNECTIONS: "0" })).toContain("APNS_CONNECTIONS")
      expect(yield* failureOf({ APNS_HOST: "https://x" })).toContain("APNS_HOST")
    }))
})
