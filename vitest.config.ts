import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/setup/globalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
    pool: "forks",
    // Most files wait on sockets and child processes: two at a time keep both cores busy,
    // and more would load the machine enough to slow the relays they test.
    maxWorkers: 2,
    minWorkers: 1
  }
})
