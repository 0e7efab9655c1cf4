/**
 * An error in one line, with its cause's message when it has one: a wrapper such
 * as @effect/sql's "Failed to execute statement" says little, PostgreSQL's own
 * message or the network error is in the cause.
 */
export const describeError = (error: unknown): string => {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause
    return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message
  }
  return String(error)
}
