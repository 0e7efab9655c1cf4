import { Clock, Duration, Effect, Layer, Random } from "effect"
import type { ForwardedFrame, GlobalFrame } from "./Frames.ts"
import { isForwarded } from "./Frames.ts"
import { backoffDelay, DEFAULT_FORWARDER, forward } from "./Forwarder.ts"
import { type OpenCodeTarget, streamGlobalEvents } from "./GlobalEventStream.ts"
import { redact } from "./Redaction.ts"
import type { RelayTarget } from "./RelayClient.ts"
import { DEFAULT_LIMITS, Spool, type SpoolLimits } from "./Spool.ts"
import { type ActiveSessions, fetchStatuses, loadActive, saveActive, snapshotFrames, trackActive } from "./StatusSnapshot.ts"

/**
 * The bridge: OpenCode's `/global/event` → stamp `seenAt` → (redact) → durable
 * spool → batches to the relay. Reading and sending are separate fibers joined
 * only by the spool, so a relay outage never slows reading and a bridge restart
 * resumes with whatever was not acknowledged.
 */
export interface BridgeSettings {
  readonly opencode: OpenCodeTarget
  readonly relay: RelayTarget
  readonly spoolDir: string
  readonly limits: SpoolLimits
  readonly redact: boolean
  readonly maxBatch: number
  readonly linger: Duration.DurationInput
  readonly backoffBase: Duration.DurationInput
  readonly backoffMax: Duration.DurationInput
  /** Silence on `/global/event` after which the bridge reconnects. */
  readonly idleTimeout: Duration.DurationInput
}

export const bridgeSettings = (
  required: Pick<BridgeSettings, "opencode" | "relay" | "spoolDir">,
  overrides: Partial<BridgeSettings> = {}
): BridgeSettings => ({
  limits: DEFAULT_LIMITS,
  redact: false,
  ...DEFAULT_FORWARDER,
  idleTimeout: Duration.seconds(35),
  ...required,
  ...overrides
})

/** Reads OpenCode forever, reconnecting with backoff; each (re)connect sends a status snapshot. */
const readOpenCode = (settings: BridgeSettings) =>
  Effect.gen(function*() {
    const spool = yield* Spool
    let active: ActiveSessions = loadActive(settings.spoolDir)
    const remember = (next: ActiveSessions) => {
      if (next === active) return
      active = next
      try {
        saveActive(settings.spoolDir, active)
      } catch {
        // only a hint for the next snapshot
      }
    }
    const store = (frames: ReadonlyArray<ForwardedFrame>) =>
      spool.append(settings.redact ? frames.flatMap((frame) => redact(frame) ?? []) : frames).pipe(
        Effect.catchAll((error) => Effect.logError(`cannot write the spool, ${frames.length} events lost: ${error.reason}`))
      )

    const onOpen = Effect.gen(function*() {
      const at = yield* Clock.currentTimeMillis
      yield* Effect.logInfo(`connected to OpenCode at ${settings.opencode.url}`)
      const statuses = yield* fetchStatuses(settings.opencode)
      const frames = snapshotFrames(statuses, active, at)
      yield* store(frames)
      remember(new Map(Object.keys(statuses).map((id) => [id, active.get(id)] as const)))
      if (frames.length > 0) yield* Effect.logInfo(`status snapshot: ${frames.length} sessions resynchronised`)
    }).pipe(Effect.catchAll((error) => Effect.logWarning(`no status snapshot: ${error.reason}`)))

    const onFrames = (frames: ReadonlyArray<GlobalFrame>) =>
      Effect.flatMap(Clock.currentTimeMillis, (seenAt) => {
        const forwarded = frames.filter(isForwarded).map((frame): ForwardedFrame => ({ ...frame, seenAt }))
        let next = active
        for (const frame of forwarded) next = trackActive(next, frame)
        remember(next)
        return forwarded.length === 0 ? Effect.void : store(forwarded)
      })

    let attempt = 0
    while (true) {
      let opened = false
      const lost = yield* Effect.flip(streamGlobalEvents(
        settings.opencode,
        settings.idleTimeout,
        onOpen.pipe(Effect.zipRight(Effect.sync(() => void (opened = true)))),
        onFrames
      ))
      attempt = opened ? 0 : attempt + 1
      const delay = backoffDelay(attempt, settings.backoffBase, settings.backoffMax, yield* Random.next)
      yield* (attempt <= 1 ? Effect.logWarning : Effect.logDebug)(`OpenCode event stream lost: ${lost.reason}; reconnecting in ${Duration.format(delay)}`)
      yield* Effect.sleep(delay)
    }
  })

export const runBridge = (settings: BridgeSettings): Effect.Effect<never, never, Spool> =>
  Effect.raceFirst(
    readOpenCode(settings),
    forward({
      relay: settings.relay,
      maxBatch: settings.maxBatch,
      linger: settings.linger,
      backoffBase: settings.backoffBase,
      backoffMax: settings.backoffMax
    })
  ) as Effect.Effect<never, never, Spool>

/** The bridge with its spool, as one program. */
export const bridgeProgram = (settings: BridgeSettings) =>
  runBridge(settings).pipe(Effect.provide(Spool.layer(settings.spoolDir, settings.limits)))

export const BridgeLive = (settings: BridgeSettings) => Layer.scopedDiscard(Effect.forkScoped(bridgeProgram(settings)))
