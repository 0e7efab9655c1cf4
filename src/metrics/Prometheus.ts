import { Effect, Metric, MetricState, Option } from "effect"
import type { MetricPair } from "effect"

/**
 * Effect's metric registry as Prometheus text (exposition format 0.0.4), for
 * GET /metrics. Counters and gauges as they are; a histogram as its cumulative
 * `_bucket{le}` lines with `+Inf`, `_sum` and `_count`; a frequency as one
 * counter per observed value. Tags become labels.
 */
const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n")

const labels = (pairs: ReadonlyArray<readonly [string, string]>) =>
  pairs.length === 0 ? "" : `{${pairs.map(([key, value]) => `${key}="${escapeLabel(value)}"`).join(",")}}`

const number = (value: number | bigint) =>
  typeof value === "bigint" ? value.toString() : Number.isFinite(value) ? String(value) : value > 0 ? "+Inf" : value < 0 ? "-Inf" : "NaN"

interface Family {
  readonly type: "counter" | "gauge" | "histogram" | "untyped"
  readonly help: string
  readonly lines: Array<string>
}

export const renderPrometheus = (pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>): string => {
  const families = new Map<string, Family>()
  const family = (name: string, type: Family["type"], help: string) => {
    let found = families.get(name)
    if (found === undefined) {
      found = { type, help, lines: [] }
      families.set(name, found)
    }
    return found
  }
  for (const pair of pairs) {
    const key = pair.metricKey
    const name = key.name
    const help = Option.getOrElse(key.description, () => name)
    const tags = key.tags.map((tag) => [tag.key, tag.value] as const)
    const state = pair.metricState
    if (MetricState.isCounterState(state)) {
      family(name, "counter", help).lines.push(`${name}${labels(tags)} ${number(state.count)}`)
    } else if (MetricState.isGaugeState(state)) {
      family(name, "gauge", help).lines.push(`${name}${labels(tags)} ${number(state.value)}`)
    } else if (MetricState.isHistogramState(state)) {
      const lines = family(name, "histogram", help).lines
      for (const [bound, count] of state.buckets) {
        if (bound !== Number.POSITIVE_INFINITY) lines.push(`${name}_bucket${labels([...tags, ["le", number(bound)]])} ${count}`)
      }
      lines.push(`${name}_bucket${labels([...tags, ["le", "+Inf"]])} ${state.count}`)
      lines.push(`${name}_sum${labels(tags)} ${number(state.sum)}`)
      lines.push(`${name}_count${labels(tags)} ${state.count}`)
    } else if (MetricState.isFrequencyState(state)) {
      const lines = family(name, "counter", help).lines
      for (const [value, count] of state.occurrences) lines.push(`${name}${labels([...tags, ["value", value]])} ${count}`)
    }
  }
  const out: Array<string> = []
  for (const [name, { help, lines, type }] of [...families].sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`# HELP ${name} ${help.replace(/\n/g, " ")}`, `# TYPE ${name} ${type}`, ...lines)
  }
  return out.length === 0 ? "" : `${out.join("\n")}\n`
}

export const prometheusText = Effect.map(Metric.snapshot, renderPrometheus)
