#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so a clone needs no build step.
import { spawnSync } from "node:child_process"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const require = createRequire(import.meta.url)
const tsxCli = require.resolve("tsx/cli")
// A larger young generation: under load the relay allocates fast, and with V8's default
// semi-space it spent ~4% of its time in scavenges and its slowest pushes waited on them.
// No allocation-site pretenuring: V8 learned to allocate some of the relay's short-lived
// per-batch objects straight into the old generation, where, dead, they kept younger objects
// alive through every scavenge until the next full GC.
const result = spawnSync(process.execPath, [tsxCli, "--max-semi-space-size=64", "--no-allocation-site-pretenuring", join(root, "src/cli/main.ts"), ...process.argv.slice(2)], {
  stdio: "inherit"
})
process.exit(result.status ?? 1)
