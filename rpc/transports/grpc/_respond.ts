/**
 * How the gRPC server writes a call's answer on its HTTP/2 stream: a reply
 * (headers, one message, trailers), a status alone (trailers-only), or an
 * HTTP error for what is not gRPC at all. The call's metadata rides along.
 *
 * @module
 */

import http2 from "node:http2";
import { Buffer } from "node:buffer";
import { ACCEPT_ENCODING, GZIP } from "./_compression.ts";
import type { GrpcStatus } from "../../../protocols/grpc/_status.ts";
import { frameMessage, percentEncode } from "../../../protocols/grpc/_wire.ts";
import { type GrpcCallMetadata, outgoing } from "./metadata.ts";

type Stream = http2.ServerHttp2Stream;

/** Milliseconds a client still sending has to end its side once the trailers are sent. */
const AFTER_TRAILERS = 1000;

/**
 * A reply's headers (with the call's), sent before its first message; its
 * trailers follow with {@linkcode endWithTrailers}. `gzipped`: its messages
 * may be compressed (`grpc-encoding: gzip`).
 *
 * @example
 * ```ts
 * import { replyHeaders } from "./_respond.ts";
 *
 * console.assert(typeof replyHeaders === "function"); // tests/grpc_streams_test.ts runs it
 * ```
 */
export function replyHeaders(stream: Stream, metadata: GrpcCallMetadata, gzipped: boolean): void {
  stream.respond(
    outgoing([metadata.headers], {
      ":status": 200,
      "content-type": "application/grpc",
      "grpc-accept-encoding": ACCEPT_ENCODING,
      ...(gzipped ? { "grpc-encoding": GZIP } : {}),
    }),
    { waitForTrailers: true },
  );
}

/**
 * Ends a reply whose headers are sent: `last` (already framed) if given,
 * then the trailers, the status (OK when `undefined`) with the call's. A
 * client still sending has `AFTER_TRAILERS` ms to end its side (what it
 * sends is read and dropped), then is told to stop (RST_STREAM NO_ERROR, as
 * RFC 9113 §8.1 allows): a request that never ends cannot hold the stream.
 * Not at once: Deno's `node:http2` client loses trailers that a reset
 * follows closely (seen on Deno 2.9: "the reply ended without a
 * grpc-status").
 *
 * @example
 * ```ts
 * import { endWithTrailers } from "./_respond.ts";
 *
 * console.assert(typeof endWithTrailers === "function"); // tests/grpc_streams_test.ts runs it
 * ```
 */
export function endWithTrailers(
  stream: Stream,
  metadata: GrpcCallMetadata,
  status: GrpcStatus | undefined,
  last?: Uint8Array,
): void {
  stream.once("wantTrailers", () => {
    stream.sendTrailers(outgoing([metadata.trailers], statusFields(status)));
    if (stream.readableEnded) return;
    stream.resume();
    const reset = setTimeout(() => {
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    }, AFTER_TRAILERS);
    stream.once("close", () => clearTimeout(reset));
  });
  if (last === undefined) stream.end();
  else stream.end(last);
}

/**
 * A successful reply: the headers (with the call's), the message (already
 * gzipped when `gzipped`), then the trailers `grpc-status: 0` (with the
 * call's).
 *
 * @example
 * ```ts
 * import { sendReply } from "./_respond.ts";
 *
 * console.assert(typeof sendReply === "function"); // tests/grpc_test.ts runs it on real streams
 * ```
 */
export function sendReply(
  stream: Stream,
  reply: Uint8Array,
  gzipped: boolean,
  metadata: GrpcCallMetadata,
): void {
  replyHeaders(stream, metadata, gzipped);
  endWithTrailers(stream, metadata, undefined, frameMessage(reply, gzipped));
}

// A status alone: the HEADERS frame that ends the stream carries it. A client
// still sending is told to stop (RST_STREAM NO_ERROR, as RFC 9113 §8.1 allows).
// The call's metadata rides along: headers and trailers, in the one block.
/**
 * A status alone (trailers-only), once: nothing when the stream has answered.
 *
 * @example
 * ```ts
 * import { trailersOnly } from "./_respond.ts";
 *
 * console.assert(typeof trailersOnly === "function"); // tests/grpc_test.ts runs it on real streams
 * ```
 */
export function trailersOnly(stream: Stream, status: GrpcStatus, metadata: GrpcCallMetadata): void {
  if (stream.headersSent || stream.destroyed) return;
  const headers = outgoing([metadata.headers, metadata.trailers], {
    ":status": 200,
    "content-type": "application/grpc",
    ...statusFields(status),
  });
  stream.respond(headers, { endStream: true });
  if (!stream.readableEnded) stream.close(http2.constants.NGHTTP2_NO_ERROR);
}

// Not gRPC at all: an HTTP status, as the protocol's spec says.
/**
 * An HTTP status and no body.
 *
 * @example
 * ```ts
 * import { reject } from "./_respond.ts";
 *
 * console.assert(typeof reject === "function"); // tests/grpc_test.ts runs it on real streams
 * ```
 */
export function reject(stream: Stream, status: number): void {
  stream.respond({ ":status": status }, { endStream: true });
  if (!stream.readableEnded) stream.close(http2.constants.NGHTTP2_NO_ERROR);
}

// The status's fields: grpc-status, and for an error grpc-message and the details.
function statusFields(status: GrpcStatus | undefined): http2.OutgoingHttpHeaders {
  if (status === undefined) return { "grpc-status": "0" };
  const fields: http2.OutgoingHttpHeaders = {
    "grpc-status": String(status.code),
    "grpc-message": percentEncode(status.message),
  };
  if (status.details !== undefined) {
    fields["grpc-status-details-bin"] = Buffer.from(status.details).toString("base64")
      .replace(/=+$/, "");
  }
  return fields;
}
