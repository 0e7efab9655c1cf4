/**
 * Terminal output for the operator commands: ANSI colour only on a TTY (and
 * never with NO_COLOR), columns padded by visible width.
 */
const useColour = () => process.stdout.isTTY === true && process.env.NO_COLOR === undefined

const paint = (code: string) => (text: string) => (useColour() ? `\u001b[${code}m${text}\u001b[0m` : text)
export const dim = paint("2")
export const bold = paint("1")
export const red = paint("31")
export const green = paint("32")
export const yellow = paint("33")
export const blue = paint("34")
export const magenta = paint("35")
export const cyan = paint("36")

const visibleLength = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, "").length

export const pad = (text: string, width: number) => text + " ".repeat(Math.max(0, width - visibleLength(text)))
export const padStart = (text: string, width: number) => " ".repeat(Math.max(0, width - visibleLength(text))) + text

/** Rows as aligned columns (the last column is not padded). */
export const table = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths: Array<number> = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell))))
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : pad(cell, widths[i] ?? 0))).join("  ")).join("\n")
}

export const clockTime = (ms: number) => new Date(ms).toISOString().slice(11, 23)

export const ago = (ms: number, now: number) => {
  const seconds = Math.max(0, Math.round((now - ms) / 1000))
  if (seconds < 60) return `${seconds}s ago`
  if (seconds < 3600) return `${Math.round(seconds / 60)}m ago`
  if (seconds < 86400) return `${Math.round(seconds / 3600)}h ago`
  return `${Math.round(seconds / 86400)}d ago`
}

const statusColours: Record<string, (text: string) => string> = {
  working: blue,
  retry: yellow,
  permission: magenta,
  complete: green,
  error: red
}
export const status = (value: string) => (statusColours[value] ?? ((text: string) => text))(value)

/** A one-line progress bar for stderr, redrawn in place on a TTY. */
export const progressBar = (done: number, total: number, width = 30) => {
  const ratio = total <= 0 ? 1 : Math.min(1, done / total)
  const filled = Math.round(ratio * width)
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}%`
}
