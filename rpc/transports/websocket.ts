/**
 * The WebSocket transport, on the standard `WebSocket` only, so it runs in
 * browsers as well as in Deno: one WebSocket message per frame, text for
 * text codecs (JSON-RPC, XML-RPC) and binary for the others (msgpack).
 * {@linkcode connectWebSocket} is the client; the server side is a route of
 * `serveHttp` with `websocket` set, which hands each upgraded socket to
 * {@linkcode webSocketStream}.
 *
 * @module
 */

import { certificateError } from "./_certificate.ts";
import type { Peer } from "../peer.ts";
import { ReconnectingClient, type ReconnectOptions } from "../reconnect.ts";
import type { RetryPolicy } from "../retry.ts";
import { connectDiagnosed, type ConnectWebSocketOptions } from "./websocket/client.ts";

export { CloseCode, webSocketStream, type WebSocketStreamOptions } from "./websocket/stream.ts";
export type { ConnectWebSocketOptions } from "./websocket/client.ts";
export type { ReconnectOptions } from "../reconnect.ts";
export type { RetryPolicy } from "../retry.ts";

/**
 * Connects to a WebSocket endpoint, such as a `serveHttp` route with
 * `websocket` set, and returns a {@linkcode Peer} once the socket is open:
 * calls go both ways, so the server can call what this side serves.
 *
 * @param url `ws://` or `wss://`
 * @param options the codec, what this side serves, limits
 * @returns the peer
 * @throws {ConnectionClosedError} when the socket closes before it opens
 * (over wss:// in Deno, a refused certificate says what to do, its `cause`
 * a `CertificateError`)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectWebSocket } from "./websocket.ts";
 * import { serveHttp } from "./http.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 *
 * await using server = serveHttp({
 *   routes: { "/rpc": { codec: jsonRpc(), service: { add: (a: number, b: number) => a + b }, websocket: true } },
 * });
 * await using client = await connectWebSocket(`${server.url.replace("http", "ws")}/rpc`, {
 *   codec: jsonRpc(),
 * });
 * assert.equal(await client.call("add", [1, 2]), 3);
 * ```
 */
export function connectWebSocket(
  url: string | URL,
  options: ConnectWebSocketOptions,
): Promise<Peer> {
  return connectDiagnosed(url, options, certificateError);
}

/** Options of {@linkcode reconnectWebSocket}. */
export interface ReconnectWebSocketOptions extends ConnectWebSocketOptions {
  /**
   * The backoff, which connection errors retry, and which calls are sent
   * again after a drop or a busy refusal (`idempotent`).
   */
  readonly retry?: RetryPolicy;
  /** The same as `retry`, by its older name; `retry` wins where both say. */
  readonly reconnect?: ReconnectOptions;
  /** Called with each new connection's peer (to subscribe again, say). */
  readonly onConnect?: (peer: Peer) => void;
}

/**
 * Connects to a WebSocket endpoint and keeps reconnecting after drops (see
 * `ReconnectingClient`: calls waiting for a reply fail at once, calls made
 * meanwhile wait for the next connection). The first connection is made
 * before it resolves.
 *
 * @param url `ws://` or `wss://`
 * @param options as for {@linkcode connectWebSocket}, plus the backoff
 * @returns the client; `close()` it to stop
 * @throws {ConnectionClosedError} when the first connection cannot be made
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reconnectWebSocket } from "./websocket.ts";
 * import { serveHttp } from "./http.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 *
 * await using server = serveHttp({
 *   routes: { "/rpc": { codec: jsonRpc(), service: { add: (a: number, b: number) => a + b }, websocket: true } },
 * });
 * await using client = await reconnectWebSocket(`${server.url.replace("http", "ws")}/rpc`, {
 *   codec: jsonRpc(),
 *   reconnect: { initialDelay: 200, maxDelay: 5_000 },
 * });
 * assert.equal(await client.call("add", [1, 2], { timeout: 10_000 }), 3);
 * ```
 */
export async function reconnectWebSocket(
  url: string | URL,
  options: ReconnectWebSocketOptions,
): Promise<ReconnectingWebSocket> {
  // The interceptors run once per call, in the reconnecting client, not in each connection.
  const { interceptors: _, ...connection } = options;
  const peer = await connectWebSocket(url, connection);
  return new ReconnectingWebSocket(String(url), options, peer);
}

/**
 * The client {@linkcode reconnectWebSocket} makes: a `ReconnectingClient`
 * that connects with {@linkcode connectWebSocket}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectWebSocket, ReconnectingWebSocket } from "./websocket.ts";
 * import { serveHttp } from "./http.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 *
 * await using server = serveHttp({
 *   routes: { "/rpc": { codec: jsonRpc(), service: { hi: () => "hi" }, websocket: true } },
 * });
 * const url = `${server.url.replace("http", "ws")}/rpc`;
 * const options = { codec: jsonRpc() };
 * await using client = new ReconnectingWebSocket(url, options, await connectWebSocket(url, options));
 * assert.equal(await client.call("hi"), "hi");
 * ```
 */
export class ReconnectingWebSocket extends ReconnectingClient {
  /**
   * Wraps a first, open connection; prefer {@linkcode reconnectWebSocket}.
   *
   * @param url the endpoint
   * @param options the connection options and the backoff
   * @param peer the first connection
   */
  constructor(url: string, options: ReconnectWebSocketOptions, peer: Peer) {
    const { interceptors: _, ...connection } = options;
    super(url, { ...options, connect: () => connectWebSocket(url, connection) }, peer);
  }
}
