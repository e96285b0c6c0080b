/**
 * How the gRPC server writes a call's answer on its HTTP/2 stream: a reply
 * (headers, one message, trailers), a status alone (trailers-only), or an
 * HTTP error for what is not gRPC at all. The call's metadata rides along.
 * A client still sending when the server has ended its side is told to stop
 * with RST_STREAM NO_ERROR by HTTP/2 itself (RFC 9113 §8.1).
 *
 * @module
 */

import type { Http2Stream } from "../../../protocols/http2/stream.ts";
import { ACCEPT_ENCODING, GZIP } from "./_compression.ts";
import type { GrpcStatus } from "../../../protocols/grpc/_status.ts";
import { percentEncode } from "../../../protocols/grpc/_wire.ts";
import { framed } from "./_frame.ts";
import type { LazyMetadata, OutgoingFields } from "./metadata.ts";
import { outgoing } from "./metadata.ts";

// The fields every reply sends, made once.
const REPLY: Readonly<OutgoingFields> = Object.freeze({
  ":status": 200,
  "content-type": "application/grpc",
  "grpc-accept-encoding": ACCEPT_ENCODING,
});
const REPLY_GZIP: Readonly<OutgoingFields> = Object.freeze({ ...REPLY, "grpc-encoding": GZIP });
const OK: Readonly<OutgoingFields> = Object.freeze({ "grpc-status": "0" });

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
export function replyHeaders(stream: Http2Stream, metadata: LazyMetadata, gzipped: boolean): void {
  stream.respond(outgoing([metadata.sent.headers], gzipped ? REPLY_GZIP : REPLY));
}

/**
 * Ends a reply whose headers are sent: the trailers, the status (OK when
 * `undefined`) with the call's.
 *
 * @example
 * ```ts
 * import { endWithTrailers } from "./_respond.ts";
 *
 * console.assert(typeof endWithTrailers === "function"); // tests/grpc_streams_test.ts runs it
 * ```
 */
export function endWithTrailers(
  stream: Http2Stream,
  metadata: LazyMetadata,
  status: GrpcStatus | undefined,
): void {
  if (stream.closed) return;
  stream.end(outgoing([metadata.sent.trailers], statusFields(status)));
}

/**
 * A successful unary reply: the headers (with the call's), the message
 * (already gzipped when `gzipped`), then the trailers `grpc-status: 0`
 * (with the call's): one socket write for the three frames.
 *
 * @example
 * ```ts
 * import { sendReply } from "./_respond.ts";
 *
 * console.assert(typeof sendReply === "function"); // tests/grpc_test.ts runs it on real streams
 * ```
 */
export function sendReply(
  stream: Http2Stream,
  reply: Uint8Array,
  gzipped: boolean,
  metadata: LazyMetadata,
): void {
  if (stream.closed) return;
  replyHeaders(stream, metadata, gzipped);
  stream.write(framed(reply, gzipped));
  endWithTrailers(stream, metadata, undefined);
}

/**
 * A status alone (trailers-only): the HEADERS frame that ends the stream
 * carries it, with the call's headers and trailers in the one block. Once:
 * nothing when the stream has answered or closed.
 *
 * @example
 * ```ts
 * import { trailersOnly } from "./_respond.ts";
 *
 * console.assert(typeof trailersOnly === "function"); // tests/grpc_test.ts runs it on real streams
 * ```
 */
export function trailersOnly(
  stream: Http2Stream,
  status: GrpcStatus,
  metadata: LazyMetadata,
): void {
  if (stream.headersSent || stream.closed) return;
  const { headers, trailers } = metadata.sent;
  stream.respond(
    outgoing([headers, trailers], {
      ":status": 200,
      "content-type": "application/grpc",
      ...statusFields(status),
    }),
    { endStream: true },
  );
}

/**
 * Not gRPC at all: an HTTP status and no body, as gRPC's spec says.
 *
 * @example
 * ```ts
 * import { reject } from "./_respond.ts";
 *
 * console.assert(typeof reject === "function"); // tests/grpc_test.ts runs it on real streams
 * ```
 */
export function reject(stream: Http2Stream, status: number): void {
  if (stream.headersSent || stream.closed) return;
  stream.respond({ ":status": status }, { endStream: true });
}

// The status's fields: grpc-status, and for an error grpc-message and the details.
function statusFields(status: GrpcStatus | undefined): Readonly<OutgoingFields> {
  if (status === undefined) return OK;
  const fields: OutgoingFields = {
    "grpc-status": String(status.code),
    "grpc-message": percentEncode(status.message),
  };
  if (status.details !== undefined) {
    fields["grpc-status-details-bin"] = status.details.toBase64({ omitPadding: true });
  }
  return fields;
}
