import { Effect, Schema } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { envVar } from "../config/Environment.ts"

/** The pairing secret file could not be read or written. */
export class SecretUnavailable extends Schema.TaggedError<SecretUnavailable>()("SecretUnavailable", {
  path: Schema.String,
  reason: Schema.String
}) {}

export const dataDir = (): string => envVar("PUSHLINE_DATA_DIR") ?? "./.pushline"

/** 32 random bytes, base64url: well over the relay's 16-character minimum. */
export const newSecret = (): string => crypto.randomBytes(32).toString("base64url")

/**
 * The pairing secret in `<dataDir>/secret`: loaded when it exists, created (mode
 * 0600, written atomically) when it does not, so the bridge and `pushline pair`
 * agree and a phone paired once stays paired.
 */
export const loadOrCreateSecret = (dir: string = dataDir()): Effect.Effect<{ readonly secret: string; readonly created: boolean }, SecretUnavailable> =>
  Effect.try({
    try: () => {
      const file = path.join(dir, "secret")
      if (fs.existsSync(file)) {
        const secret = fs.readFileSync(file, "utf8").trim()
        if (secret.length < 16) throw new Error(`${file} holds fewer than 16 characters; delete it to make a new one`)
        return { secret, created: false }
      }
      fs.mkdirSync(dir, { recursive: true })
      const secret = newSecret()
      const tmp = `${file}.${process.pid}.tmp`
      fs.writeFileSync(tmp, secret + "\n", { mode: 0o600 })
      // A concurrent start may have won: keep theirs.
      try {
        fs.linkSync(tmp, file)
      } catch {
        fs.rmSync(tmp, { force: true })
        return { secret: fs.readFileSync(file, "utf8").trim(), created: false }
      }
      fs.rmSync(tmp, { force: true })
      return { secret, created: true }
    },
    catch: (error) => new SecretUnavailable({ path: path.join(dir, "secret"), reason: error instanceof Error ? error.message : String(error) })
  })
