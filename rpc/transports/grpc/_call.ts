/**
 * One unary gRPC call on an HTTP/2 stream, from the client's side: the
 * request written, the reply's message read, and what its headers and
 * trailers say made into the response message or an error. The connection
 * it runs on is the client's (client.ts). Nothing is made that the call does
 * not ask for: a timer only with a timeout, a listener only with a signal,
 * `Headers` only for `onMetadata`.
 *
 * @module
 */

import type { ProtoMethod, ProtoSchema } from "../../../codecs/protobuf.ts";
import type { Http2Headers, Http2Stream } from "../../../protocols/http2/stream.ts";
import { Http2ErrorCode, Http2StreamError } from "../../../protocols/http2/errors.ts";
import { ConnectionClosedError, TimeoutError } from "../../errors.ts";
import { gunzipMessage, GZIP } from "./_compression.ts";
import { GrpcWireError, MessageReader, percentDecode } from "../../../protocols/grpc/_wire.ts";
import { decodeStatusDetails, grpcError, statusOfHttp } from "../../../protocols/grpc/_status.ts";
import { headersOf } from "./metadata.ts";

/** A reply's metadata: its headers, and its trailers. */
export interface GrpcResponseMetadata {
  /**
   * The response headers (custom metadata, `content-type`,
   * `grpc-encoding`…). For a trailers-only reply (an early error), its one
   * header block: the same as `trailers`.
   */
  readonly headers: Headers;
  /** The trailers: `grpc-status`, `grpc-message` and the server's trailing metadata. */
  readonly trailers: Headers;
}

/** What a call needs besides its stream. */
export interface UnaryCall {
  /** The method called: its response type decodes the reply. */
  readonly method: ProtoMethod;
  /** The schema, for the error details' types. */
  readonly schema: ProtoSchema;
  /** The largest response message, after decompression. */
  readonly maxMessageSize: number;
  /** The local deadline in milliseconds (the caller sent it as `grpc-timeout`). */
  readonly timeout: number | undefined;
  /** Aborting it cancels the call. */
  readonly signal: AbortSignal | undefined;
  /** Told the reply's headers and trailers. */
  readonly onMetadata: ((metadata: GrpcResponseMetadata) => void) | undefined;
  /** Registers the call's failure, for the client's `close()`; returns its removal. */
  readonly track: (fail: (error: Error) => void) => () => void;
}

/**
 * The call's end from outside (a timeout, the signal, the client's close):
 * the stream is reset (RST_STREAM CANCEL: the server's handler sees it) and
 * the call fails with the error; `cleanup` stops watching for them. A
 * signal aborted already is the caller's to check before.
 *
 * @example
 * ```ts
 * import { watchCall } from "./_call.ts";
 *
 * console.assert(typeof watchCall === "function"); // tests/grpc_client_test.ts runs it
 * ```
 */
export function watchCall(
  stream: Http2Stream,
  call: UnaryCall,
  failed: (error: Error) => void,
): { cleanup(): void } {
  let over = false;
  const fail = (error: Error) => {
    if (over) return;
    cleanup();
    failed(error);
    stream.reset(Http2ErrorCode.CANCEL);
  };
  const untrack = call.track(fail);
  const onAbort = () => fail(call.signal!.reason);
  call.signal?.addEventListener("abort", onAbort, { once: true });
  const timer = call.timeout === undefined ? undefined : setTimeout(
    () => fail(new TimeoutError(call.method.name, call.timeout!)),
    call.timeout,
  );
  const cleanup = () => {
    over = true;
    clearTimeout(timer);
    call.signal?.removeEventListener("abort", onAbort);
    untrack();
  };
  return { cleanup };
}

/**
 * Sends a unary call's request (already framed) on `stream` and waits for
 * its outcome. A timeout or an abort resets the stream (RST_STREAM CANCEL).
 *
 * @returns the response message, decoded
 *
 * @example One call on a stream of our own
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protoService } from "../../../codecs/protobuf.ts";
 * import { connectHttp2 } from "../http2.ts";
 * import { serveGrpc } from "./server.ts";
 * import { frameMessage } from "../../../protocols/grpc/_wire.ts";
 * import { unaryOutcome } from "./_call.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Name { string name = 1; }
 *   service Greeter { rpc Greet(Name) returns (Name); }
 * `);
 * const service = protoService(schema, "demo.Greeter", {
 *   Greet: ({ name }: { name: string }) => ({ name: `Hello, ${name}` }),
 * });
 * await using server = await serveGrpc({ schema, service });
 * await using client = connectHttp2(`http://127.0.0.1:${server.addr.port}`);
 * const method = schema.unary("demo.Greeter/Greet");
 * const stream = client.request({
 *   ":method": "POST",
 *   ":path": "/demo.Greeter/Greet",
 *   "content-type": "application/grpc",
 *   "te": "trailers",
 * });
 * const reply = await unaryOutcome(stream, frameMessage(method.request.encode({ name: "Ada" })), {
 *   method,
 *   schema,
 *   maxMessageSize: 1024,
 *   timeout: undefined,
 *   signal: undefined,
 *   onMetadata: undefined,
 *   track: () => () => {},
 * });
 * assert.deepEqual(reply, { name: "Hello, Ada" });
 * ```
 */
