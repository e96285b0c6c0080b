/**
 * A streaming gRPC call on the server, the three kinds: the handler gets
 * the request message (server streaming) or `ctx.input`, the request
 * stream read at its own pace (client streaming, bidi), and returns an
 * async iterable of replies (server streaming, bidi) or one reply. Replies
 * go out as the client reads them; the call ends once, with trailers (a
 * status after messages), or trailers-only (an error before any). A
 * client's cancel, the deadline, a request that breaks the wire or stalls,
 * and a reader that stops reading each end the call, abort the handler's
 * signal and return its iterator (an async generator's `finally` runs).
 *
 * @module
 */

import { attachConnection } from "../../connection.ts";
import type { CallContext } from "../../service.ts";
import { GrpcWireError } from "../../../protocols/grpc/_wire.ts";
import { grpcError, type GrpcStatus, statusOf } from "../../../protocols/grpc/_status.ts";
import { gunzipMessage, gzipMessage } from "./_compression.ts";
import { attachMetadata } from "./metadata.ts";
import { endWithTrailers, replyHeaders, sendReply } from "./_respond.ts";
import { Http2ErrorCode } from "../../../protocols/http2/errors.ts";
import { InboundMessages } from "./_inbound.ts";
import { OutboundMessages } from "./_outbound.ts";
import { waitFor } from "./_watch.ts";
import { encodingFailed, readBody, type ServerCall } from "./_call_parts.ts";

/**
 * Serves a streaming call (client, server or bidirectional streaming).
 *
 * @param call the call, its method found
 *
 * @example
 * ```ts
 * import { serveStream } from "./_stream_call.ts";
 *
 * console.assert(typeof serveStream === "function"); // tests/grpc_streams_test.ts runs it
 * ```
 */
