import { createHash } from "node:crypto"

/**
 * The id the phone app knows an OpenCode server by, as OpenCode's own relay
 * poster derives it: the first 16 hex digits of sha256("<relay URL>|<secret>"),
 * the URL without trailing slashes. The bridge sends it when --server-id is not
 * given, so alerts from either path name the same server.
 */
export const serverIdFor = (relayUrl: string, secret: string): string =>
  createHash("sha256").update(`${relayUrl.trim().replace(/\/+$/, "")}|${secret.trim()}`).digest("hex").slice(0, 16)
