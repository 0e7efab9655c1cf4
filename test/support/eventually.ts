import { Effect } from "effect"

/** Polls `probe` until it returns a value (every 50 ms, at most 15 s): waits for an event, never a fixed time. */
export const eventually = <A, E, R>(what: string, probe: Effect.Effect<A | undefined, E, R>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 300; i++) {
      const value = yield* probe
      if (value !== undefined) return value
      yield* Effect.sleep("50 millis")
    }
    return yield* Effect.die(new Error(`timed out waiting for ${what}`))
  })

/** Polls `check` (every 50 ms) until it stops throwing, for tests outside Effect; the last failure if it never does. */
export const waitUntil = async (check: () => void | Promise<void>, timeoutMs = 15_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (true) {
    try {
      await check()
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
