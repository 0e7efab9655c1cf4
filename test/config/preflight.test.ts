import { describe, expect, it } from "vitest"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { freePort } from "../../src/db/EmbeddedPostgres.ts"
import { binEnv, pushlineBin, root } from "../support/pushlineBin.ts"

/** `pushline serve` with a bad setting: one line naming the variable, exit 2, nothing started. */
const serve = (env: Record<string, string>) =>
  new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(pushlineBin, ["serve"], { cwd: root, env: binEnv({ PATH: process.env.PATH, LOG_FORMAT: "json", ...env }), timeout: 30_000 }, (error, _stdout, stderr) =>
      resolve({ code: error === null ? 0 : Number(error.code ?? 1), stderr }))
  })

describe("configuration checked before anything starts", () => {
  it("an unreachable DATABASE_URL is named, without its password", async () => {
    const port = await freePort()
    const result = await serve({ DATABASE_URL: `postgres://relay:s3cret@127.0.0.1:${port}/pushline`, PORT: String(await freePort()) })
    expect(result).toEqual({ code: 2, stderr: `pushline: DATABASE_URL: cannot connect to relay@127.0.0.1:${port}/pushline: connect ECONNREFUSED 127.0.0.1:${port}\n` })
  })

  it("a PORT in use is named", async () => {
    const server = net.createServer()
    const port = await new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)))
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pushline-preflight-"))
    fs.chmodSync(dir, 0o755)
    try {
      const result = await serve({ PORT: String(port), HOST: "127.0.0.1", PUSHLINE_DATA_DIR: dir })
      expect(result).toEqual({
        code: 2,
        stderr: `pushline: PORT: port ${port} on 127.0.0.1 is already in use (another pushline?): stop that process or set PORT to a free port\n`
      })
      // Checked before the embedded database: nothing was started in the data dir.
      expect(fs.readdirSync(dir)).toEqual([])
    } finally {
      server.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("a PUSHLINE_DATA_DIR that cannot be made is named", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pushline-preflight-"))
    const file = path.join(dir, "a-file")
    fs.writeFileSync(file, "")
    try {
      const result = await serve({ PUSHLINE_DATA_DIR: path.join(file, "data"), PORT: String(await freePort()) })
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(new RegExp(`^pushline: PUSHLINE_DATA_DIR: cannot use ${path.join(file, "data")} for the embedded PostgreSQL: ENOTDIR`))
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it.runIf(os.userInfo().uid === 0)("as root, a data dir under a 0700 directory says what to do", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pushline-preflight-"))
    fs.chmodSync(dir, 0o700)
    try {
      const result = await serve({ PUSHLINE_DATA_DIR: path.join(dir, "data"), PORT: String(await freePort()) })
      expect(result).toEqual({
        code: 2,
        stderr: `pushline: PUSHLINE_DATA_DIR: running as root, embedded PostgreSQL runs as the postgres user, which cannot enter ${dir} (mode 700): run \`chmod o+x ${dir}\`, choose a data dir the postgres user can reach, or run pushline as another user\n`
      })
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("an invalid value is named by Effect's Config, LOG_LEVEL too", async () => {
    expect(await serve({ PUSHLINE_THROTTLE_MS: "soon", PORT: String(await freePort()) })).toEqual({
      code: 2,
      stderr: "pushline: configuration: Invalid data at PUSHLINE_THROTTLE_MS: \"Expected an integer value but received \"soon\"\"\n"
    })
    expect(await serve({ LOG_LEVEL: "loud" })).toEqual({
      code: 2,
      stderr: "pushline: configuration: Invalid data at LOG_LEVEL: \"Expected a log level but received \"loud\"\"\n"
    })
  })
})
