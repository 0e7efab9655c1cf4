/**
 * The pairing payload the phone app scans (seed 001's format): the relay
 * secret, where the OpenCode server is, and where the relay is. Pure.
 */
export interface PairPayload {
  readonly relaySecret: string
  readonly hosts: ReadonlyArray<string>
  readonly relayURL: string
}

export const pairLink = (payload: PairPayload): string =>
  `mobilevoice:///?pair=${encodeURIComponent(JSON.stringify({ relaySecret: payload.relaySecret, hosts: payload.hosts, relayURL: payload.relayURL }))}`

/** The payload back from a link (what the app does); undefined when it is not one. */
export const parsePairLink = (link: string): PairPayload | undefined => {
  try {
    const value = new URL(link).searchParams.get("pair")
    if (value === null) return undefined
    const parsed = JSON.parse(value)
    if (typeof parsed.relaySecret !== "string" || typeof parsed.relayURL !== "string" || !Array.isArray(parsed.hosts)) return undefined
    return parsed
  } catch {
    return undefined
  }
}
