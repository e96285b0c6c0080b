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

import type { Http2Stream } from "../../../protocols/http2/stream.ts";
import { Http2ErrorCode } from "../../../protocols/http2/errors.ts";
import type { RpcStream } from "../../types.ts";
import { gunzipMessage, gzipMessage } from "./_compression.ts";
import { GrpcWireError } from "../../../protocols/grpc/_wire.ts";
import { grpcError } from "../../../protocols/grpc/_status.ts";
import { InboundMessages } from "./_inbound.ts";
import { OutboundMessages } from "./_outbound.ts";
import { outcomeError, replyEncoding, type UnaryCall, watchCall } from "./_call.ts";

/** What a streaming call needs besides its stream: a unary call's, and the caller's messages. */
export interface StreamingCall extends UnaryCall {
  /** Whether the caller's messages are sent gzipped (`grpc-encoding: gzip` was sent). */
  readonly compress: boolean;
  /** The caller's messages: the request alone when the request does not stream. */
  readonly input: AsyncIterable<unknown> | Iterable<unknown>;
}

/**
 * Runs a streaming call whose headers went out on `stream`. The server's
 * messages are read as the caller reads them; `result` settles once they
 * have been read to their end (a server stream) or the one reply has come
 * (a client stream), or the call failed.
 *
 * @returns the server's messages and the call's outcome
 *
 * @example A server stream of our own
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protoService } from "../../../codecs/protobuf.ts";
 * import { connectHttp2 } from "../http2.ts";
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
 * await using client = connectHttp2(`http://127.0.0.1:${server.addr.port}`);
 * const stream = client.request({
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
 * ```
 */
export function openCall(stream: Http2Stream, call: StreamingCall): RpcStream {
  const { method } = call;
  const { promise: result, resolve, reject } = Promise.withResolvers<unknown>();
  result.catch(() => {}); // a caller reading only the messages learns the error there
  let settled = false;
  let failure: Error | undefined;
  let input: AsyncIterator<unknown> | undefined;

  // The call's end, once: the caller's messages stop, the result settles.
  const settle = (error: Error | undefined) => {
    if (settled) return;
    settled = true;
    watch.cleanup();
    input?.return?.()?.catch(() => {});
    if (error === undefined) return resolve(null);
    inbound.fail(error);
    reject(error);
  };
  // The call fails from this side: the stream is reset (RST_STREAM CANCEL).
  const fail = (error: Error) => {
    if (settled) return;
    failure = error;
    settle(error);
    stream.reset(Http2ErrorCode.CANCEL);
  };
  const watch = watchCall(stream, call, (error) => {
    failure = error;
    settle(error);
  });

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
  let gzipped: boolean | undefined;
  const inbound = new InboundMessages({
    read: () => stream.read(),
    maxMessageSize: call.maxMessageSize,
    // The flag is checked against the reply's grpc-encoding as each message is read.
    acceptCompressed: true,
    maxMessages: method.serverStreaming ? Infinity : 1,
    decode: (bytes, compressed) => {
      gzipped ??= replyEncoding(stream.headers) === true;
      if (!compressed) return decode(bytes);
      if (!gzipped) {
        throw new GrpcWireError(13, "A compressed message, but no grpc-encoding was sent");
      }
      return gunzipMessage(bytes, call.maxMessageSize).then(decode);
    },
    onWireError: (error) => {
      const reason = grpcError(error.status, error.message);
      fail(reason);
      return reason;
    },
    onReadError: (error) => {
      const reason = failure ?? outcomeError(stream.headers, stream.trailers, error, call) ??
        grpcError(13, `The stream failed: ${(error as Error)?.message ?? error}`);
      settle(reason);
      return reason;
    },
    onEnd: () => {
      const encoding = replyEncoding(stream.headers);
      const error = encoding instanceof Error
        ? encoding
        : outcomeError(stream.headers, stream.trailers, undefined, call);
      settle(error);
      return error;
    },
    onReturn: () => fail(grpcError(1, "Cancelled: the reader left the loop")),
  });

  send(stream, call, (iterator) => input = iterator, () => settled || stream.closed)
    .catch((error) => fail(error));
  if (method.serverStreaming) return { messages: inbound, result };
  // The one reply: read as it comes, then the status.
  const single = (async () => {
    let reply: unknown;
    let count = 0;
    for await (const message of inbound) {
      reply = message;
      count++;
    }
    await result;
    if (count === 0) throw grpcError(12, `${method.name} answered with no message`);
    return reply;
  })();
  single.catch(() => {});
  return { messages: EMPTY, result: single };
}

// Writes the caller's messages as the server reads them, then ends the request.
async function send(
  stream: Http2Stream,
  call: StreamingCall,
  started: (iterator: AsyncIterator<unknown>) => void,
  over: () => boolean,
): Promise<void> {
  const out = new OutboundMessages(stream);
  const source = call.input as Partial<AsyncIterable<unknown> & Iterable<unknown>>;
  const iterator: AsyncIterator<unknown> = typeof source[Symbol.asyncIterator] === "function"
    ? source[Symbol.asyncIterator]!()
    : toAsync(source[Symbol.iterator]!());
  started(iterator);
  while (true) {
    const next = await iterator.next();
    // The server has ended the call (or it failed): the caller's messages stop.
    if (over()) return void iterator.return?.()?.catch(() => {});
    if (next.done === true) break;
    let message = call.method.request.encode(next.value ?? {});
    if (call.compress) message = await gzipMessage(message);
    const wait = out.add(message, call.compress);
    if (wait !== undefined) await wait;
    if (over()) return void iterator.return?.()?.catch(() => {});
  }
  await out.flush();
  if (!over()) stream.end();
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
