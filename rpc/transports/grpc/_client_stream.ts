/**
 * One streaming gRPC call on an HTTP/2 stream, from the client's side: the
 * caller's messages written as the server reads them, the server's read as
 * the caller does (a reader that stops pauses the stream: HTTP/2's flow
 * control holds the server), and the trailers' status ending both. Leaving
 * the replies' loop early, the timeout, the signal or the client's close
 * reset the stream (RST_STREAM CANCEL) and stop the caller's messages.
 *
 * @module
 */

import http2 from "node:http2";
import { TimeoutError } from "../../errors.ts";
import type { RpcStream } from "../../types.ts";
import { gunzipMessage, gzipMessage } from "./_compression.ts";
import { GrpcWireError } from "../../../protocols/grpc/_wire.ts";
import { grpcError } from "../../../protocols/grpc/_status.ts";
import { InboundMessages } from "./_inbound.ts";
import { OutboundMessages } from "./_outbound.ts";
import { outcomeError, replyEncoding, type UnaryCall } from "./_call.ts";

/** What a streaming call needs besides its stream: a unary call's, and the caller's messages. */
export interface StreamingCall extends UnaryCall {
  /** Whether the caller's messages are sent gzipped (`grpc-encoding: gzip` was sent). */
  readonly compress: boolean;
  /** The caller's messages: the request alone when the request does not stream. */
  readonly input: AsyncIterable<unknown> | Iterable<unknown>;
}

/**
 * Runs a streaming call whose headers went out on `stream`.
 *
 * @returns the server's messages and the call's outcome
 *
 * @example A server stream of our own
 * ```ts
 * import assert from "node:assert/strict";
 * import http2 from "node:http2";
 * import { loadProto, protoService } from "../../../codecs/protobuf.ts";
 * import { serveGrpc } from "./server.ts";
 * import { openCall } from "./_client_stream.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Up { int32 to = 1; }
 *   message N { int32 n = 1; }
 *   service Counter { rpc Count(Up) returns (stream N); }
 * `);
 * const service = protoService(schema, "demo.Counter", {
 *   Count: async function* ({ to }: { to: number }) {
 *     for (let n = 1; n <= to; n++) yield { n };
 *   },
 * });
 * await using server = await serveGrpc({ schema, service });
 * const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
 * const stream = session.request({
 *   ":method": "POST",
 *   ":path": "/demo.Counter/Count",
 *   "content-type": "application/grpc",
 *   "te": "trailers",
 * });
 * const call = openCall(stream, {
 *   method: schema.method("demo.Counter/Count")!,
 *   schema,
 *   maxMessageSize: 1024,
 *   timeout: undefined,
 *   signal: undefined,
 *   onMetadata: undefined,
 *   track: () => () => {},
 *   compress: false,
 *   input: [{ to: 3 }],
 * });
 * const seen = [];
 * for await (const message of call.messages) seen.push(message);
 * assert.deepEqual(seen, [{ n: 1 }, { n: 2 }, { n: 3 }]);
 * assert.equal(await call.result, null);
 * session.close();
 * ```
 */
