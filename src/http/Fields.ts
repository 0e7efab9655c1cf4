import { Schema } from "effect"

/**
 * Field schemas shared by the request bodies, each with one message a client
 * can act on. `override` makes that message win over the inner type checks.
 */
export const fieldMessage = (message: string) => () => ({ message, override: true })

export const Secret = Schema.String.pipe(Schema.minLength(16)).annotations({
  description: "The pairing secret (at least 16 characters)",
  message: fieldMessage("must be a string of at least 16 characters")
})

export const HexToken = Schema.String.pipe(Schema.pattern(/^[0-9a-fA-F]{1,400}$/)).annotations({
  description: "An APNs token, hex-encoded",
  message: fieldMessage("must be a hex string (at most 400 characters)")
})

export const SessionId = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200)).annotations({
  description: "OpenCode session id",
  message: fieldMessage("must be a non-empty string of at most 200 characters")
})

export const ShortText = (max: number) =>
  Schema.String.pipe(Schema.maxLength(max)).annotations({
    message: fieldMessage(`must be a string of at most ${max} characters`)
  })

/** One of a few literal strings, with a message listing them. */
export const OneOf = <const L extends ReadonlyArray<string>>(...values: L) =>
  Schema.Literal(...values).annotations({
    message: fieldMessage(`must be one of ${values.map((value) => `"${value}"`).join(", ")}`)
  })
