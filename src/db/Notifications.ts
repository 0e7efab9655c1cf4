import { PgClient } from "@effect/sql-pg"
import { Context, Duration, Effect, Layer, Metric, PubSub, Redacted, Runtime, Schedule, Stream } from "effect"
import pg from "pg"
import { describeError } from "../errors/describeError.ts"

/**
 * PostgreSQL NOTIFY wake-ups that survive the database going away: one LISTEN
 * connection per process for the given channels, reconnected with jittered
 * exponential backoff (100 ms doubling to 5 s) whenever it drops, so a relay
 * keeps its NOTIFY latency after a PostgreSQL restart instead of falling back
 * to polling for good. After every (re)connect each listener gets a `null`
 * wake-up: notifications sent while it was down are lost, so look now.
 */
export interface Notification {
  readonly channel: string
  /** null: the connection was (re)established; something may have been missed. */
  readonly payload: string | null
}

export const listenConnected = Metric.gauge("pushline_listen_connected", {
  description: "1 while the LISTEN connection for NOTIFY wake-ups is up, else 0"
})
export const listenReconnects = Metric.counter("pushline_listen_reconnects_total", {
  description: "LISTEN connections re-established after a drop",
  incremental: true
})
export const notificationsReceived = Metric.counter("pushline_notifications_total", {
  description: "NOTIFY wake-ups received, by channel",
  incremental: true
})

const BACKOFF = Schedule.exponential(Duration.millis(100)).pipe(
  Schedule.either(Schedule.spaced(Duration.seconds(5))),
  Schedule.jittered
)

export class Notifications extends Context.Tag("pushline/Notifications")<Notifications, {
  readonly listen: (channel: string) => Stream.Stream<string | null>
}>() {
  static readonly layer = (channels: ReadonlyArray<string>) =>
    Layer.scoped(
      Notifications,
      Effect.gen(function*() {
        const sql = yield* PgClient.PgClient
        const url = sql.config.url
        const hub = yield* PubSub.unbounded<Notification>()

        const connect = Effect.acquireRelease(
          Effect.tryPromise({
            try: async () => {
              const client = new pg.Client({
                ...(url === undefined ? {} : { connectionString: Redacted.value(url) }),
                connectionTimeoutMillis: 5000,
                application_name: "pushline-listen"
              })
              // An error before the first query would otherwise be unhandled.
              client.on("error", () => {})
              try {
                await client.connect()
                for (const channel of channels) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`)
              } catch (error) {
                await client.end().catch(() => undefined)
                throw error
              }
              return client
            },
            catch: (cause) => cause
          }),
          (client) => Effect.promise(() => client.end().catch(() => undefined)).pipe(Effect.timeoutOption(1000))
        )

        /** Until the connection drops: forward its notifications. */
        const runtime = yield* Effect.runtime<never>()
        const received = (message: pg.Notification) =>
          Metric.increment(notificationsReceived).pipe(
            Effect.tagMetrics("channel", message.channel),
            Effect.zipRight(PubSub.publish(hub, { channel: message.channel, payload: message.payload ?? "" }))
          )
        const serve = (client: pg.Client) =>
          Effect.async<void>((resume) => {
            const onNotification = (message: pg.Notification) => Runtime.runSync(runtime)(received(message))
            const onGone = () => resume(Effect.void)
            client.on("notification", onNotification)
            client.once("error", onGone)
            client.once("end", onGone)
            return Effect.sync(() => {
              client.off("notification", onNotification)
              client.off("error", onGone)
              client.off("end", onGone)
            })
          })

        let connectedBefore = false
        const session = Effect.scoped(
          Effect.gen(function*() {
            const client = yield* connect.pipe(
              Effect.tapError((cause) =>
                Effect.logWarning(`LISTEN: cannot connect (${describeError(cause)}); retrying with backoff`)
              ),
              Effect.retry(BACKOFF)
            )
            if (connectedBefore) {
              yield* Metric.increment(listenReconnects)
              yield* Effect.logInfo("LISTEN: reconnected; NOTIFY wake-ups resume")
            }
            connectedBefore = true
            yield* Metric.set(listenConnected, 1)
            for (const channel of channels) yield* PubSub.publish(hub, { channel, payload: null })
            yield* serve(client)
            yield* Metric.set(listenConnected, 0)
            yield* Effect.logWarning("LISTEN: connection lost; reconnecting (polling meanwhile)")
          })
        )
        // A connection that drops as soon as it is made still waits between attempts.
        yield* session.pipe(Effect.zipRight(Effect.sleep(Duration.millis(100))), Effect.forever, Effect.forkScoped)

        return {
          listen: (channel: string) =>
            Stream.fromPubSub(hub).pipe(
              Stream.filter((notification) => notification.channel === channel),
              Stream.map((notification) => notification.payload)
            )
        }
      })
    )
}
