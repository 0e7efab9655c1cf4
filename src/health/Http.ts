import { HttpApiBuilder } from "@effect/platform"
import { Context, Effect, Layer } from "effect"
import { logHead } from "../eventstore/logHead.ts"
import { orUnavailable } from "../http/Persistence.ts"
import { PushlineApi } from "../http/PushlineApi.ts"
import { Health } from "./Api.ts"

/** What /health says about push delivery (e.g. "local simulator at https://127.0.0.1:port"). */
export class ApnsDescription extends Context.Tag("pushline/ApnsDescription")<ApnsDescription, string>() {
  static readonly none = Layer.succeed(ApnsDescription, "not configured")
}

export const HealthLive = HttpApiBuilder.group(PushlineApi, "health", (handlers) =>
  handlers.handle("health", () =>
    Effect.gen(function*() {
      const head = yield* orUnavailable(logHead)
      const apns = yield* ApnsDescription
      return new Health({ ok: true, database: "ok", logHead: head.toString(), apns })
    })
  )
)
