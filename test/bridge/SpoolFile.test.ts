import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { SpoolFile } from "../../src/bridge/SpoolFile.ts"
import { tempDir } from "./support.ts"

const limits = { maxEvents: 1000, maxBytes: 10 * 1024 * 1024 }
const dirs: Array<string> = []
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})
const fresh = () => {
  const dir = tempDir("spool")
  dirs.push(dir)
  return dir
}
const ids = (spool: SpoolFile) => spool.peek(10_000).map((entry) => JSON.parse(entry.line).id)

describe("SpoolFile", () => {
  it("keeps unacknowledged items across reopen; acknowledged ones are gone", () => {
    const dir = fresh()
    const a = SpoolFile.open(dir, limits, () => {})
    a.append([{ id: 1 }, { id: 2 }, { id: 3 }])
    a.ack(a.peek(1)[0]!.seq)
    a.close()
    const b = SpoolFile.open(dir, limits, () => {})
    expect(ids(b)).toEqual([2, 3])
    b.close()
  })

  it("drops a line a crash cut short, and appends cleanly after it", () => {
    const dir = fresh()
    const a = SpoolFile.open(dir, limits, () => {})
    a.append([{ id: 1 }])
    a.close()
    fs.appendFileSync(path.join(dir, "segment-0.jsonl"), '{"id":2,"half')
    const b = SpoolFile.open(dir, limits, () => {})
    expect(ids(b)).toEqual([1])
    b.append([{ id: 3 }])
    b.close()
    expect(ids(SpoolFile.open(dir, limits, () => {}))).toEqual([1, 3])
  })

  it("compacts into a new segment once much is acknowledged, losing nothing", () => {
    const dir = fresh()
    const a = SpoolFile.open(dir, { maxEvents: 100_000, maxBytes: 100 * 1024 * 1024 }, () => {})
    const big = "x".repeat(1000)
    for (let i = 0; i < 1500; i++) a.append([{ id: i, big }])
    a.ack(a.peek(1400).at(-1)!.seq)
    expect(fs.readdirSync(dir).filter((f) => f.startsWith("segment-"))).toEqual(["segment-1.jsonl"])
    a.close()
    expect(ids(SpoolFile.open(dir, limits, () => {}))).toEqual(Array.from({ length: 100 }, (_, i) => 1400 + i))
  })

  it("a crash during compaction (new segment written, state not switched) keeps the old view", () => {
    const dir = fresh()
    const a = SpoolFile.open(dir, limits, () => {})
    a.append([{ id: 1 }, { id: 2 }])
    a.close()
    fs.writeFileSync(path.join(dir, "segment-1.jsonl"), '{"id":2}\n')
    const b = SpoolFile.open(dir, limits, () => {})
    expect(ids(b)).toEqual([1, 2])
    expect(fs.existsSync(path.join(dir, "segment-1.jsonl"))).toBe(false)
  })

  it("is bounded by count and by bytes, dropping the oldest and reporting it", () => {
    const dir = fresh()
    const reports: Array<[number, number]> = []
    const a = SpoolFile.open(dir, { maxEvents: 3, maxBytes: 1025 }, (dropped, total) => reports.push([dropped, total]))
    a.append([{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }])
    expect(ids(a)).toEqual([2, 3, 4])
    a.append([{ id: 5, pad: "p".repeat(1000) }])
    expect(ids(a)).toEqual([5])
    expect(reports).toEqual([[1, 1], [3, 4]])
    a.close()
    expect(ids(SpoolFile.open(dir, limits, () => {}))).toEqual([5])
  })
})
