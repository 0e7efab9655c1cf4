import { Effect } from "effect"
import type { SqlError } from "@effect/sql/SqlError"
import { DatabaseUnavailable } from "./ApiErrors.ts"

/** A database failure is the relay's problem, not the client's: 503, retry later. */
export const orUnavailable = <A, E, R>(effect: Effect.Effect<A, E | SqlError, R>) =>
  Effect.catchIf(
    effect,
    (error): error is SqlError => typeof error === "object" && error !== null && "_tag" in error && error._tag === "SqlError",
    (error) =>
      Effect.logWarning("database unavailable", error.message).pipe(
        Effect.zipRight(Effect.fail(DatabaseUnavailable.because("the database is unavailable; nothing was stored, retry later")))
      )
  ) as Effect.Effect<A, Exclude<E, SqlError> | DatabaseUnavailable, R>
