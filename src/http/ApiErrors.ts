import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

/**
 * The wire shape of every error: `{_tag, ok: false, error: "<what is wrong>"}`.
 * Each condition is its own tagged class so the status code follows from the type.
 */
const errorFields = { ok: Schema.Literal(false), error: Schema.String }

export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", 
  errorFields,
  HttpApiSchema.annotations({ status: 400, description: "Bad input; `error` names the field" })
) {
  static readonly because = (error: string) => new BadRequest({ ok: false, error })
}

export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", 
  errorFields,
  HttpApiSchema.annotations({ status: 401, description: "Missing or invalid secret" })
) {
  static readonly because = (error: string) => new Unauthorized({ ok: false, error })
}

export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", 
  errorFields,
  HttpApiSchema.annotations({ status: 404, description: "No such resource for this secret" })
) {
  static readonly because = (error: string) => new NotFound({ ok: false, error })
}

export class RequestTimeout extends Schema.TaggedError<RequestTimeout>()("RequestTimeout", 
  errorFields,
  HttpApiSchema.annotations({ status: 408, description: "The request body did not arrive in time (PUSHLINE_BODY_TIMEOUT_MS)" })
) {
  static readonly because = (error: string) => new RequestTimeout({ ok: false, error })
}

export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", 
  errorFields,
  HttpApiSchema.annotations({ status: 413, description: "Request body over the limit" })
) {
  static readonly because = (error: string) => new PayloadTooLarge({ ok: false, error })
}

export class DatabaseUnavailable extends Schema.TaggedError<DatabaseUnavailable>()("DatabaseUnavailable", 
  errorFields,
  HttpApiSchema.annotations({ status: 503, description: "The database cannot be reached; retry later" })
) {
  static readonly because = (error: string) => new DatabaseUnavailable({ ok: false, error })
}
