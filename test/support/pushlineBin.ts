import * as fs from "node:fs"
import * as path from "node:path"

/**
 * The `pushline` command as users run it: bin/pushline.mjs, executed directly so its
 * shebang's V8 flags apply, on the Node that runs the tests (first on PATH), running the
 * compiled dist/ that the global setup keeps current.
 */
export const root = path.resolve(import.meta.dirname, "../..")
const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { bin: Record<string, string> }
/** The file package.json's `bin` names, which is what `npx pushline` runs. */
export const pushlineBin = path.join(root, manifest.bin["pushline"] ?? "package.json has no pushline bin")

/** The environment to spawn the bin in: the tests' own Node first on PATH. */
export const binEnv = (env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv => ({
  ...env,
  PATH: `${path.dirname(process.execPath)}${path.delimiter}${env.PATH ?? ""}`
})
