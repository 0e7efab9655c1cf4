// Compiles the relay to dist/ (what `npm start`, the `pushline` bin and the image run),
// with the files the code reads beside it: the migrations and the /ui page.
// `--prepare` (npm's prepare hook) skips quietly where TypeScript is not installed: a
// production install (`npm install --omit=dev`) gets a dist/ copied in, not built.
// `--if-stale` (the tests' global setup, the benches) builds only when a source is newer
// than the last build.
import { execFileSync } from "node:child_process"
import { cpSync, existsSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const require = createRequire(import.meta.url)

let tsc
try {
  tsc = require.resolve("typescript/bin/tsc")
} catch {
  if (process.argv.includes("--prepare")) process.exit(0)
  console.error("pushline build: TypeScript is not installed; run `npm install` first")
  process.exit(1)
}

const dist = join(root, "dist")
const stamp = join(dist, ".built")
const sources = ["domain", "projections", "src", "migrations", "tsconfig.json", "tsconfig.build.json"]

const newest = (path) => {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return readdirSync(path).reduce((max, name) => Math.max(max, newest(join(path, name))), stat.mtimeMs)
}

if (process.argv.includes("--if-stale") && existsSync(stamp)) {
  const built = statSync(stamp).mtimeMs
  if (sources.every((source) => newest(join(root, source)) <= built)) process.exit(0)
}

rmSync(dist, { recursive: true, force: true })
try {
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit", cwd: root })
} catch {
  process.exit(1)
}
cpSync(join(root, "migrations"), join(dist, "migrations"), { recursive: true })
cpSync(join(root, "src/ui/page.html"), join(dist, "src/ui/page.html"))
writeFileSync(stamp, `${new Date().toISOString()}\n`)
