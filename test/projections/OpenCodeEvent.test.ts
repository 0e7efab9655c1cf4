import { describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { isTextPart, isToolPart, readOpenCodeEvent } from "../../domain/OpenCodeEvent.ts"

const oneOfEach = fs.readFileSync(path.resolve(process.cwd(), "../shared/opencode-events/one-of-each.jsonl"), "utf8")
  .split("\n")
  .filter((line) => line.trim() !== "")
  .map((line) => JSON.parse(line) as { payload?: unknown; type?: string })
  .map((frame) => frame.payload ?? frame)

describe("readOpenCodeEvent", () => {
  it("reads every captured event we use and passes every other type by", () => {
    const read = oneOfEach.map((payload) => {
      const result = readOpenCodeEvent(payload)
      return `${result._tag === "Read" ? result.event.type : result.type}:${result._tag}`
    })
    expect(read).toEqual([
      "server.connected:Unread",
      "session.created:Read",
      "session.updated:Read",
      "message.updated:Read",
      "message.part.updated:Read",
      "session.status:Read",
      "message.updated:Read",
      "session.diff:Unread",
      "plugin.added:Unread",
      "catalog.updated:Unread",
      "reference.updated:Unread",
      "integration.updated:Unread",
      "message.part.updated:Read",
      "message.part.delta:Read",
      "message.part.updated:Read",
      "message.updated:Read",
      "session.status:Read",
      "session.idle:Read",
      "message.part.updated:Read",
      "message.part.updated:Read",
      "permission.asked:Read",
      "permission.replied:Read",
      "message.part.updated:Read",
      "message.updated:Read",
      "permission.replied:Read",
      "message.part.updated:Read",
      "session.status:Read",
      "session.error:Read",
      "message.updated:Read",
      "session.error:Read",
      "server.heartbeat:Unread"
    ])
  })

  it("keeps only the fields the fold uses", () => {
    const result = readOpenCodeEvent(oneOfEach[1])
    expect(result).toEqual({
      _tag: "Read",
      event: {
        id: "evt_202cdd0df00195oxC6aBNgFG4y",
        type: "session.created",
        properties: {
          sessionID: "ses_dfd322f21ffe86sMBdA7s6bi8j",
          info: { id: "ses_dfd322f21ffe86sMBdA7s6bi8j", title: "New session - 2026-11-22T10:29:32.510Z" }
        }
      }
    })
  })

  it("reads retry statuses, tool parts, permissions and errors with their fields", () => {
    const byType = (type: string, index = 0) => oneOfEach.filter((p) => (p as { type: string }).type === type)[index]
    const retry = readOpenCodeEvent(byType("session.status", 2))
    expect(retry._tag === "Read" && retry.event.type === "session.status" && retry.event.properties.status).toEqual({
      type: "retry",
      attempt: 1,
      message: "mock rate limited",
      next: 1795343395161
    })
    const asked = readOpenCodeEvent(byType("permission.asked"))
    expect(asked._tag === "Read" && asked.event.properties).toEqual({
      id: "per_202ce047d001xOWj98x3rnI991",
      sessionID: "ses_dfd31fc9dffeNfUCkSGP8SIFhB",
      permission: "bash",
      patterns: ["echo hello-from-tool"]
    })
    const aborted = readOpenCodeEvent(byType("session.error", 1))
    expect(aborted._tag === "Read" && aborted.event.type === "session.error" && aborted.event.properties.error).toEqual({
      name: "MessageAbortedError",
      data: { message: "Aborted" }
    })
    const running = readOpenCodeEvent(byType("message.part.updated", 4))
    expect(running._tag).toBe("Read")
    if (running._tag === "Read" && running.event.type === "message.part.updated") {
      const part = running.event.properties.part
      expect(isToolPart(part) && part.state).toEqual({
        status: "running",
        input: { command: "echo hello-from-tool", description: "Print a greeting" }
      })
      expect(isTextPart(part)).toBe(false)
    }
  })

  it("passes unknown or type-less payloads through as Unread", () => {
    expect(readOpenCodeEvent({ id: "evt_1", type: "session.compacted", properties: {} })).toEqual({ _tag: "Unread", type: "session.compacted" })
    expect(readOpenCodeEvent({ id: "evt_1" })).toEqual({ _tag: "Unread", type: "(no type)" })
    expect(readOpenCodeEvent(null)).toEqual({ _tag: "Unread", type: "(no type)" })
    expect(readOpenCodeEvent("session.status")).toEqual({ _tag: "Unread", type: "(no type)" })
    expect(readOpenCodeEvent({ type: "toString" })).toEqual({ _tag: "Unread", type: "toString" })
  })

  it("names what is wrong with a malformed event of a type we read", () => {
    const result = readOpenCodeEvent({ id: "evt_1", type: "session.status", properties: { sessionID: "s", status: { type: "sleeping" } } })
    expect(result._tag).toBe("Malformed")
    expect(result._tag === "Malformed" && result.type).toBe("session.status")
    expect(result._tag === "Malformed" && result.problem).toContain("sleeping")
    const noPatterns = readOpenCodeEvent({ id: "evt_2", type: "permission.asked", properties: { id: "per_1", sessionID: "s", permission: "bash" } })
    expect(noPatterns._tag === "Malformed" && noPatterns.problem).toContain("patterns")
  })

  it("reads other part types only for their type", () => {
    const result = readOpenCodeEvent({
      id: "evt_1",
      type: "message.part.updated",
      properties: { sessionID: "s", part: { type: "reasoning", id: "p", messageID: "m", text: "hmm" } }
    })
    expect(result._tag === "Read" && result.event.type === "message.part.updated" && result.event.properties.part).toEqual({
      type: "reasoning",
      messageID: "m"
    })
  })
})
