/**
 * One gRPC call arriving on the server, up to its handler: the call's
 * metadata (and `onCall`), what is not gRPC refused with an HTTP status,
 * the method found, its `grpc-encoding` and `grpc-timeout` read. Then a
 * unary call goes to `_unary_call.ts`, a streaming one to `_stream_call.ts`
 * (what they share: `_call_parts.ts`).
 *
 * @module
 */

import type http2 from "node:http2";
import { type GrpcWireError, parseTimeout } from "../../../protocols/grpc/_wire.ts";
import type { GrpcStatus } from "../../../protocols/grpc/_status.ts";
import { ACCEPT_ENCODING, acceptsGzip, GZIP } from "./_compression.ts";
import { type GrpcCallMetadata, headersOf } from "./metadata.ts";
import { reject, trailersOnly } from "./_respond.ts";
import { serveUnary } from "./_unary_call.ts";
import { serveStream } from "./_stream_call.ts";
import type { ServerCall, ServerContext } from "./_call_parts.ts";

const GRPC_CONTENT_TYPE = /^application\/grpc(\+proto)?(;|$)/;

/**
 * Serves the call that arrived on `stream`.
 *
 * @param stream the stream
 * @param headers its request headers
 * @param context the server's shared parts
 *
 * @example
 * ```ts
 * import { serveCall } from "./_server_call.ts";
 *
 * console.assert(typeof serveCall === "function"); // serveGrpc calls it for each stream
 * ```
 */
export function serveCall(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  context: ServerContext,
): void {
  stream.on("error", () => {}); // a reset stream: its call's signal says so
  const metadata: GrpcCallMetadata = {
    request: headersOf(headers),
    headers: new Headers(),
    trailers: new Headers(),
  };
  try {
    context.onCall?.(metadata);
  } catch (error) {
    context.onError(error);
  }
  const answer = (status: GrpcStatus) => trailersOnly(stream, status, metadata);
  if (headers[":method"] !== "POST") return reject(stream, 405);
  if (!GRPC_CONTENT_TYPE.test(String(headers["content-type"] ?? ""))) return reject(stream, 415);
  const name = String(headers[":path"] ?? "").slice(1);
  const method = context.schema.method(name);
  const resolved = method === undefined ? undefined : context.dispatch(method.name);
  if (method === undefined || resolved === undefined) {
    return answer({ code: 12, message: `Method not found: ${name}` });
  }
  const encoding = String(headers["grpc-encoding"] ?? "identity");
  if (encoding !== "identity" && encoding !== GZIP) {
    metadata.trailers.set("grpc-accept-encoding", ACCEPT_ENCODING);
    return answer({ code: 12, message: `Unsupported grpc-encoding: ${encoding}` });
  }
  let timeout: number | undefined;
  try {
    timeout = parseTimeout(headers["grpc-timeout"] as string | undefined);
  } catch (error) {
    return answer({ code: (error as GrpcWireError).status, message: (error as Error).message });
  }
  const call: ServerCall = {
    stream,
    context,
    method,
    handler: resolved.invoke,
    metadata,
    gzipped: encoding === GZIP,
    replyGzip: acceptsGzip(headers["grpc-accept-encoding"] as string | undefined),
    // The deadline runs from the headers' arrival, reading the body included.
    deadline: timeout === undefined ? undefined : AbortSignal.timeout(timeout),
    answer,
  };
  if (method.clientStreaming || method.serverStreaming) serveStream(call);
  else serveUnary(call);
}
