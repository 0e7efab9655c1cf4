import { describe, expect, it } from "@effect/vitest"
import { Effect, Metric, MetricBoundaries } from "effect"
import { prometheusText } from "../../src/metrics/Prometheus.ts"

describe("Prometheus text", () => {
  it.effect("renders counters with their tags, gauges and cumulative histogram buckets with +Inf, _sum and _count", () =>
    Effect.gen(function*() {
      const counter = Metric.counter("test_requests_total", { description: "Requests", incremental: true })
      const gauge = Metric.gauge("test_queue_depth", { description: "Queue depth" })
      const histogram = Metric.histogram("test_latency_seconds", MetricBoundaries.fromIterable([0.1, 1]), "Latency")
      yield* Metric.incrementBy(counter, 2).pipe(Effect.tagMetrics({ outcome: "delivered", reason: "" }))
      yield* Metric.increment(counter).pipe(Effect.tagMetrics({ outcome: "retryable", reason: "say \"hi\"" }))
      yield* Metric.set(gauge, 7)
      for (const seconds of [0.05, 0.5, 0.7, 3]) yield* Metric.update(histogram, seconds)

      const text = yield* prometheusText
      const family = (name: string) => text.split("\n").filter((line) => line.includes(name))
      expect(family("test_requests_total").slice(0, 2)).toEqual(["# HELP test_requests_total Requests", "# TYPE test_requests_total counter"])
      expect(family("test_requests_total").slice(2).sort()).toEqual([
        'test_requests_total{outcome="delivered",reason=""} 2',
        'test_requests_total{outcome="retryable",reason="say \\"hi\\""} 1'
      ])
      expect(family("test_queue_depth")).toEqual(["# HELP test_queue_depth Queue depth", "# TYPE test_queue_depth gauge", "test_queue_depth 7"])
      expect(family("test_latency_seconds")).toEqual([
        "# HELP test_latency_seconds Latency",
        "# TYPE test_latency_seconds histogram",
        'test_latency_seconds_bucket{le="0.1"} 1',
        'test_latency_seconds_bucket{le="1"} 3',
        'test_latency_seconds_bucket{le="+Inf"} 4',
        "test_latency_seconds_sum 4.25",
        "test_latency_seconds_count 4"
      ])
    }))
})
