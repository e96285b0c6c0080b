/**
 * What the server's call paths share: the server's parts, one call's
 * parts (its method found, its headers read), and the status of a reply
 * that does not encode. `_server_call.ts` makes a call; `_unary_call.ts`
 * and `_stream_call.ts` serve it.
 *
 * @module
 */

import type http2 from "node:http2";
import type { ProtoMethod, ProtoSchema } from "../../../codecs/protobuf.ts";
import type { Dispatcher } from "../../dispatch.ts";
import type { CallContext } from "../../service.ts";
import type { GrpcStatus, StatusOptions } from "../../../protocols/grpc/_status.ts";
import type { GrpcCallMetadata } from "./metadata.ts";

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

/**
 * The status of a handler's result that is not its method's response
 * message: 13 INTERNAL, the server told why.
 *
 * @param call the call
 * @param error what encoding threw
 * @returns the status to answer
 *
 * @example
 * ```ts
 * import { encodingFailed } from "./_call_parts.ts";
 *
 * console.assert(typeof encodingFailed === "function"); // tests/grpc_streams_test.ts runs it
 * ```
 */
export function encodingFailed(call: ServerCall, error: unknown): GrpcStatus {
  const { method, context } = call;
  context.onError(
    new Error(`${method.name} returned a value that is not a ${method.response.name}`, {
      cause: error,
    }),
  );
  return {
    code: 13,
    message: context.statusOptions.exposeErrors ? String(error) : "Internal error",
  };
}
