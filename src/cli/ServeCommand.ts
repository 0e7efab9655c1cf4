import { Command } from "@effect/cli"
import { Effect } from "effect"

export const serveCommand = Command.make("serve", {}, () =>
  Effect.promise(() => import("./run/serve.ts")).pipe(Effect.flatMap((m) => m.run))
).pipe(
  Command.withDescription("Run the relay: HTTP API, projector and sender (embedded PostgreSQL and the local APNs simulator when nothing is configured)")
)
