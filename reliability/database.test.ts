import { describe, expect, it } from "vitest"
import { clusterPids, signalAll } from "../test/support/clusterProcesses.ts"
import { expectConsistent, runScenario, summary } from "../test/support/crashScenario.ts"

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The relay's own embedded PostgreSQL, while 30 sessions stream: stalled (every
 * process SIGSTOPped) for 8 s, resumed, then its postmaster SIGKILLed.
 */
describe("PostgreSQL stopped and killed under load", () => {
  it("refusals are 503s only, nothing acknowledged is lost, the relay restarts its cluster and every token ends final", async () => {
    const figures = await runScenario({
      sessions: 30,
      steps: 10,
      faultRate: 0,
      embedded: true,
      chaos: async ({ dataDir }) => {
        await sleep(1500)
        const stalled = await clusterPids(dataDir)
        signalAll(stalled.all, "SIGSTOP")
        await sleep(8000)
        signalAll(stalled.all, "SIGCONT")
        await sleep(1500)
        process.kill((await clusterPids(dataDir)).postmaster, "SIGKILL")
      }
    })
    console.log(`database: ${JSON.stringify(summary(figures))}`)
    for (const stale of figures.staleFinal) console.log(`database: stale ${JSON.stringify(stale)}`)
    expect(Object.keys(figures.refusals).filter((status) => status !== "503")).toEqual([])
    expect(figures.relayOutput).toContain("embedded PostgreSQL exited unexpectedly (SIGKILL)")
    expectConsistent(figures)
  })
})