export async function unaryOutcome(
  stream: Http2Stream,
  request: Uint8Array,
  call: UnaryCall,
): Promise<Record<string, unknown>> {
  stream.write(request);
  stream.end();
  let failure: Error | undefined;
  const watch = watchCall(stream, call, (error) => failure = error);
  const reader = new MessageReader(call.maxMessageSize, true);
  try {
    for (;;) {
      const chunk = await stream.read();
      if (chunk === null) break;
      reader.push(chunk);
    }
  } catch (error) {
    if (failure !== undefined) throw failure;
    if (error instanceof GrpcWireError) {
      stream.reset(Http2ErrorCode.CANCEL);
      throw grpcError(error.status, error.message);
    }
    throw noStatus(stream.headers, error);
  } finally {
    watch.cleanup();
  }
  if (failure !== undefined) throw failure;
  const gzipped = replyEncoding(stream.headers);
  if (gzipped instanceof Error) throw gzipped;
  const error = outcomeError(stream.headers, stream.trailers, undefined, call);
  if (error !== undefined) throw error;
  const messages = reader.messages;
  try {
    reader.end();
  } catch (error) {
    throw wireError(error);
  }
  if (messages.length !== 1) {
    throw grpcError(
      messages.length === 0 ? 12 : 13,
      `A unary call answered with ${messages.length} messages`,
    );
  }
  let message = messages[0]!;
  if (reader.compressed[0]) {
    if (!gzipped) throw grpcError(13, "A compressed message, but no grpc-encoding was sent");
    message = await gunzipMessage(message, call.maxMessageSize).catch((e) => {
      throw wireError(e);
    });
  }
  try {
    return call.method.response.decode(message);
  } catch (error) {
    throw grpcError(
      13,
      `The reply is not a ${call.method.response.name}: ${(error as Error).message}`,
      [],
      { cause: error },
    );
  }
}

/**
 * What a stream's reply says, when it is not OK: the status of its trailers
 * (or of a trailers-only reply's headers) as a `ConnectError` with its
 * details, or why there is no status (the stream was reset, the connection
 * went away, the reply is not gRPC). `onMetadata` is told the headers and
 * trailers first, when there are both.
 *
 * @param headers the reply's headers (empty when none came)
 * @param trailers its trailers, if any
 * @param streamError why the stream ended early, if it did
 * @param call the schema (for details) and `onMetadata`
 * @returns the error, or `undefined` for status 0
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto } from "../../../codecs/protobuf.ts";
 * import { outcomeError } from "./_call.ts";
 *
 * const schema = loadProto(`syntax = "proto3"; package p; message M {}`);
 * const headers = { ":status": "200", "content-type": "application/grpc" };
 * const call = { schema, onMetadata: undefined };
 * assert.equal(outcomeError(headers, { "grpc-status": "0" }, undefined, call), undefined);
 * const error = outcomeError(headers, { "grpc-status": "5", "grpc-message": "no%20such" }, undefined, call);
 * assert.equal(error?.message, "no such");
 * ```
 */
export function outcomeError(
  headers: Http2Headers,
  trailers: Http2Headers | undefined,
  streamError: unknown,
  call: Pick<UnaryCall, "schema" | "onMetadata">,
): Error | undefined {
  const ending = trailers ?? (headers["grpc-status"] === undefined ? undefined : headers);
  if (headers[":status"] === undefined || ending === undefined) {
    return noStatus(headers, streamError);
  }
  call.onMetadata?.({ headers: headersOf(headers), trailers: headersOf(ending) });
  const status = Number(ending["grpc-status"]);
  if (status === 0) return undefined;
  const details = ending["grpc-status-details-bin"];
  return grpcError(
    Number.isInteger(status) ? status : 2,
    percentDecode(ending["grpc-message"] ?? ""),
    details === undefined ? [] : decodeStatusDetails(details, call.schema),
  );
}

// The stream ended without a status: it was reset, the connection went
// away, or the server answered something that is not gRPC.
function noStatus(headers: Http2Headers, streamError: unknown): Error {
  if (streamError instanceof ConnectionClosedError) {
    return new ConnectionClosedError("The connection closed before the reply", {
      cause: streamError,
    });
  }
  if (streamError instanceof Http2StreamError) {
    switch (streamError.code) {
      case Http2ErrorCode.REFUSED_STREAM:
        return grpcError(14, "The server refused the stream (REFUSED_STREAM)");
      case Http2ErrorCode.CANCEL:
        return grpcError(1, "The server cancelled the stream");
      case Http2ErrorCode.ENHANCE_YOUR_CALM:
        return grpcError(8, "The server reset the stream (ENHANCE_YOUR_CALM)");
      default:
        return grpcError(13, `The server reset the stream: ${streamError.message}`);
    }
  }
  if (streamError !== undefined) {
    return new ConnectionClosedError("The call failed before the reply", { cause: streamError });
  }
  const http = Number(headers[":status"]);
  const type = headers["content-type"] ?? "none";
  return http !== 200
    ? grpcError(statusOfHttp(http), `HTTP ${http} (content-type ${type}), no grpc-status`)
    : grpcError(13, `The reply ended without a grpc-status (content-type ${type})`);
}

/**
 * Whether a reply's messages may come gzipped, by its `grpc-encoding`; a
 * `ConnectError` (13) for an encoding parley does not speak.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replyEncoding } from "./_call.ts";
 *
 * assert.equal(replyEncoding({ "grpc-encoding": "gzip" }), true);
 * assert.equal(replyEncoding({}), false);
 * assert.ok(replyEncoding({ "grpc-encoding": "br" }) instanceof Error);
 * ```
 */
export function replyEncoding(headers: Http2Headers): boolean | Error {
  const encoding = headers["grpc-encoding"] ?? "identity";
  if (encoding !== "identity" && encoding !== GZIP) {
    return grpcError(13, `The server sent grpc-encoding ${encoding}`);
  }
  return encoding === GZIP;
}

function wireError(error: unknown): Error {
  if (!(error instanceof GrpcWireError)) throw error;
  return grpcError(error.status, error.message);
}