export function serveStream(call: ServerCall): void {
  const { stream, context, method, metadata } = call;
  const { calls, maxFrameSize, statusOptions, onError } = context;
  if (calls.inFlight >= context.maxInFlight) {
    return call.answer({
      code: 8,
      message: `Too many calls in flight (limit ${context.maxInFlight})`,
    });
  }
  calls.inFlight++;
  const controller = new AbortController();
  let over = false; // answered, or cancelled: nothing more is said
  let replies: AsyncIterator<unknown> | undefined;

  // Stops the handler: its signal aborts, its iterator returns.
  const stop = (reason: unknown) => {
    if (!controller.signal.aborted) controller.abort(reason);
    inbound.fail(reason);
    replies?.return?.()?.catch(onError);
  };
  // Ends the call, once: OK when `status` is undefined.
  const end = (status: GrpcStatus | undefined) => {
    if (over) return;
    over = true;
    calls.inFlight--;
    if (stream.closed) return;
    if (!stream.headersSent) {
      if (status !== undefined) return call.answer(status);
      replyHeaders(stream, metadata, false);
    }
    out.flush().then(() => {
      if (stream.closed) return;
      inbound.discard();
      endWithTrailers(stream, metadata, status);
    }, onError);
  };
  const fail = (status: GrpcStatus, reason: unknown) => {
    stop(reason);
    end(status);
  };

  // The client stopped reading: no trailers can pass the data before them.
  const stalled = () => {
    onError(new Error(`${method.name}: the reply stalled for ${context.idleTimeout} ms`));
    stop(new DOMException("The reply stalled", "TimeoutError"));
    if (!over) {
      over = true;
      calls.inFlight--;
    }
    stream.reset(Http2ErrorCode.CANCEL);
  };
  const out = new OutboundMessages(
    stream,
    (room) => waitFor(context.waits, room, context.idleTimeout, stalled),
  );
  const decode = (bytes: Uint8Array): unknown => {
    try {
      return method.request.decode(bytes);
    } catch (error) {
      throw new GrpcWireError(
        3,
        `The message is not a ${method.request.name}: ${(error as Error).message}`,
      );
    }
  };
  // A request stream's messages may come far apart: the same bound between
  // them as between a body's chunks, counted only while the handler waits.
  let first = true;
  const expired = (message: string) =>
    fail({ code: 4, message }, new DOMException(message, "TimeoutError"));
  const cancelled = () => new DOMException("Cancelled", "AbortError");
  const inbound = new InboundMessages({
    read: () => {
      const wasFirst = first;
      first = false;
      return readBody(call, wasFirst, expired);
    },
    maxMessageSize: maxFrameSize,
    acceptCompressed: call.gzipped,
    maxMessages: method.clientStreaming ? Infinity : 1,
    decode: (bytes, compressed) =>
      compressed ? gunzipMessage(bytes, maxFrameSize).then(decode) : decode(bytes),
    onWireError: (error) => {
      const reason = grpcError(error.status, error.message);
      fail({ code: error.status, message: error.message }, reason);
      return reason;
    },
    onReadError: cancelled,
  });

  // Reset by the client (a cancel), or the connection lost.
  stream.signal.addEventListener("abort", () => {
    if (over) return;
    over = true;
    calls.inFlight--;
    stop(cancelled());
  }, { once: true });
  call.deadline?.addEventListener("abort", () => {
    // A call that has ended is left alone: its handler's signal does not fire after the fact.
    if (!over) fail({ code: 4, message: "Deadline exceeded" }, call.deadline!.reason);
  }, { once: true });

  const ctx: CallContext = {
    id: undefined,
    method: method.name,
    signal: controller.signal, // aborted by stop(): cancel, deadline, a broken or stalled stream
    input: method.clientStreaming ? inbound : EMPTY,
  };
  attachMetadata(ctx, metadata);
  attachConnection(ctx, call.connection);
  run().catch((error) => {
    if (!over) end(statusOf(error, statusOptions));
  });

  async function run(): Promise<void> {
    let request: unknown;
    if (!method.clientStreaming) {
      const reader = inbound[Symbol.asyncIterator]();
      const next = await reader.next();
      if (next.done) return end({ code: 13, message: "A streaming call takes one message, not 0" });
      request = next.value;
      await reader.next(); // the body's end (a second message is refused as it comes)
      if (over) return;
    }
    const result = await call.handler(request, ctx);
    if (!method.serverStreaming) {
      if (over) return;
      let reply: Uint8Array;
      try {
        reply = method.response.encode(result ?? {});
      } catch (error) {
        return end(encodingFailed(call, error));
      }
      const gzipped = call.replyGzip && reply.length >= context.compressThreshold;
      if (gzipped) reply = await gzipMessage(reply);
      if (over || stream.closed) return;
      over = true;
      calls.inFlight--;
      inbound.discard();
      return sendReply(stream, reply, gzipped, metadata);
    }
    replies = iteratorOf(result);
    if (replies === undefined) {
      return end(encodingFailed(call, new TypeError("A streaming reply is not an async iterable")));
    }
    if (over) return void replies.return?.()?.catch(onError);
    await pump(replies);
  }

  // The replies, as the client reads them.
  async function pump(iterator: AsyncIterator<unknown>): Promise<void> {
    const compress = call.replyGzip && context.compressThreshold !== Infinity;
    while (true) {
      const next = await iterator.next();
      if (over) return;
      if (next.done === true) return end(undefined);
      let reply: Uint8Array;
      try {
        reply = method.response.encode(next.value ?? {});
      } catch (error) {
        stop(error);
        return end(encodingFailed(call, error));
      }
      const gzipped = compress && reply.length >= context.compressThreshold;
      if (gzipped) {
        reply = await gzipMessage(reply);
        if (over) return;
      }
      if (!stream.headersSent) replyHeaders(stream, metadata, compress);
      const wait = out.add(reply, gzipped);
      if (wait !== undefined) await wait;
    }
  }
}

const EMPTY: AsyncIterable<unknown> = {
  [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ done: true, value: undefined }) }),
};

// A handler's streaming result as an iterator: async iterables, and plain ones.
function iteratorOf(result: unknown): AsyncIterator<unknown> | undefined {
  if (result === null || typeof result !== "object") return undefined;
  const asyncIterable = result as Partial<AsyncIterable<unknown>>;
  if (typeof asyncIterable[Symbol.asyncIterator] === "function") {
    return asyncIterable[Symbol.asyncIterator]!();
  }
  const iterable = result as Partial<Iterable<unknown>>;
  if (typeof iterable[Symbol.iterator] !== "function") return undefined;
  const sync = iterable[Symbol.iterator]!();
  return {
    next: () => Promise.resolve(sync.next()),
    return: (value?: unknown) => Promise.resolve(sync.return?.(value) ?? { done: true, value }),
  };
}
