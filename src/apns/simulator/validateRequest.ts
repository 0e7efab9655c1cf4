/**
 * The checks APNs makes on a request, as a pure function, so the simulator
 * rejects what Apple would reject. Authentication is checked separately
 * (it needs the signing keys and per-connection history).
 */
export interface Rejection {
  readonly status: number
  readonly reason: string
}

export interface RequestFacts {
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: string
}

const PUSH_TYPES = new Set(["alert", "background", "location", "voip", "complication", "fileprovider", "mdm", "liveactivity", "pushtotalk", "widgets", "controls"])
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const HEX_TOKEN = /^[0-9a-fA-F]{64,400}$/
const LIVE_ACTIVITY_SUFFIX = ".push-type.liveactivity"

export const MAX_PAYLOAD_BYTES = 4096

export const deviceTokenOf = (path: string): string | undefined => /^\/3\/device\/([^/?]*)$/.exec(path)?.[1]

export const validateRoute = (facts: RequestFacts): Rejection | null => {
  const token = deviceTokenOf(facts.path)
  if (token === undefined) return { status: 404, reason: "BadPath" }
  if (facts.method !== "POST") return { status: 405, reason: "MethodNotAllowed" }
  if (token === "") return { status: 400, reason: "MissingDeviceToken" }
  if (!HEX_TOKEN.test(token) || token.length % 2 !== 0) return { status: 400, reason: "BadDeviceToken" }
  return null
}

export interface HeaderRules {
  /** Bundle ids the signing team may push to; empty = any. */
  readonly allowedBundles: ReadonlySet<string>
  /** Tokens registered for one bundle: a push with another topic gets DeviceTokenNotForTopic. */
  readonly tokenBundles: ReadonlyMap<string, string>
}

export const bundleOfTopic = (topic: string) =>
  topic.endsWith(LIVE_ACTIVITY_SUFFIX) ? topic.slice(0, -LIVE_ACTIVITY_SUFFIX.length) : topic

export const validateHeaders = (facts: RequestFacts, rules: HeaderRules): Rejection | null => {
  const h = facts.headers
  const pushType = h["apns-push-type"]
  if (pushType === undefined || !PUSH_TYPES.has(pushType)) return { status: 400, reason: "InvalidPushType" }
  const topic = h["apns-topic"]
  if (topic === undefined || topic === "") return { status: 400, reason: "MissingTopic" }
  if (!/^[A-Za-z0-9.\-]+$/.test(topic)) return { status: 400, reason: "BadTopic" }
  const priority = h["apns-priority"]
  if (priority !== undefined && !["1", "5", "10"].includes(priority)) return { status: 400, reason: "BadPriority" }
  if (pushType === "liveactivity" && priority === "1") return { status: 400, reason: "BadPriority" }
  const collapseId = h["apns-collapse-id"]
  if (collapseId !== undefined && Buffer.byteLength(collapseId, "utf8") > 64) return { status: 400, reason: "BadCollapseId" }
  const apnsId = h["apns-id"]
  if (apnsId !== undefined && !UUID.test(apnsId)) return { status: 400, reason: "BadMessageId" }
  const expiration = h["apns-expiration"]
  if (expiration !== undefined && !/^\d{1,12}$/.test(expiration)) return { status: 400, reason: "BadExpirationDate" }
  const isLiveActivityTopic = topic.endsWith(LIVE_ACTIVITY_SUFFIX)
  if ((pushType === "liveactivity") !== isLiveActivityTopic) return { status: 400, reason: "TopicDisallowed" }
  const bundle = bundleOfTopic(topic)
  if (rules.allowedBundles.size > 0 && !rules.allowedBundles.has(bundle)) return { status: 400, reason: "TopicDisallowed" }
  if (rules.tokenBundles.size > 0) {
    const token = deviceTokenOf(facts.path)?.toLowerCase()
    const registeredFor = token === undefined ? undefined : rules.tokenBundles.get(token)
    if (registeredFor !== undefined && registeredFor !== bundle) return { status: 400, reason: "DeviceTokenNotForTopic" }
  }
  return null
}

export const validatePayload = (facts: RequestFacts): { rejection: Rejection | null; payload: unknown } => {
  if (facts.body.length === 0) return { rejection: { status: 400, reason: "PayloadEmpty" }, payload: undefined }
  if (Buffer.byteLength(facts.body, "utf8") > MAX_PAYLOAD_BYTES) {
    return { rejection: { status: 413, reason: "PayloadTooLarge" }, payload: undefined }
  }
  let payload: unknown
  try {
    payload = JSON.parse(facts.body)
  } catch {
    return { rejection: { status: 400, reason: "BadPayload" }, payload: undefined }
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    return { rejection: { status: 400, reason: "BadPayload" }, payload }
  }
  const aps = (payload as { aps?: unknown }).aps
  if (typeof aps !== "object" || aps === null) return { rejection: { status: 400, reason: "BadPayload" }, payload }
  if (facts.headers["apns-push-type"] === "liveactivity") {
    const rejection = validateLiveActivity(aps as Record<string, unknown>)
    if (rejection !== null) return { rejection, payload }
  }
  return { rejection: null, payload }
}

/**
 * Apple answers 200 to many broken Live Activity payloads and the device drops
 * them silently; the simulator is stricter on purpose and names the problem.
 */
export const validateLiveActivity = (aps: Record<string, unknown>): Rejection | null => {
  const timestamp = aps.timestamp
  if (typeof timestamp !== "number") return { status: 400, reason: "MissingLiveActivityTimestamp" }
  if (!Number.isInteger(timestamp) || timestamp >= 1e11) return { status: 400, reason: "LiveActivityTimestampNotSeconds" }
  const event = aps.event
  if (event !== "start" && event !== "update" && event !== "end") return { status: 400, reason: "MissingLiveActivityEvent" }
  if ((event === "start" || event === "update") && (typeof aps["content-state"] !== "object" || aps["content-state"] === null)) {
    return { status: 400, reason: "MissingContentState" }
  }
  if (event === "start") {
    if (typeof aps["attributes-type"] !== "string") return { status: 400, reason: "MissingAttributesType" }
    if (typeof aps.attributes !== "object" || aps.attributes === null) return { status: 400, reason: "MissingAttributes" }
  }
  for (const key of ["stale-date", "dismissal-date"] as const) {
    const value = aps[key]
    if (value !== undefined && (typeof value !== "number" || !Number.isInteger(value) || value >= 1e11)) {
      return { status: 400, reason: "LiveActivityDateNotSeconds" }
    }
  }
  return null
}
