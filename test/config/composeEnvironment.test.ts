import { describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { createFreshDatabase } from "../support/database.ts"
import { root } from "../support/pushlineBin.ts"
import { startRelayProcess } from "../support/relay.ts"

/**
 * docker-compose.yml forwards every relay variable as `${NAME:-}`, so without a .env
 * the relay gets each as an empty string: it must start as if they were unset (local
 * APNs simulator, defaults), not refuse them.
 */
const composeEnvironment = (): Record<string, string> => {
  const lines = fs.readFileSync(path.join(root, "docker-compose.yml"), "utf8").split("\n")
  const relay = lines.findIndex((line) => line === "  relay:")
  const start = lines.findIndex((line, i) => i > relay && line === "    environment:")
  const env: Record<string, string> = {}
  for (const line of lines.slice(start + 1)) {
    const match = /^ {6}([A-Z_][A-Z0-9_]*): (.*)$/.exec(line)
    if (match === null) break
    const value = match[2]!.replace(/^"(.*)"$/, "$1")
    // What compose substitutes with no .env and the variable unset: the default after `:-`.
    env[match[1]!] = value.replace(/\$\{[A-Z_][A-Z0-9_]*:-([^}]*)\}/g, "$1")
  }
  return env
}

const documentedVariables = () => {
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8")
  const section = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("\n## ", readme.indexOf("## Configuration") + 5))
  return [...section.matchAll(/^\| `([A-Z_][A-Z0-9_]*)`(?:, `([A-Z_][A-Z0-9_]*)`)?/gm)].flatMap((m) => [m[1]!, ...(m[2] === undefined ? [] : [m[2]])])
}

describe("the relay under docker compose's environment", () => {
  it("forwards every documented variable", () => {
    const forwarded = Object.keys(composeEnvironment())
    // The image sets PUSHLINE_DATA_DIR=/data (its volume); HOST stays 0.0.0.0 in a container.
    const documented = documentedVariables().filter((name) => name !== "PUSHLINE_DATA_DIR" && name !== "HOST")
    expect(documented.length).toBeGreaterThan(15)
    expect(documented.filter((name) => !forwarded.includes(name))).toEqual([])
  })

  it("starts with exactly compose's environment, empty strings read as unset", async () => {
    // PORT: the relay listens on a free port here, not compose's 8787.
    const { PORT: _port, ...env } = composeEnvironment()
    expect(env.APNS_TEAM_ID).toBe("")
    expect(env.PUSHLINE_THROTTLE_MS).toBe("")
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pushline-compose-"))
    fs.chmodSync(dataDir, 0o755)
    const databaseUrl = await createFreshDatabase("compose")
    const relay = await startRelayProcess({
      databaseUrl,
      inheritEnv: false,
      // As in the image (Dockerfile ENV), with the test's database instead of the compose service.
      env: { ...env, PUSHLINE_DATA_DIR: dataDir, NODE_ENV: "production", DATABASE_URL: databaseUrl }
    })
    try {
      const health = await (await fetch(`${relay.url}/health`)).json() as { ok: boolean; apns: string }
      expect(health.ok).toBe(true)
      expect(health.apns).toMatch(/^local APNs simulator at https:\/\/127\.0\.0\.1:\d+$/)
      expect(relay.output()).not.toMatch(/ERROR|Invalid data/)
    } finally {
      await relay.stop()
      fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }, 60_000)
})
