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

/**
 * An app's bundle id, reverse-DNS (`com.example.app`): it becomes the APNs topic, so
 * anything else is the registering client's mistake, not an APNs configuration problem.
 */
export const BundleIdField = Schema.String.pipe(
  Schema.maxLength(155),
  Schema.pattern(/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/)
).annotations({ message: fieldMessage("must be a bundle id in reverse-DNS form (e.g. com.example.app)") })

/** One of a few literal strings, with a message listing them. */
export const OneOf = <const L extends ReadonlyArray<string>>(...values: L) =>
  Schema.Literal(...values).annotations({
    message: fieldMessage(`must be one of ${values.map((value) => `"${value}"`).join(", ")}`)
  })
