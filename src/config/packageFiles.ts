import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/**
 * Files the relay reads at run time (the migrations, the /ui page), found from the
 * package's root: the nearest directory above this module with a package.json. The
 * same path works from the sources (tests, type stripping) and from the bundle in dist/.
 */
const findRoot = (from: string): string => {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`)
  }
}

export const packageRoot = findRoot(path.dirname(fileURLToPath(import.meta.url)))

export const packageFile = (...parts: ReadonlyArray<string>) => path.join(packageRoot, ...parts)
