import { Console, Effect } from "effect"
import { createRequire } from "node:module"
import { hostUrls } from "./Hosts.ts"
import { pairLink, type PairPayload } from "./PairLink.ts"

const qrcode = createRequire(import.meta.url)("qrcode-terminal") as {
  generate: (text: string, options: { small: boolean }, callback: (qr: string) => void) => void
}

/** The QR code for a text, as terminal characters. */
export const renderQr = (text: string): string => {
  let out = ""
  qrcode.generate(text, { small: true }, (qr) => (out = qr))
  return out
}

/** The port OpenCode listens on, from its URL (4096 is `opencode serve`'s default). */
export const openCodePort = (openCodeUrl: string): number => {
  const url = new URL(openCodeUrl)
  return url.port === "" ? (url.protocol === "https:" ? 443 : 4096) : Number(url.port)
}

export const pairPayload = (secret: string, relayURL: string, openCodeUrl: string): PairPayload => ({
  relaySecret: secret,
  hosts: hostUrls(openCodePort(openCodeUrl)),
  relayURL
})

/** Prints the QR code and the link, for the phone app to scan or open. */
export const printPairing = (payload: PairPayload) => {
  const link = pairLink(payload)
  return Console.log(
    [
      "Scan with the app to pair (relay secret, this machine's addresses, relay URL):",
      renderQr(link),
      `Or open: ${link}`,
      `Hosts: ${payload.hosts.length === 0 ? "(no LAN or Tailscale address found)" : payload.hosts.join(", ")}`
    ].join("\n")
  ).pipe(Effect.as(link))
}
