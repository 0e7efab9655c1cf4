import { describe, expect, it } from "vitest"
import { expectConsistent, runScenario, summary } from "../test/support/crashScenario.ts"

/** APNs failing 20% of pushes (429, 500, 503, GOAWAY, reset) while 60 sessions stream. */
describe("APNs faults at 20%", () => {
  it("every final end and every terminal alert delivered, an alert again only after an attempt got no answer, none older after newer", async () => {
    const figures = await runScenario({ sessions: 60, steps: 10, faultRate: 0.2 })
    console.log(`faults: ${JSON.stringify(summary(figures))}`)
    expectConsistent(figures)
    expect(figures.unexplainedRepeats).toEqual([])
  })
})
