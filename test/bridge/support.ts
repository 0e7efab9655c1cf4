import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"

/**
 * Real HTTP peers for bridge-level tests: an OpenCode-like server that streams
 * `/global/event` frames the test pushes and answers `/session/status`, and a
 * relay-like server that records every batch and answers what the test says.
 */
export interface FakeOpenCode {
  readonly url: string
  /** Sends frames to every connected `/global/event` client. */
  readonly send: (...frames: Array<unknown>) => void
  /** Ends every open stream (the bridge must reconnect). */
  readonly dropConnections: () => void
  readonly connections: () => number
  statuses: Record<string, unknown>
  readonly close: () => Promise<void>
}

const listen = async (server: http.Server) => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const closeServer = (server: http.Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })

export const startFakeOpenCode = async (): Promise<FakeOpenCode> => {
  const clients = new Set<http.ServerResponse>()
  let opened = 0
  const fake = {
    statuses: {} as Record<string, unknown>
  }
  const server = http.createServer((req, res) => {
    if (req.url === "/global/event") {
      opened++
      res.writeHead(200, { "content-type": "text/event-stream" })
      res.write(`data: ${JSON.stringify({ payload: { type: "server.connected", properties: {} } })}\n\n`)
      clients.add(res)
      req.on("close", () => clients.delete(res))
      return
    }
    if (req.url === "/session/status") {
      res.writeHead(200, { "content-type": "application/json" })
      return res.end(JSON.stringify(fake.statuses))
    }
    res.writeHead(404).end()
  })
  const url = await listen(server)
  return Object.assign(fake, {
    url,
    send: (...frames: Array<unknown>) => {
      for (const client of clients) for (const frame of frames) client.write(`data: ${JSON.stringify(frame)}\n\n`)
    },
    dropConnections: () => {
      for (const client of clients) client.destroy()
      clients.clear()
    },
    connections: () => opened,
    close: () => closeServer(server)
  })
}

export interface RecordingRelay {
  readonly url: string
  readonly batches: Array<{ serverID?: string; events: Array<any>; authorization: string | undefined }>
  /** Every event received, in order (repeats included). */
  readonly events: () => Array<any>
  /** Status to answer with; 202 by default. */
  answer: (body: any) => { status: number; body: unknown }
  readonly close: () => Promise<void>
}

export const startRecordingRelay = async (): Promise<RecordingRelay> => {
  const relay = {
    batches: [] as RecordingRelay["batches"],
    answer: (body: any): { status: number; body: unknown } => ({ status: 202, body: { ok: true, accepted: body.events.length, duplicates: 0 } })
  }
  const server = http.createServer((req, res) => {
    let raw = ""
    req.on("data", (chunk: Buffer) => (raw += chunk.toString()))
    req.on("end", () => {
      const body = JSON.parse(raw)
      const { status, body: reply } = relay.answer(body)
      if (status === 202) relay.batches.push({ ...body, authorization: req.headers.authorization })
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(reply))
    })
  })
  const url = await listen(server)
  return Object.assign(relay, {
    url,
    events: () => relay.batches.flatMap((batch) => batch.events),
    close: () => closeServer(server)
  })
}

export const tempDir = (label: string) => fs.mkdtempSync(path.join(os.tmpdir(), `pushline-${label}-`))

export const frame = (id: string, type: string, properties: Record<string, unknown>, directory = "/work/project") => ({
  directory,
  project: "prj_test",
  payload: { id, type, properties }
})

export const waitUntil = async (what: string, check: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
