/**
 * One gRPC call arriving on the server, up to its handler: the call's
 * metadata (and `onCall`), what is not gRPC refused with an HTTP status,
 * the method found, its `grpc-encoding` and `grpc-timeout` read. Then a
 * unary call goes to `_unary_call.ts`, a streaming one to `_stream_call.ts`.
 *
 * @module
 */

import type http2 from "node:http2";
import type { ProtoMethod, ProtoSchema } from "../../../codecs/protobuf.ts";
import type { Dispatcher } from "../../dispatch.ts";
import type { CallContext } from "../../service.ts";
import { type GrpcWireError, parseTimeout } from "../../../protocols/grpc/_wire.ts";
import type { GrpcStatus, StatusOptions } from "../../../protocols/grpc/_status.ts";
import { ACCEPT_ENCODING, acceptsGzip, GZIP } from "./_compression.ts";
import { type GrpcCallMetadata, headersOf } from "./metadata.ts";
import { reject, trailersOnly } from "./_respond.ts";
import { serveUnary } from "./_unary_call.ts";
import { serveStream } from "./_stream_call.ts";

/** What every call of one server shares. */
export interface ServerContext {
  /** The services' schema. */
  readonly schema: ProtoSchema;
  /** Finds a handler by wire name. */
  readonly dispatch: Dispatcher;
  /** The largest request message, as sent and as inflated. */
  readonly maxFrameSize: number;
  /** Calls running across connections. */
  readonly maxInFlight: number;
  /** Milliseconds to a unary request's first body bytes. */
  readonly firstFrameTimeout: number;
  /** Milliseconds a request body may stall, and a reply wait for its reader. */
  readonly idleTimeout: number;
  /** Replies this long or longer are gzipped for clients that accept it. */
  readonly compressThreshold: number;
  /** How thrown errors become statuses. */
  readonly statusOptions: StatusOptions;
  /** Sees each call's metadata as it arrives. */
  readonly onCall: ((metadata: GrpcCallMetadata) => void) | undefined;
  /** Told about handler errors. */
  readonly onError: (error: unknown) => void;
  /** The calls running now, across connections. */
  readonly calls: { inFlight: number };
}

/** One call, its method found and its headers read. */
export interface ServerCall {
  /** The call's HTTP/2 stream. */
  readonly stream: http2.ServerHttp2Stream;
  /** The server's shared parts. */
  readonly context: ServerContext;
  /** The method called. */
  readonly method: ProtoMethod;
  /** Its handler, as the dispatcher calls it. */
  readonly handler: (params: unknown, ctx: CallContext) => unknown;
  /** The call's metadata, request and reply. */
  readonly metadata: GrpcCallMetadata;
  /** The request's messages may be gzip-compressed (`grpc-encoding: gzip`). */
  readonly gzipped: boolean;
  /** The client accepts gzip-compressed replies. */
  readonly replyGzip: boolean;
  /** Fires at the call's `grpc-timeout`, counted from the headers' arrival. */
  readonly deadline: AbortSignal | undefined;
  /** Answers with a status alone (trailers-only), once. */
  readonly answer: (status: GrpcStatus) => void;
}

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
