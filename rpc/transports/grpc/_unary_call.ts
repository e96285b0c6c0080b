/**
 * A unary gRPC call on the server: its one request message read (a second
 * one refused as it arrives, so a body of a million tiny messages is not
 * held), the handler run against the call's deadline and cancellation, its
 * outcome written as a message and `grpc-status` trailers, or a
 * trailers-only reply.
 *
 * @module
 */

import type { CallContext } from "../../service.ts";
import { type GrpcWireError, MessageReader } from "../../../protocols/grpc/_wire.ts";
import { type GrpcStatus, statusOf } from "../../../protocols/grpc/_status.ts";
import { gunzipMessage, gzipMessage } from "./_compression.ts";
import { attachMetadata } from "./metadata.ts";
import { sendReply } from "./_respond.ts";
import { watchBody } from "./_guard.ts";
import { encodingFailed, type ServerCall } from "./_call_parts.ts";

/**
 * Serves a unary call.
 *
 * @param call the call, its method found
 *
 * @example
 * ```ts
 * import { serveUnary } from "./_unary_call.ts";
 *
 * console.assert(typeof serveUnary === "function"); // tests/grpc_test.ts runs it on real streams
 * ```
 */
export function serveUnary(call: ServerCall): void {
  const { stream, context, method, metadata, deadline, answer } = call;
  const { maxFrameSize, calls } = context;
  const fail = (error: unknown) =>
    answer({ code: (error as GrpcWireError).status, message: (error as Error).message });
  // A body still arriving at the deadline is not waited for (once answered, this does nothing).
  deadline?.addEventListener("abort", () => answer({ code: 4, message: "Deadline exceeded" }), {
    once: true,
  });
  const cancelled = new AbortController();
  stream.on("close", () => cancelled.abort(new DOMException("Cancelled", "AbortError")));
  const reader = new MessageReader(maxFrameSize, call.gzipped);
  watchBody(stream, context.firstFrameTimeout, context.idleTimeout, (message) => {
    answer({ code: 4, message });
  });
  stream.on("data", (chunk: Uint8Array) => {
    try {
      reader.push(chunk);
      if (reader.messages.length > 1) {
        stream.pause();
        answer({ code: 13, message: "A unary call takes one message, not more" });
      }
    } catch (error) {
      stream.pause();
      fail(error);
    }
  });
  stream.on("end", async () => {
    if (stream.headersSent || stream.aborted) return; // refused while reading, or reset
    try {
      reader.end();
    } catch (error) {
      return fail(error);
    }
    if (reader.messages.length !== 1) {
      return answer({ code: 13, message: "A unary call takes one message, not 0" });
    }
    let message = reader.messages[0]!;
    if (reader.compressed[0]) {
      try {
        // The size limit holds for what it inflates to, too: a gzip bomb is 8 RESOURCE_EXHAUSTED.
        message = await gunzipMessage(message, maxFrameSize);
      } catch (error) {
        return fail(error);
      }
      if (stream.headersSent || stream.destroyed) return; // the deadline passed meanwhile
    }
    let params: Record<string, unknown>;
    try {
      params = method.request.decode(message);
    } catch (error) {
      return answer({
        code: 3,
        message: `The message is not a ${method.request.name}: ${(error as Error).message}`,
      });
    }
    if (calls.inFlight >= context.maxInFlight) {
      return answer({
        code: 8,
        message: `Too many calls in flight (limit ${context.maxInFlight})`,
      });
    }
    calls.inFlight++;
    invoke(call, params, cancelled.signal)
      .then(async (outcome) => {
        if (stream.closed || stream.destroyed) return; // cancelled: nobody to answer
        if ("status" in outcome) return answer(outcome.status);
        const gzipped = call.replyGzip && outcome.reply.length >= context.compressThreshold;
        const reply = gzipped ? await gzipMessage(outcome.reply) : outcome.reply;
        if (stream.closed || stream.destroyed) return;
        sendReply(stream, reply, gzipped, metadata);
      })
      .catch(context.onError)
      .finally(() => calls.inFlight--);
  });
}

// The handler's outcome: its reply encoded, or the status it ends with.
async function invoke(
  call: ServerCall,
  params: Record<string, unknown>,
  cancelled: AbortSignal,
): Promise<{ reply: Uint8Array } | { status: GrpcStatus }> {
  const { method, deadline, context } = call;
  const signal = deadline === undefined ? cancelled : AbortSignal.any([cancelled, deadline]);
  const ctx: CallContext = { id: undefined, method: method.name, signal };
  attachMetadata(ctx, call.metadata);
  let result: unknown;
  try {
    const outcome = Promise.resolve().then(() => call.handler(params, ctx));
    result = await (deadline === undefined ? outcome : Promise.race([outcome, expiry(deadline)]));
  } catch (error) {
    if (error === EXPIRED) return { status: { code: 4, message: "Deadline exceeded" } };
    return { status: statusOf(error, context.statusOptions) };
  }
  try {
    return { reply: method.response.encode(result ?? {}) };
  } catch (error) {
    return { status: encodingFailed(call, error) };
  }
}

const EXPIRED = Symbol("deadline exceeded");

function expiry(deadline: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (deadline.aborted) reject(EXPIRED);
    deadline.addEventListener("abort", () => reject(EXPIRED), { once: true });
  });
}
