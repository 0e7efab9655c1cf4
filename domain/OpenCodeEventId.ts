/**
 * OpenCode ids (`evt_202d1f74c001...`) start with 12 hex digits holding the
 * low 48 bits of `ms * 0x1000 + counter`, so the milliseconds wrap every
 * 2^36 ms (~795 days). A reference time (when the event was received) picks the
 * nearest matching instant. Pure: the reference comes in as data.
 */
const WRAP_MS = 2 ** 36
const PREFIX = /^[a-z]+_([0-9a-f]{12})/

export const sourceTimeFromId = (id: string, referenceMs: number): number | undefined => {
  const match = PREFIX.exec(id)
  if (match === null || match[1] === undefined) return undefined
  const low = Math.floor(parseInt(match[1], 16) / 0x1000)
  const atOrBefore = referenceMs - ((((referenceMs - low) % WRAP_MS) + WRAP_MS) % WRAP_MS)
  return referenceMs - atOrBefore > WRAP_MS / 2 ? atOrBefore + WRAP_MS : atOrBefore
}
