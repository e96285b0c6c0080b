/**
 * What the server's call paths share: the server's parts, one call's
 * parts (its method found, its headers read), and the status of a reply
 * that does not encode. `_server_call.ts` makes a call; `_unary_call.ts`
 * and `_stream_call.ts` serve it.
 *
 * @module
 */

import type { Http2Stream } from "../../../protocols/http2/stream.ts";
import type { ProtoMethod, ProtoSchema } from "../../../codecs/protobuf.ts";
import type { Dispatcher } from "../../dispatch.ts";
import type { CallContext } from "../../service.ts";
import type { ConnectionScope } from "../../connection.ts";
import type { GrpcStatus, StatusOptions } from "../../../protocols/grpc/_status.ts";
import type { GrpcCallMetadata, LazyMetadata } from "./metadata.ts";
import type { Waits } from "./_watch.ts";

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
  /** The clock of those waits. */
  readonly waits: Waits;
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
  readonly stream: Http2Stream;
  /** Its connection, the context built for it, for `connectionOf` and `typedContext`. */
  readonly connection: ConnectionScope;
  /** The server's shared parts. */
  readonly context: ServerContext;
  /** The method called. */
  readonly method: ProtoMethod;
  /** Its handler, as the dispatcher calls it. */
  readonly handler: (params: unknown, ctx: CallContext) => unknown;
  /** The call's metadata, request and reply, made as asked for. */
  readonly metadata: LazyMetadata;
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

/**
 * The next chunk of a call's request body, the wait bounded by the server's
 * clock: `firstFrameTimeout` for the first bytes of a unary or
 * server-streaming request, else `idleTimeout` (a request stream's messages
 * may come far apart). Only a read that waits is counted: a handler that is
 * behind does not read, and its wait is not the client's. Past the bound,
 * `expired` is told why (the call answers 4 DEADLINE_EXCEEDED, which frees
 * the stream and ends this read).
 *
 * @param call the call
 * @param first whether no body bytes were read yet
 * @param expired told why, when the wait is too long
 * @returns the chunk, or `null` at the body's end
 * @throws the stream's error when it was reset or the connection lost
 *
 * @example
 * ```ts
 * import { readBody } from "./_call_parts.ts";
 *
 * console.assert(typeof readBody === "function"); // tests/grpc_hostile_test.ts runs it
 * ```
 */
export async function readBody(
  call: ServerCall,
  first: boolean,
  expired: (message: string) => void = (message) => call.answer({ code: 4, message }),
): Promise<Uint8Array | null> {
  const { context } = call;
  const ms = first && !call.method.clientStreaming
    ? context.firstFrameTimeout
    : context.idleTimeout;
  const wait = context.waits.start(ms, () =>
    expired(
      first ? `no request body within ${ms} ms` : `the request body stalled for ${ms} ms`,
    ));
  try {
    return await call.stream.read();
  } finally {
    context.waits.end(wait);
  }
}

/**
 * The signal a unary handler sees: it fires when the client cancels (an
 * `AbortError`) or the deadline passes (a `TimeoutError`). Made only when
 * the handler asks for it.
 *
 * @param call the call
 * @returns the signal
 *
 * @example
 * ```ts
 * import { callSignal } from "./_call_parts.ts";
 *
 * console.assert(typeof callSignal === "function"); // tests/grpc_client_test.ts runs it
 * ```
 */
export function callSignal(call: ServerCall): AbortSignal {
  const controller = new AbortController();
  const streamSignal = call.stream.signal;
  const cancelled = () => controller.abort(new DOMException("Cancelled", "AbortError"));
  if (streamSignal.aborted) cancelled();
  else streamSignal.addEventListener("abort", cancelled, { once: true });
  const { deadline } = call;
  return deadline === undefined
    ? controller.signal
    : AbortSignal.any([controller.signal, deadline]);
}
