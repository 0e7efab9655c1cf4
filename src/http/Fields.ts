import { Schema } from "effect"

/** Field schemas shared by the request bodies, each with a message a client can act on. */
export const Secret = Schema.String.pipe(
  Schema.minLength(16, { message: () => "must be at least 16 characters" })
).annotations({ description: "The pairing secret (at least 16 characters)", message: () => "must be a string of at least 16 characters" })

export const HexToken = Schema.String.pipe(
  Schema.pattern(/^[0-9a-fA-F]+$/, { message: () => "must be a hex string" }),
  Schema.maxLength(400, { message: () => "must be at most 400 characters" })
).annotations({ description: "An APNs token, hex-encoded", message: () => "must be a hex string" })

export const SessionId = Schema.String.pipe(
  Schema.minLength(1, { message: () => "must not be empty" }),
  Schema.maxLength(200, { message: () => "must be at most 200 characters" })
).annotations({ description: "OpenCode session id", message: () => "must be a non-empty string" })

export const ShortText = (max: number) =>
  Schema.String.pipe(Schema.maxLength(max, { message: () => `must be at most ${max} characters` })).annotations({
    message: () => "must be a string"
  })
