import { describe, it } from "vitest"
import { expectConsistent, killRelay, runScenario, summary } from "../test/support/crashScenario.ts"

/** The relay SIGKILLed and restarted 20 times while 40 sessions stream, APNs failing 20% of pushes. */
describe("SIGKILL x20 under load", () => {
  it("no acknowledged event lost, every state the fold of the log, every token on its final state", async () => {
    const figures = await runScenario({ sessions: 40, steps: 10, faultRate: 0.2, chaos: killRelay(20) })
    console.log(`sigkill: ${JSON.stringify(summary(figures))}`)
    expectConsistent(figures)
  })
})
