import * as http from "node:http"
import type { AddressInfo } from "node:net"

/**
 * A small OpenAI-compatible model server for OpenCode's `@ai-sdk/openai-compatible`
 * provider: it streams `chat/completions` chunks and picks its behaviour from a
 * keyword in the newest user message (the same keywords as the captures in
 * /work/shared/opencode-events):
 * - `USE_TOOL`: some text, then a `bash` tool call (`echo hello-from-tool`);
 *   once the tool result is in the conversation, a closing answer.
 * - `FAIL429`: HTTP 429 with `retry-after: 1` twice, then an answer.
 * - `FAIL400`: HTTP 400, which OpenCode reports as `session.error` (APIError).
 * - `SLOW`: text streamed in `SLOW_CHUNKS` pieces, one per `SLOW_INTERVAL_MS`.
 * - anything else: a short text answer.
 * Title requests (no tools, a title-generator system prompt) get `Mock title: <prompt>`.
 */
export interface MockModel {
  readonly baseURL: string
  /** Every chat request's scenario, in arrival order. */
  readonly requests: Array<string>
  readonly close: () => Promise<void>
}

export const ANSWERS = {
  text: "Hello! This is a mock answer from the local LLM.",
  toolIntro: "I'll run a command. ",
  toolDone: "The command printed hello-from-tool. Done.",
  toolRejected: "The command was not run.",
  recovered: "Recovered after rate limiting.",
  slowFinal: " Slow answer finished."
} as const

export const SLOW_CHUNKS = 24
export const SLOW_INTERVAL_MS = 150

const textOf = (content: unknown): string => {
  if (typeof content === "string") return content
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part?.text === "string" ? part.text : "")).join("")
  }
  return ""
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export const startMockModel = async (): Promise<MockModel> => {
  const requests: Array<string> = []
  // 429 answers given per prompt, so each FAIL429 session sees exactly two.
  const rateLimited = new Map<string, number>()

  const server = http.createServer((req, res) => {
    let raw = ""
    req.on("data", (chunk: Buffer) => (raw += chunk.toString()))
    req.on("end", () => {
      void answer(raw, res).catch(() => res.destroy())
    })
  })

  const answer = async (raw: string, res: http.ServerResponse) => {
    let body: any
    try {
      body = JSON.parse(raw)
    } catch {
      body = {}
    }
    const messages: Array<any> = Array.isArray(body.messages) ? body.messages : []
    const system = messages.filter((m) => m.role === "system").map((m) => textOf(m.content)).join("\n")
    const users = messages.filter((m) => m.role === "user")
    const prompt = textOf(users.at(-1)?.content).trim()
    const last = messages.at(-1)
    const hasTools = Array.isArray(body.tools) && body.tools.length > 0

    if (!hasTools && /title/i.test(system)) {
      requests.push("title")
      const subject = prompt.split("\n").filter((line) => line.trim() !== "").at(-1) ?? prompt
      return stream(res, [{ content: `Mock title: ${subject.slice(0, 60)}` }], "stop")
    }
    if (prompt.includes("FAIL400")) {
      requests.push("400")
      res.writeHead(400, { "content-type": "application/json" })
      return res.end(JSON.stringify({ error: { message: "mock bad request", type: "invalid_request_error" } }))
    }
    if (prompt.includes("FAIL429") && (rateLimited.get(prompt) ?? 0) < 2) {
      requests.push("429")
      rateLimited.set(prompt, (rateLimited.get(prompt) ?? 0) + 1)
      res.writeHead(429, { "content-type": "application/json", "retry-after": "1" })
      return res.end(JSON.stringify({ error: { message: "mock rate limited", type: "rate_limit" } }))
    }
    if (prompt.includes("USE_TOOL")) {
      if (last?.role === "tool") {
        requests.push("tool-result")
        const output = textOf(last.content)
        const text = output.includes("hello-from-tool") ? ANSWERS.toolDone : ANSWERS.toolRejected
        return stream(res, split(text, 12), "stop")
      }
      requests.push("tool-call")
      const args = JSON.stringify({ command: "echo hello-from-tool", description: "Print a greeting" })
      return stream(res, [
        ...split(ANSWERS.toolIntro, 20),
        { tool_calls: [{ index: 0, id: `call_${Date.now()}`, type: "function", function: { name: "bash", arguments: args } }] }
      ], "tool_calls")
    }
    if (prompt.includes("SLOW")) {
      requests.push("slow")
      // Short pieces, so the whole answer stays under the activity's ~120 characters.
      const deltas = Array.from({ length: SLOW_CHUNKS }, () => ({ content: "." }))
      return stream(res, [...deltas, { content: ANSWERS.slowFinal }], "stop", SLOW_INTERVAL_MS)
    }
    requests.push(prompt.includes("FAIL429") ? "recovered" : "text")
    return stream(res, split(prompt.includes("FAIL429") ? ANSWERS.recovered : ANSWERS.text, 12), "stop")
  }

  const stream = async (
    res: http.ServerResponse,
    deltas: ReadonlyArray<Record<string, unknown>>,
    finish: string,
    intervalMs = 5
  ) => {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" })
    const id = `chatcmpl-${Date.now()}`
    const chunk = (delta: Record<string, unknown>, finishReason: string | null, extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: "mock-model", choices: [{ index: 0, delta, finish_reason: finishReason }], ...extra })}\n\n`
    res.write(chunk({ role: "assistant", content: "" }, null))
    for (const delta of deltas) {
      if (res.destroyed) return
      res.write(chunk(delta, null))
      await sleep(intervalMs)
    }
    res.write(chunk({}, finish, { usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 } }))
    res.end("data: [DONE]\n\n")
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

const split = (text: string, size: number): Array<Record<string, unknown>> => {
  const out: Array<Record<string, unknown>> = []
  for (let i = 0; i < text.length; i += size) out.push({ content: text.slice(i, i + size) })
  return out
}
