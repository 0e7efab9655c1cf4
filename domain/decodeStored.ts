import { Either, ParseResult, Schema } from "effect"

/**
 * A decoder for a row the relay stored itself (jsonb read back): the value,
 * or the schema's own words for what is wrong with it, so a row of another
 * shape is reported and skipped instead of being planned on.
 */
export const decodeStored = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownEither(schema)
  return (value: unknown): Either.Either<A, string> =>
    Either.mapLeft(decode(value), (error) => ParseResult.TreeFormatter.formatErrorSync(error))
}
