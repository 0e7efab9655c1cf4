import { defineConfig } from "vitest/config"

/**
 * `npm run test:reliability`: hostile input, APNs faults, crashes and database failures at
 * sizes the everyday suite cannot afford. Each file prints its figures.
 */
export default defineConfig({
  test: {
    include: ["reliability/**/*.test.ts"],
    globalSetup: ["test/setup/globalSetup.ts"],
    testTimeout: 1_800_000,
    hookTimeout: 120_000,
    // One at a time: each loads the machine on purpose.
    fileParallelism: false,
    reporters: ["default", ["json", { outputFile: ".vitest-reliability.json" }]],
    pool: "forks"
  }
})
