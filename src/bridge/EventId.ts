import * as crypto from "node:crypto"

/**
 * Ids for events the bridge makes up (status snapshots), in OpenCode's own
 * format so they sort among real ones and the relay decodes their time
 * (domain/OpenCodeEventId.ts): `evt_` + 12 hex digits of the low 48 bits of
 * `ms * 0x1000 + counter` + 14 characters. The tail is a hash of what the
 * event says, so one snapshot always carries the same id.
 */
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

export const timePrefix = (ms: number, counter = 0): string =>
  ((BigInt(Math.floor(ms)) * 0x1000n + BigInt(counter & 0xfff)) & 0xffffffffffffn).toString(16).padStart(12, "0")

export const syntheticEventId = (ms: number, counter: number, seed: string): string => {
  const digest = crypto.createHash("sha256").update(seed).digest()
  let tail = ""
  for (let i = 0; i < 14; i++) tail += BASE62[digest[i]! % 62]
  return `evt_${timePrefix(ms, counter)}${tail}`
}
