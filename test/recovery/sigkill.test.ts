import { describe, expect, it } from "vitest"
import { expectConsistent, killRelay, runScenario } from "../support/crashScenario.ts"

describe("sessions streaming while things fail", () => {
  it("relay SIGKILLed 3 times: no acknowledged event lost, states are the log's fold, every activity ends final, every turn alerts", async () => {
    const figures = await runScenario({ sessions: 12, steps: 8, faultRate: 0, chaos: killRelay(3) })
    // A push whose answer the killed relay never recorded is sent again: at least once.
    expectConsistent(figures)
  }, 180_000)

  it("the same with the simulator failing 20% of pushes (429/500/503/GOAWAY/reset)", async () => {
    const figures = await runScenario({ sessions: 12, steps: 8, faultRate: 0.2, chaos: killRelay(3) })
    expectConsistent(figures)
  }, 180_000)

  it("20% of pushes failing and no crash: every turn's alert delivered, again only after an attempt got no answer; every end final", async () => {
    const figures = await runScenario({ sessions: 12, steps: 8, faultRate: 0.2 })
    expectConsistent(figures)
    expect(figures.unexplainedRepeats).toEqual([])
  }, 180_000)
})
