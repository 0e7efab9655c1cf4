#!/usr/bin/env -S node --max-semi-space-size=64 --no-allocation-site-pretenuring
// The `pushline` command: the compiled CLI (dist/, built by `npm install` or `npm run build`),
// in this one process, so signals reach the relay and its exit status is the command's.
//
// The V8 flags above are the relay's, kept here only (npm start and the image run this file).
// A larger young generation: under load the relay allocates fast, and with V8's default
// semi-space it spent a visible share of its time in scavenges. No allocation-site
// pretenuring: V8 learned to allocate some short-lived per-batch objects straight into the
// old generation, where, dead, they kept younger objects alive through every scavenge.
import { existsSync } from "node:fs"
import module from "node:module"

// Node 22.1+ keeps the compiled code of the modules it loads on disk: later starts skip
// most of the parsing (Node 20 has no such cache and starts as before).
module.enableCompileCache?.()

const main = new URL("../dist/pushline.js", import.meta.url)
if (!existsSync(main)) {
  process.stderr.write("pushline: dist/ is missing: run `npm run build` (npm install does it too)\n")
  process.exit(2)
}
await import(main.href)
