/**
 * Drives a real OpenCode server over its HTTP API (as the phone app or the TUI
 * would) and records its `/global/event` stream, so scenarios can wait for what
 * actually happened rather than sleep.
 */
export interface GlobalFrame {
  readonly directory?: string
  readonly payload: { readonly id?: string; readonly type: string; readonly properties: any }
}

export interface OpenCodeDriver {
  readonly createSession: (directory: string) => Promise<string>
  readonly prompt: (directory: string, sessionID: string, text: string) => Promise<void>
  readonly replyPermission: (directory: string, requestID: string, reply: "once" | "always" | "reject") => Promise<void>
  readonly abort: (directory: string, sessionID: string) => Promise<void>
  readonly status: () => Promise<Record<string, { type: string }>>
  /** The first request for a directory loads its plugins (and may install their dependencies: slow). */
  readonly warmUp: (directory: string, timeoutMs: number) => Promise<void>
}

const TIMEOUT_MS = 10_000

export const openCodeDriver = (baseUrl: string, authorization?: string): OpenCodeDriver => {
  const call = async (method: string, path: string, directory: string | undefined, body?: unknown, timeoutMs = TIMEOUT_MS) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        "content-type": "application/json",
        ...(directory === undefined ? {} : { "x-opencode-directory": encodeURIComponent(directory) }),
        ...(authorization === undefined ? {} : { authorization })
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs)
    })
    const text = await response.text()
    if (!response.ok) throw new Error(`${method} ${path} -> ${response.status}: ${text}`)
    return text === "" ? undefined : JSON.parse(text)
  }
  return {
    createSession: async (directory) => (await call("POST", "/session", directory, {})).id,
    prompt: async (directory, sessionID, text) => {
      await call("POST", `/session/${sessionID}/prompt_async`, directory, { parts: [{ type: "text", text }] })
    },
    replyPermission: async (directory, requestID, reply) => {
      await call("POST", `/permission/${requestID}/reply`, directory, { reply })
    },
    abort: async (directory, sessionID) => {
      await call("POST", `/session/${sessionID}/abort`, directory, {})
    },
    status: async () => await call("GET", "/session/status", undefined),
    warmUp: async (directory, timeoutMs) => {
      await call("GET", "/session", directory, undefined, timeoutMs)
    }
  }
}

/** Everything `/global/event` sends, from now on, and waiting on it. */
export interface EventRecorder {
  readonly frames: Array<GlobalFrame>
  readonly forSession: (sessionID: string) => Array<GlobalFrame>
  readonly waitFor: (what: string, predicate: (frame: GlobalFrame) => boolean, timeoutMs?: number) => Promise<GlobalFrame>
  readonly close: () => void
}

const sessionOf = (frame: GlobalFrame): string | undefined => {
  const p = frame.payload.properties ?? {}
  return p.sessionID ?? p.info?.sessionID ?? p.part?.sessionID ?? (frame.payload.type.startsWith("session.") ? p.info?.id : undefined)
}

export const recordGlobalEvents = async (baseUrl: string, authorization?: string): Promise<EventRecorder> => {
  const frames: Array<GlobalFrame> = []
  const waiters = new Set<() => void>()
  const controller = new AbortController()
  const response = await fetch(`${baseUrl}/global/event`, {
    headers: { accept: "text/event-stream", ...(authorization === undefined ? {} : { authorization }) },
    signal: controller.signal
  })
  if (!response.ok || response.body === null) throw new Error(`/global/event -> ${response.status}`)
  let connected: () => void = () => {}
  const ready = new Promise<void>((resolve) => (connected = resolve))
  void (async () => {
    const decoder = new TextDecoder()
    let buffer = ""
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true })
        let end: number
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n")
          if (data === "") continue
          const frame = JSON.parse(data) as GlobalFrame
          if (frame.payload?.type === "server.connected") connected()
          frames.push(frame)
          for (const wake of waiters) wake()
        }
      }
    } catch {
      // closed
    }
  })()
  await ready
  const waitFor = (what: string, predicate: (frame: GlobalFrame) => boolean, timeoutMs = 30_000) =>
    new Promise<GlobalFrame>((resolve, reject) => {
      let from = 0
      const check = () => {
        for (; from < frames.length; from++) {
          const frame = frames[from]!
          if (predicate(frame)) {
            cleanup()
            return resolve(frame)
          }
        }
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`timed out waiting for ${what}; last frames: ${frames.slice(-8).map((f) => f.payload.type).join(", ")}`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        waiters.delete(check)
      }
      waiters.add(check)
      check()
    })
  return {
    frames,
    forSession: (sessionID) => frames.filter((f) => sessionOf(f) === sessionID),
    waitFor,
    close: () => controller.abort()
  }
}

/** The turn is over: OpenCode announced idle for the session. */
export const isIdle = (sessionID: string) => (frame: GlobalFrame) =>
  frame.payload.type === "session.idle" && frame.payload.properties?.sessionID === sessionID

export const isPermissionAsked = (sessionID: string) => (frame: GlobalFrame) =>
  frame.payload.type === "permission.asked" && frame.payload.properties?.sessionID === sessionID
