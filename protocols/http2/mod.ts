/**
 * parley's own HTTP/2 (RFC 9113) with HPACK (RFC 7541), Web-standard and
 * without a socket: {@linkcode Http2Connection} is one connection's
 * protocol state, client or server, fed bytes by a transport and handing
 * back the bytes to write; its streams ({@linkcode Http2Stream}) carry one
 * request and response each, with flow control, trailers and resets. The
 * Deno transport (sockets, TLS, timeouts) is `rpc/transports/http2.ts`;
 * docs/http2.md says what is implemented and what is not.
 *
 * @example A request and its response over a connection pair in memory
 * ```ts
 * import assert from "node:assert/strict";
 * import { Http2Connection } from "./mod.ts";
 *
 * const server: Http2Connection = new Http2Connection("server", {
 *   onOutput: () => queueMicrotask(() => client.receive(server.takeOutput())),
 *   onStream: (stream) => {
 *     stream.respond({ ":status": 200, "content-type": "text/plain" });
 *     stream.end({ "x-path": stream.headers[":path"]! });
 *   },
 * });
 * const client: Http2Connection = new Http2Connection("client", {
 *   onOutput: () => queueMicrotask(() => server.receive(client.takeOutput())),
 * });
 * const stream = client.request({ ":method": "GET", ":path": "/hello" }, { endStream: true });
 * assert.equal((await stream.response)[":status"], "200");
 * assert.equal(await stream.read(), null);
 * assert.equal(stream.trailers?.["x-path"], "/hello");
 * client.destroy();
 * server.destroy();
 * ```
 *
 * @module
 */

export { Http2Connection } from "./connection.ts";
export type { Http2ConnectionEvents, Http2ConnectionOptions } from "./connection.ts";
export type { Http2Headers, Http2HeadersInit, Http2Stream } from "./stream.ts";
export { errorCodeName, Http2ConnectionError, Http2ErrorCode, Http2StreamError } from "./errors.ts";
export {
  DEFAULT_TABLE_SIZE,
  HpackDecoder,
  type HpackDecoderOptions,
  HpackEncoder,
  type HpackEncoderOptions,
  HpackError,
  type HpackIndexing,
} from "./hpack.ts";
