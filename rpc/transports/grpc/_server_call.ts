/**
 * One gRPC call arriving on the server, up to its handler: the call's
 * metadata (and `onCall`), what is not gRPC refused with an HTTP status,
 * the method found, its `grpc-encoding` and `grpc-timeout` read. Then a
 * unary call goes to `_unary_call.ts`, a streaming one to `_stream_call.ts`
 * (what they share: `_call_parts.ts`).
 *
 * @module
 */

import type { Http2Stream } from "../../../protocols/http2/stream.ts";
import { type GrpcWireError, parseTimeout } from "../../../protocols/grpc/_wire.ts";
import type { GrpcStatus } from "../../../protocols/grpc/_status.ts";
import { ACCEPT_ENCODING, acceptsGzip, GZIP } from "./_compression.ts";
import { LazyMetadata } from "./metadata.ts";
import { reject, trailersOnly } from "./_respond.ts";
import { serveUnary } from "./_unary_call.ts";
import { serveStream } from "./_stream_call.ts";
import type { ServerCall, ServerContext } from "./_call_parts.ts";
import type { ConnectionScope } from "../../connection.ts";

const GRPC_CONTENT_TYPE = /^application\/grpc(\+proto)?(;|$)/;

/**
 * Serves the call that arrived on `stream`.
 *
 * @param stream the stream, its request headers in `stream.headers`
 * @param context the server's shared parts
 * @param connection the stream's connection and its context
 *
 * @example
 * ```ts
 * import { serveCall } from "./_server_call.ts";
 *
 * console.assert(typeof serveCall === "function"); // serveGrpc calls it for each stream
 * ```
 */
export function serveCall(
  stream: Http2Stream,
  context: ServerContext,
  connection: ConnectionScope,
): void {
  const headers = stream.headers;
  const metadata = new LazyMetadata(headers);
  try {
    context.onCall?.(metadata);
  } catch (error) {
    context.onError(error);
  }
  const answer = (status: GrpcStatus) => trailersOnly(stream, status, metadata);
  if (headers[":method"] !== "POST") return reject(stream, 405);
  if (!GRPC_CONTENT_TYPE.test(headers["content-type"] ?? "")) return reject(stream, 415);
  const name = (headers[":path"] ?? "").slice(1);
  const method = context.schema.method(name);
  const resolved = method === undefined ? undefined : context.dispatch(method.name);
  if (method === undefined || resolved === undefined) {
    return answer({ code: 12, message: `Method not found: ${name}` });
  }
  const encoding = headers["grpc-encoding"] ?? "identity";
  if (encoding !== "identity" && encoding !== GZIP) {
    metadata.trailers.set("grpc-accept-encoding", ACCEPT_ENCODING);
    return answer({ code: 12, message: `Unsupported grpc-encoding: ${encoding}` });
  }
  let timeout: number | undefined;
  try {
    timeout = parseTimeout(headers["grpc-timeout"]);
  } catch (error) {
    return answer({ code: (error as GrpcWireError).status, message: (error as Error).message });
  }
  const call: ServerCall = {
    stream,
    connection,
    context,
    method,
    handler: resolved.invoke,
    metadata,
    gzipped: encoding === GZIP,
    replyGzip: acceptsGzip(headers["grpc-accept-encoding"]),
    // The deadline runs from the headers' arrival, reading the body included.
    deadline: timeout === undefined ? undefined : AbortSignal.timeout(timeout),
    answer,
  };
  if (method.clientStreaming || method.serverStreaming) serveStream(call);
  else serveUnary(call);
}
