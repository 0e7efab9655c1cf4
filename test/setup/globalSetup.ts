import { execFileSync } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import type { TestProject } from "vitest/node"

/**
 * A current build, and one real PostgreSQL for the whole run: DATABASE_URL when given, else an
 * embedded cluster in a temp dir. Suites get the URL through `inject("databaseUrl")`
 * and process.env.DATABASE_URL.
 */
export default async function setup(project: TestProject) {
  // Tests run the `pushline` bin, which runs dist/: bring it up to date with the sources.
  execFileSync(process.execPath, [path.resolve(import.meta.dirname, "../../scripts/build.mjs"), "--if-stale"], { stdio: "inherit" })
  const given = process.env.DATABASE_URL
  if (given !== undefined && given !== "") {
    project.provide("databaseUrl", given)
    return
  }
  const { startCluster } = await import("../../src/db/EmbeddedPostgres.ts")
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "pushline-test-db-"))
  await fs.chmod(dir, 0o755)
  const { cluster, stop } = await startCluster({ dataDir: dir, fsync: false })
  process.env.DATABASE_URL = cluster.url
  project.provide("databaseUrl", cluster.url)
  return async () => {
    await stop()
    await fs.rm(dir, { recursive: true, force: true })
  }
}

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string
  }
}