export function openCall(stream: http2.ClientHttp2Stream, call: StreamingCall): RpcStream {
  const { method } = call;
  const { promise: result, resolve, reject } = Promise.withResolvers<unknown>();
  result.catch(() => {}); // a caller reading only the messages learns the error there
  let settled = false;
  let headers: http2.IncomingHttpHeaders | undefined;
  let trailers: http2.IncomingHttpHeaders | undefined;
  let gzipped = false;
  const responded = Promise.withResolvers<void>();
  responded.promise.catch(() => {});
  let input: AsyncIterator<unknown> | undefined;
  let streamError: unknown;

  const cleanup = () => {
    settled = true;
    clearTimeout(timer);
    call.signal?.removeEventListener("abort", onAbort);
    untrack();
    responded.reject(new Error("The call ended"));
  };
  // The call fails: the stream is reset, the caller's messages stop.
  const fail = (error: Error) => {
    if (settled) return;
    cleanup();
    if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    inbound.fail(error);
    reject(error);
    input?.return?.()?.catch(() => {});
  };
  const untrack = call.track(fail);
  const onAbort = () => fail(call.signal!.reason);
  call.signal?.addEventListener("abort", onAbort, { once: true });
  const timer = call.timeout === undefined ? undefined : setTimeout(
    () => fail(new TimeoutError(method.name, call.timeout!)),
    call.timeout,
  );

  const decode = (bytes: Uint8Array): unknown => {
    try {
      return method.response.decode(bytes);
    } catch (error) {
      throw new GrpcWireError(
        13,
        `The reply is not a ${method.response.name}: ${(error as Error).message}`,
      );
    }
  };
  const inbound = new InboundMessages(stream, {
    maxMessageSize: call.maxMessageSize,
    // Deno's node:http2 may emit a stream's first `data` before its
    // `response` (_call.ts): flags are checked against the headers when read.
    acceptCompressed: true,
    closeOnEnd: false,
    maxMessages: method.serverStreaming ? Infinity : 1,
    decode: async (bytes, compressed) => {
      if (headers === undefined) await responded.promise;
      if (!compressed) return decode(bytes);
      if (!gzipped) {
        throw new GrpcWireError(13, "A compressed message, but no grpc-encoding was sent");
      }
      return decode(await gunzipMessage(bytes, call.maxMessageSize));
    },
    onWireError: (error) => {
      const reason = grpcError(error.status, error.message);
      fail(reason);
      return reason;
    },
    onReturn: () => fail(grpcError(1, "Cancelled: the reader left the loop")),
  });

  stream.on("response", (received) => {
    headers = received;
    const encoding = replyEncoding(received);
    if (encoding instanceof Error) return fail(encoding);
    gzipped = encoding;
    responded.resolve();
  });
  stream.on("trailers", (received) => {
    trailers = received;
    // The server has ended the call: the caller's messages stop, and our side
    // ends cleanly (a reset could drop replies still held while the reader is behind).
    input?.return?.()?.catch(() => {});
    if (!stream.writableEnded) stream.end();
  });
  stream.on("error", (error) => streamError = error);
  stream.on("close", () => {
    if (settled) return;
    cleanup();
    const error = outcomeError(stream, headers, trailers, streamError, call);
    if (error !== undefined) {
      inbound.fail(error);
      return reject(error);
    }
    inbound.close();
    resolve(null);
  });

  // The one reply of a call whose reply does not stream.
  const single = async (): Promise<unknown> => {
    await result;
    const reader = inbound[Symbol.asyncIterator]();
    const first = await reader.next();
    if (first.done === true) {
      throw grpcError(12, `${method.name} answered with no message`);
    }
    return first.value;
  };

  send(stream, call, (iterator) => input = iterator, () => settled || trailers !== undefined)
    .catch((error) => fail(error));
  return method.serverStreaming
    ? { messages: inbound, result }
    : { messages: EMPTY, result: single() };
}

// Writes the caller's messages as the server reads them, then ends the request.
async function send(
  stream: http2.ClientHttp2Stream,
  call: StreamingCall,
  started: (iterator: AsyncIterator<unknown>) => void,
  settled: () => boolean,
): Promise<void> {
  const out = new OutboundMessages(stream, { stallTimeout: Infinity, onStall: () => {} });
  const source = call.input as Partial<AsyncIterable<unknown> & Iterable<unknown>>;
  const iterator: AsyncIterator<unknown> = typeof source[Symbol.asyncIterator] === "function"
    ? source[Symbol.asyncIterator]!()
    : toAsync(source[Symbol.iterator]!());
  started(iterator);
  while (true) {
    const next = await iterator.next();
    if (settled()) return;
    if (next.done === true) break;
    let message = call.method.request.encode(next.value ?? {});
    if (call.compress) message = await gzipMessage(message);
    const wait = out.add(message, call.compress);
    if (wait !== undefined) await wait;
    if (settled()) return;
  }
  await out.flush();
  if (!settled() && !stream.writableEnded) stream.end();
}

/**
 * The stream of a call still being opened (waiting for the server's room):
 * its messages and result, as soon as it is open; its failure to open
 * fails both.
 *
 * @param opening the call, once open
 * @returns a stream that reads through to it
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { laterStream } from "./_client_stream.ts";
 *
 * async function* two() {
 *   yield 1;
 *   yield 2;
 * }
 * const stream = laterStream(Promise.resolve({ messages: two(), result: Promise.resolve(null) }));
 * const seen = [];
 * for await (const message of stream.messages) seen.push(message);
 * assert.deepEqual(seen, [1, 2]);
 * assert.equal(await stream.result, null);
 * const failed = laterStream(Promise.reject(new Error("no room")));
 * await assert.rejects(failed.result, /no room/);
 * ```
 */
export function laterStream(opening: Promise<RpcStream>): RpcStream {
  const result = opening.then((stream) => stream.result);
  result.catch(() => {});
  let reader: AsyncIterator<unknown> | undefined;
  const messages: AsyncIterable<unknown> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        reader ??= (await opening).messages[Symbol.asyncIterator]();
        return reader.next();
      },
      return: async (value?: unknown) => {
        if (reader !== undefined) return await reader.return?.(value) ?? { done: true, value };
        // Left before reading: the call is given up as soon as it is open.
        opening.then((stream) => stream.messages[Symbol.asyncIterator]().return?.(), () => {});
        return { done: true, value };
      },
    }),
  };
  return { messages, result };
}

function toAsync(iterator: Iterator<unknown>): AsyncIterator<unknown> {
  return {
    next: () => Promise.resolve(iterator.next()),
    return: (value?: unknown) => Promise.resolve(iterator.return?.(value) ?? { done: true, value }),
  };
}

const EMPTY: AsyncIterable<unknown> = {
  [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ done: true, value: undefined }) }),
};
