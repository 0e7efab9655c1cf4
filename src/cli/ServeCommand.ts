import { Command } from "@effect/cli"
import { Layer } from "effect"
import { RelayLive } from "../server/RelayLive.ts"

export const serveCommand = Command.make("serve", {}, () => Layer.launch(RelayLive)).pipe(
  Command.withDescription("Run the relay: HTTP API, projector and sender (embedded PostgreSQL and the local APNs simulator when nothing is configured)")
)
