/**
 * A unary gRPC call on the server: its one request message read (a second
 * one refused as it arrives, so a body of a million tiny messages is not
 * held), the handler run against the call's deadline and cancellation, its
 * outcome written as a message and `grpc-status` trailers, or a
 * trailers-only reply. Nothing is made for a call that does not need it:
 * no timer (the server's one clock watches a body that does not come), no
 * AbortSignal until the handler asks for one.
 *
 * @module
 */

import { attachConnection } from "../../connection.ts";
import type { CallContext } from "../../service.ts";
import { type GrpcWireError, MessageReader } from "../../../protocols/grpc/_wire.ts";
import { type GrpcStatus, statusOf } from "../../../protocols/grpc/_status.ts";
import { gunzipMessage, gzipMessage } from "./_compression.ts";
import { attachMetadata } from "./metadata.ts";
import { sendReply } from "./_respond.ts";
import { callSignal, encodingFailed, readBody, type ServerCall } from "./_call_parts.ts";

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
  const { deadline, answer } = call;
  // A body still arriving at the deadline is not waited for (once answered, this does nothing).
  deadline?.addEventListener("abort", () => answer({ code: 4, message: "Deadline exceeded" }), {
    once: true,
  });
  serve(call).catch(call.context.onError);
}

async function serve(call: ServerCall): Promise<void> {
  const { stream, context, method, answer } = call;
  const { maxFrameSize, calls } = context;
  const fail = (error: unknown) =>
    answer({ code: (error as GrpcWireError).status, message: (error as Error).message });
  const reader = new MessageReader(maxFrameSize, call.gzipped);
  for (let first = true;; first = false) {
    let chunk: Uint8Array | null;
    try {
      chunk = await readBody(call, first);
    } catch {
      return; // reset, or the connection lost: nobody to answer
    }
    if (stream.headersSent || stream.closed) return; // answered meanwhile (deadline, stall)
    if (chunk === null) break;
    try {
      reader.push(chunk);
    } catch (error) {
      return fail(error);
    }
    if (reader.messages.length > 1) {
      return answer({ code: 13, message: "A unary call takes one message, not more" });
    }
  }
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
    if (stream.headersSent || stream.closed) return; // the deadline passed meanwhile
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
    return answer({ code: 8, message: `Too many calls in flight (limit ${context.maxInFlight})` });
  }
  calls.inFlight++;
  try {
    const outcome = await invoke(call, params);
    if (stream.closed || stream.headersSent) return; // cancelled, or past its deadline
    if ("status" in outcome) return answer(outcome.status);
    const gzipped = call.replyGzip && outcome.reply.length >= context.compressThreshold;
    const reply = gzipped ? await gzipMessage(outcome.reply) : outcome.reply;
    sendReply(call.stream, reply, gzipped, call.metadata);
  } finally {
    calls.inFlight--;
  }
}

// The handler's outcome: its reply encoded, or the status it ends with.
async function invoke(
  call: ServerCall,
  params: Record<string, unknown>,
): Promise<{ reply: Uint8Array } | { status: GrpcStatus }> {
  const { method, deadline, context } = call;
  const ctx: CallContext = new UnaryCallContext(call);
  attachMetadata(ctx, call.metadata);
  attachConnection(ctx, call.connection);
  let result: unknown;
  try {
    const outcome = call.handler(params, ctx);
    result = deadline === undefined || !(outcome instanceof Promise)
      ? await outcome
      : await Promise.race([outcome, expiry(deadline)]);
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

// A unary call's context. A class, not an object literal with a getter: a
// literal's getter is a closure made per call, and V8 then keeps every
// call's objects (the call its signal closure holds, stream and metadata
// too) alive through young-generation collections, as it did for HTTP's
// contexts (docs/benchmarks.md, HTTP, third pass).
class UnaryCallContext implements CallContext {
  readonly id: undefined;
  readonly method: string;
  readonly #call: ServerCall;
  #signal: AbortSignal | undefined;
  constructor(call: ServerCall) {
    this.id = undefined;
    this.method = call.method.name;
    this.#call = call;
    this.#signal = undefined;
  }
  // Made when the handler asks: most never do.
  get signal(): AbortSignal {
    return this.#signal ??= callSignal(this.#call);
  }
}
