import { generate } from "selfsigned"

/** A self-signed TLS certificate for 127.0.0.1/localhost, made at start-up (nothing is downloaded). */
export interface SimulatorCertificate {
  readonly certPem: string
  readonly keyPem: string
}

export const generateCertificate = async (): Promise<SimulatorCertificate> => {
  const pems = await generate([{ name: "commonName", value: "Pushline APNs simulator" }], {
    keySize: 2048,
    days: 3650,
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [{ type: 2, value: "localhost" }, { type: 7, ip: "127.0.0.1" }, { type: 7, ip: "::1" }] }
    ]
  } as Parameters<typeof generate>[1])
  return { certPem: pems.cert, keyPem: pems.private }
}
