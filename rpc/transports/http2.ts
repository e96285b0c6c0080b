/**
 * HTTP/2 on Deno's sockets with parley's own implementation (no
 * `node:http2`): {@linkcode serveHttp2} (h2c with prior knowledge, or TLS
 * with ALPN `h2`) hands each request to `onStream` as an
 * {@linkcode Http2Stream}; {@linkcode connectHttp2} sends requests as
 * streams over one connection. The protocol itself (frames, HPACK, flow
 * control, the state machine) is Web-standard, in `protocols/http2/`;
 * docs/http2.md says what it implements, its limits and its speed.
 *
 * @example A streamed echo: the request's body comes back as it arrives
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectHttp2, serveHttp2 } from "./http2.ts";
 *
 * await using server = serveHttp2({
 *   onStream: async (stream) => {
 *     stream.respond({ ":status": 200 });
 *     for await (const chunk of stream) await stream.write(chunk);
 *     stream.end({ "x-bytes": "done" });
 *   },
 * });
 * await using client = connectHttp2(server.url);
 * const stream = client.request({ ":method": "POST", ":path": "/echo" });
 * stream.write(new TextEncoder().encode("ping "));
 * stream.end();
 * const text = (await Array.fromAsync(stream)).map((c) => new TextDecoder().decode(c)).join("");
 * assert.equal(text, "ping ");
 * assert.equal(stream.trailers?.["x-bytes"], "done");
 * ```
 *
 * @module
 */

export { serveHttp2 } from "./http2/server.ts";
export type { Http2Server, ServeHttp2Options } from "./http2/server.ts";
export { connectHttp2 } from "./http2/client.ts";
export type { Http2Client, Http2ClientOptions } from "./http2/client.ts";
export type { KeepAlive } from "./http2/_guard.ts";
export {
  errorCodeName,
  Http2ConnectionError,
  Http2ErrorCode,
  Http2StreamError,
} from "../../protocols/http2/errors.ts";
export type { Http2Headers, Http2HeadersInit, Http2Stream } from "../../protocols/http2/stream.ts";
export { Http2Connection } from "../../protocols/http2/connection.ts";
export type {
  Http2ConnectionEvents,
  Http2ConnectionOptions,
} from "../../protocols/http2/connection.ts";
