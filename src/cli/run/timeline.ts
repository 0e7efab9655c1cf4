/**
 * `pushline timeline`: one session's events, decisions and APNs attempts.
 * Loaded only when the command runs, so `pushline --help` stays quick.
 */
import type { TimelineOptions } from "../TimelineCommand.ts"
import { Console, Effect, Option } from "effect"
import type { TimelineDecision, TimelineDelivery, TimelineStep } from "../../../projections/Timeline.ts"
import { loadTimeline } from "../../timeline/loadTimeline.ts"
import { OperatorLive, resolveTenant, tenantPrefix } from "../OperatorDatabase.ts"
import { bold, clockTime, cyan, dim, green, magenta, padStart, red, status, table, yellow } from "../Terminal.ts"

/** Every page of a session's timeline. */
export const loadWholeTimeline = (tenant: string, sessionId: string) =>
  Effect.gen(function*() {
    const steps: Array<TimelineStep> = []
    let after = 0n
    while (true) {
      const page = yield* loadTimeline(tenant, sessionId, after, 1000)
      if (page === null) break
      steps.push(...page.steps)
      if (page.nextAfter === null) break
      after = BigInt(page.nextAfter)
    }
    return steps
  })

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`

const HELD: Partial<Record<TimelineDecision["decision"], string>> = {
  "permission-grace": "held for permission grace",
  "end-settle": "held for the end's settle window"
}

const describeDecision = (decision: TimelineDecision): string => {
  switch (decision.decision) {
    case "send":
      return `${cyan("send")} ${decision.event} ${dim(`(${decision.pushType})`)} → ${decision.target}`
    case "superseded":
      return `${dim("superseded")} ${decision.target} by the state of ${decision.supersededBy}`
    case "skipped":
      return `${red("not sent")} ${decision.event} ${dim(`(${decision.pushType})`)} → ${decision.target}: ${decision.reason}`
    case "failed": {
      const retry = decision.until === null ? "" : `, retried in ${seconds(decision.until - decision.at)}`
      return `${red("run failed")}: ${decision.reason}${retry}`
    }
    default: {
      const wait = decision.until === null ? "" : ` for ${seconds(decision.until - decision.at)}`
      return `${yellow(HELD[decision.decision] ?? decision.decision)} ${decision.target}${wait}`
    }
  }
}

const describeDelivery = (delivery: TimelineDelivery): string => {
  const ok = delivery.outcome === "delivered"
  const answer = `${delivery.status ?? "-"}${delivery.reason === null ? "" : ` ${delivery.reason}`}`
  const latency = delivery.latencyMs === null ? "" : ` ${delivery.latencyMs.toFixed(1)}ms`
  return `${(ok ? green : red)(ok ? "✓" : "✗")} ${delivery.event} ${dim(`(${delivery.pushType}, p${delivery.priority})`)} → ${delivery.token}: ${(ok ? green : red)(answer)}${dim(latency)}${delivery.apnsId === null ? "" : dim(` apns-id ${delivery.apnsId}`)}`
}

const contentSummary = (content: any) =>
  content === null || content === undefined ? "" : `${status(String(content.status))} ${dim(JSON.stringify(String(content.lastMessage ?? "").slice(0, 40)))}`

export const renderTimeline = (steps: ReadonlyArray<TimelineStep>): string => {
  const lines: Array<string> = []
  const rows = steps.map((step) => [
    padStart(step.position, 6),
    dim(clockTime(step.receivedTime)),
    step.type,
    step.summary.length > 56 ? `${step.summary.slice(0, 55)}…` : step.summary,
    step.outcome === "applied" ? contentSummary(step.contentState) : step.outcome === "ignored" ? yellow(`ignored: ${step.reason ?? ""}`) : dim("not projected yet")
  ])
  const rendered = table(rows).split("\n")
  steps.forEach((step, i) => {
    lines.push(rendered[i] ?? "")
    for (const decision of step.decisions) lines.push(`${" ".repeat(8)}${magenta("▸")} ${describeDecision(decision)}`)
    for (const delivery of step.deliveries) lines.push(`${" ".repeat(8)}${describeDelivery(delivery)}`)
  })
  return lines.join("\n")
}

export const run = (options: TimelineOptions) =>
  Effect.gen(function*() {
    const owner = yield* resolveTenant(options.sessionID, Option.getOrUndefined(options.tenant))
    const steps = yield* loadWholeTimeline(owner, options.sessionID)
    if (options.json) return yield* Console.log(JSON.stringify({ sessionID: options.sessionID, tenant: tenantPrefix(owner), steps }, null, 2))
    const pushes = steps.reduce((n, step) => n + step.deliveries.length, 0)
    const ignored = steps.filter((step) => step.outcome === "ignored").length
    yield* Console.log(bold(`${options.sessionID}`) + dim(` (tenant ${tenantPrefix(owner)}): ${steps.length} events, ${ignored} ignored, ${pushes} APNs attempts`))
    yield* Console.log(renderTimeline(steps))
  }).pipe(Effect.provide(OperatorLive))
