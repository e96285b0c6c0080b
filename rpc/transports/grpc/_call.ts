/**
 * One unary gRPC call on an HTTP/2 stream, from the client's side: the
 * request written, the reply's headers, message and trailers read, and what
 * they say made into the response message or an error. The session it runs
 * on is the client's (client.ts).
 *
 * @module
 */

import http2 from "node:http2";
import type { ProtoMethod, ProtoSchema } from "../../../codecs/protobuf.ts";
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
 * Waits for the outcome of a call whose request was written on `stream`.
 * A timeout or an abort resets the stream (RST_STREAM CANCEL).
 *
 * @returns the response message, decoded
 *
 * @example One call on a stream of our own
 * ```ts
 * import assert from "node:assert/strict";
 * import http2 from "node:http2";
 * import { loadProto, protoService } from "../../../codecs/protobuf.ts";
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
 * const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
 * const method = schema.unary("demo.Greeter/Greet");
 * const stream = session.request({
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
 * session.close();
 * assert.deepEqual(reply, { name: "Hello, Ada" });
 * ```
 */
export function unaryOutcome(
  stream: http2.ClientHttp2Stream,
  request: Uint8Array,
  call: UnaryCall,
): Promise<Record<string, unknown>> {
  const { promise, resolve, reject } = Promise.withResolvers<Record<string, unknown>>();
  let settled = false;
  let headers: http2.IncomingHttpHeaders | undefined;
  let trailers: http2.IncomingHttpHeaders | undefined;
  // Deno's node:http2 may emit a stream's first `data` before its `response`
  // (seen on Deno 2.9): the reader takes compressed messages from the start,
  // and whether they were allowed is checked against the headers at the end.
  const reader = new MessageReader(call.maxMessageSize, true);
  let gzipped = false;
  let streamError: unknown;

  const settle = (outcome: () => Promise<Record<string, unknown>>) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    call.signal?.removeEventListener("abort", onAbort);
    untrack();
    outcome().then(resolve, reject);
  };
  const fail = (error: Error) => {
    // A call given up on is cancelled at the server too; a stream already closed is left alone.
    if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    settle(() => Promise.reject(error));
  };
  const untrack = call.track(fail);
  const onAbort = () => fail(call.signal!.reason);
  call.signal?.addEventListener("abort", onAbort, { once: true });
  const timer = call.timeout === undefined ? undefined : setTimeout(
    () => fail(new TimeoutError(call.method.name, call.timeout!)),
    call.timeout,
  );

  stream.on("response", (received) => {
    headers = received;
    const encoding = replyEncoding(received);
    if (encoding instanceof Error) return fail(encoding);
    gzipped = encoding;
  });
  stream.on("data", (chunk: Uint8Array) => {
    try {
      reader.push(chunk);
    } catch (error) {
      fail(wireError(error));
    }
  });
  stream.on("trailers", (received) => trailers = received);
  stream.on("error", (error) => streamError = error);
  stream.on("close", () => settle(() => outcomeOf()));
  stream.end(request);

  // What the reply says, once the stream has closed.
  const outcomeOf = async (): Promise<Record<string, unknown>> => {
    const error = outcomeError(stream, headers, trailers, streamError, call);
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
      if (!gzipped) {
        throw grpcError(13, "A compressed message, but no grpc-encoding was sent");
      }
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
  };
  return promise;
}

/**
 * What a closed stream's reply says, when it is not OK: the status of its
 * trailers (or of a trailers-only reply's headers) as a `ConnectError` with
 * its details, or why there is no status (the connection went away, the
 * stream was reset, the reply is not gRPC). `onMetadata` is told the
 * headers and trailers first, when there are both.
 *
 * @returns the error, or `undefined` for status 0
 *
 * @example
 * ```ts
 * import { outcomeError } from "./_call.ts";
 *
 * console.assert(typeof outcomeError === "function"); // tests/grpc_client_test.ts runs it
 * ```
 */
export function outcomeError(
  stream: http2.ClientHttp2Stream,
  headers: http2.IncomingHttpHeaders | undefined,
  trailers: http2.IncomingHttpHeaders | undefined,
  streamError: unknown,
  call: Pick<UnaryCall, "schema" | "onMetadata">,
): Error | undefined {
  const ending = trailers ?? (headers?.["grpc-status"] === undefined ? undefined : headers);
  if (headers === undefined || ending === undefined) return noStatus(stream, headers, streamError);
  call.onMetadata?.({ headers: headersOf(headers), trailers: headersOf(ending) });
  const status = Number(ending["grpc-status"]);
  if (status === 0) return undefined;
  const details = ending["grpc-status-details-bin"];
  return grpcError(
    Number.isInteger(status) ? status : 2,
    percentDecode(String(ending["grpc-message"] ?? "")),
    typeof details === "string" ? decodeStatusDetails(details, call.schema) : [],
  );
}

// The stream ended without a status: the connection went away, or the
// server answered something that is not gRPC.
function noStatus(
  stream: http2.ClientHttp2Stream,
  headers: http2.IncomingHttpHeaders | undefined,
  streamError: unknown,
): Error {
  if (headers !== undefined) {
    const http = Number(headers[":status"]);
    const type = String(headers["content-type"] ?? "none");
    return http !== 200
      ? grpcError(statusOfHttp(http), `HTTP ${http} (content-type ${type}), no grpc-status`)
      : grpcError(13, `The reply ended without a grpc-status (content-type ${type})`);
  }
  const code = stream.rstCode;
  if (code === http2.constants.NGHTTP2_REFUSED_STREAM) {
    return grpcError(14, "The server refused the stream (REFUSED_STREAM)");
  }
  if (stream.session === undefined || stream.session.destroyed || stream.session.closed) {
    return new ConnectionClosedError(
      "The connection closed before the reply",
      streamError === undefined ? undefined : { cause: streamError },
    );
  }
  if (code === http2.constants.NGHTTP2_CANCEL) {
    return grpcError(1, "The server cancelled the stream");
  }
  if (code === http2.constants.NGHTTP2_ENHANCE_YOUR_CALM) {
    return grpcError(8, "The server reset the stream (ENHANCE_YOUR_CALM)");
  }
  return grpcError(13, `The server reset the stream (RST_STREAM ${code})`);
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
export function replyEncoding(headers: http2.IncomingHttpHeaders): boolean | Error {
  const encoding = String(headers["grpc-encoding"] ?? "identity");
  if (encoding !== "identity" && encoding !== GZIP) {
    return grpcError(13, `The server sent grpc-encoding ${encoding}`);
  }
  return encoding === GZIP;
}

function wireError(error: unknown): Error {
  if (!(error instanceof GrpcWireError)) throw error;
  return grpcError(error.status, error.message);
}
