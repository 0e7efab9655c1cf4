import * as fs from "node:fs"
import * as path from "node:path"

export const capturesDir = path.resolve(import.meta.dirname, "../fixtures/opencode-events")

/** The frames of a captured `/global/event` stream, one per line. */
export const readCapture = (name: string): Array<Record<string, any>> =>
  fs
    .readFileSync(path.join(capturesDir, name), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line))

export const isSessionFrame = (frame: Record<string, any>) =>
  frame.payload?.type !== "sync" && !String(frame.payload?.type ?? "").startsWith("server.")
