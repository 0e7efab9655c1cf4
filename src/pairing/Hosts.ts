import * as os from "node:os"

/**
 * Where the phone can reach this machine's OpenCode server: one URL per
 * non-internal IPv4 address (LAN first, then Tailscale's 100.64.0.0/10, then
 * anything else), on the OpenCode server's port. Pure given the interfaces.
 */
export type Interfaces = ReturnType<typeof os.networkInterfaces>

const octets = (address: string) => address.split(".").map(Number)

export const isTailscale = (address: string): boolean => {
  const [a, b] = octets(address)
  return a === 100 && b !== undefined && b >= 64 && b <= 127
}

export const isPrivateLan = (address: string): boolean => {
  const [a, b] = octets(address)
  return a === 10 || (a === 172 && b !== undefined && b >= 16 && b <= 31) || (a === 192 && b === 168)
}

const tier = (address: string) => (isPrivateLan(address) ? 0 : isTailscale(address) ? 1 : 2)

export const hostAddresses = (interfaces: Interfaces = os.networkInterfaces()): ReadonlyArray<string> => {
  const addresses = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter((info) => info.family === "IPv4" && !info.internal)
    .map((info) => info.address)
  return [...new Set(addresses)].sort((x, y) => tier(x) - tier(y))
}

export const hostUrls = (port: number, interfaces?: Interfaces): ReadonlyArray<string> =>
  hostAddresses(interfaces).map((address) => `http://${address}:${port}`)
