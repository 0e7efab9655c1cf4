import * as crypto from "node:crypto"
import type { SigningKey } from "./JwtVerifier.ts"

/** A fresh P-256 signing key (like an App Store Connect .p8) for talking to the simulator. */
export interface LocalSigningKey extends SigningKey {
  readonly privateKeyPem: string
}

export const generateSigningKey = (teamId = "SIMTEAM001", keyId = "SIMKEY0001"): LocalSigningKey => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
  return {
    teamId,
    keyId,
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString()
  }
}
