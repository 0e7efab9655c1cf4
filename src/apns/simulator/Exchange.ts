import type * as http2 from "node:http2"
import type { ConnectionToken } from "./JwtVerifier.ts"
import type { RequestFacts } from "./validateRequest.ts"

export interface ConnectionState {
  readonly id: number
  readonly token: ConnectionToken
  active: number
  maxActive: number
}

/** One push request: what validateRequest checks, and where to answer it. */
export interface Exchange extends RequestFacts {
  readonly handler: { received(exchange: Exchange): void }
  readonly stream: http2.ServerHttp2Stream
  readonly session: http2.ServerHttp2Session
  readonly connection: ConnectionState
  body: string
  readonly chunks: Array<Buffer>
  finished: boolean
}

// Stream listeners shared by all pushes (no closures per request): the stream carries its exchange.
const kExchange = Symbol("pushline.exchange")
type ExchangeStream = http2.ServerHttp2Stream & { [kExchange]: Exchange }
function onData(this: ExchangeStream, chunk: Buffer) {
  this[kExchange].chunks.push(chunk)
}
function onEnd(this: ExchangeStream) {
  const exchange = this[kExchange]
  exchange.handler.received(exchange)
}
function onError(this: ExchangeStream) {
  finish(this[kExchange])
}
/** The stream no longer counts as open (answered, or broken before). */
export const finish = (exchange: Exchange) => {
  if (exchange.finished) return
  exchange.finished = true
  exchange.connection.active--
}

/** Reads the request body into `exchange`, then hands it to its handler. */
export const readExchange = (exchange: Exchange) => {
  const stream = exchange.stream as ExchangeStream
  stream[kExchange] = exchange
  stream.on("data", onData)
  stream.on("error", onError)
  stream.on("end", onEnd)
}

export const ignore = () => {}

/** Answers a stream (if the client still listens); `apnsId` "" for the records endpoint. */
export const respond = (
  stream: http2.ServerHttp2Stream,
  status: number,
  apnsId: string,
  body?: string,
  extraHeaders: http2.OutgoingHttpHeaders = {}
) => {
  if (stream.destroyed || stream.closed) return
  const headers: http2.OutgoingHttpHeaders = { ":status": status, ...extraHeaders }
  if (apnsId !== "") headers["apns-id"] = apnsId
  if (body !== undefined) headers["content-type"] = "application/json"
  stream.respond(headers, { endStream: body === undefined })
  if (body !== undefined) stream.end(body)
}
