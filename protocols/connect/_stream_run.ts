/**
 * One streaming call on `connectHandler`, whatever frames it (Connect's
 * envelopes, gRPC-Web's frames): the handler called with the caller's
 * messages, its reply messages produced as the reply body is read, and the
 * call's end (its error, its trailers) as the body's last frame.
 *
 * The reply body is a pull source with no read-ahead: the handler's
 * generator is asked for its next message only when the HTTP server wants
 * more bytes, so a slow reader holds the generator back to what the
 * sockets' buffers take. The caller's messages are read from the request
 * body only as the handler asks for them. The call ends, on both sides, at
 * its deadline, or when the client goes away (the reply body is cancelled:
 * `Deno.serve` cancels it as soon as the connection closes, idle or not):
 * the handler's signal aborts, its generator is returned (its `finally`
 * runs), the request body is cancelled. `request.signal` is not used: on
 * `Deno.serve` it also aborts after every successful reply, and reading it
 * prints a warning (the legacy abort, `--unstable-no-legacy-abort`).
 *
 * @module
 */

import { attachConnection, requestScope } from "../../rpc/connection.ts";
import type { ProtoMethod } from "../../codecs/protobuf/schema.ts";
import { attachMetadata, type CallMetadata } from "../../rpc/call_metadata.ts";
import { abortable } from "../../rpc/peer/_stream_flow.ts";
import type { CallContext, ResolvedMethod } from "../../rpc/service.ts";
import { ConnectError } from "./errors.ts";
import type { InFlight } from "./_invoke.ts";

export type { InFlight };

/** How a call's messages and its end become bytes of the reply body. */
export interface StreamWire {
  /**
   * A reply message, framed (compressed when agreed).
   *
   * @throws {ConnectError} `internal` for a value that is not a reply message
   */
  message(value: unknown): Uint8Array | Promise<Uint8Array>;
  /** The last frame: the call's outcome (`undefined`: it succeeded) and its trailers. */
  end(error: unknown): Uint8Array;
}

/** The caller's messages, as the handler reads them. */
export interface StreamInput extends AsyncIterable<unknown> {
  /** Stops reading them: the request body is cancelled and reading throws `reason`. */
  fail(reason: unknown): void;
}

/** What {@linkcode runStream} runs. */
export interface StreamRun {
  readonly method: ProtoMethod;
  readonly handler: Pick<ResolvedMethod, "invoke">;
  /**
   * The request message, read when the call starts; `undefined` when the
   * request streams (the handler reads `ctx.input`).
   */
  readonly request: (() => Promise<unknown>) | undefined;
  /** The caller's messages (none more after `request`'s when only the reply streams). */
  readonly input: StreamInput;
  readonly metadata: CallMetadata;
  /** Fires at the call's deadline; none without one. */
  readonly deadline: AbortSignal | undefined;
  /** Counted from the start until the last frame is made. */
  readonly calls: InFlight;
  readonly wire: StreamWire;
}

const DEADLINE = () => new ConnectError("deadline_exceeded", "Deadline exceeded");

/**
 * Runs a streaming call until its reply can start, when its reply headers
 * are final: for a bidi call as soon as the handler is called; for a server
 * stream once the request message is read and the handler has returned its
 * async iterable; for a client stream once the handler has returned its
 * reply (or failed, for all three).
 *
 * @param run the call
 * @returns the reply body: the reply messages' frames, then the end frame
 *
 * @example A server stream of two messages, each framed as its JSON
 * ```ts
 * import assert from "node:assert/strict";
 * import { runStream } from "./_stream_run.ts";
 *
 * const encoder = new TextEncoder();
 * const body = await runStream({
 *   method: { name: "demo.Count/Up", clientStreaming: false, serverStreaming: true } as never,
 *   handler: {
 *     invoke: async function* (request) {
 *       for (let n = 1; n <= (request as { to: number }).to; n++) yield { n };
 *     },
 *   },
 *   request: () => Promise.resolve({ to: 2 }),
 *   input: { async *[Symbol.asyncIterator]() {}, fail() {} },
 *   metadata: { request: new Headers(), headers: new Headers(), trailers: new Headers() },
 *   deadline: undefined,
 *   calls: { inFlight: 0, maxInFlight: 10 },
 *   wire: {
 *     message: (value) => encoder.encode(JSON.stringify(value) + "\n"),
 *     end: (error) => encoder.encode(error === undefined ? "ok\n" : "failed\n"),
 *   },
 * });
 * assert.equal(await new Response(body).text(), '{"n":1}\n{"n":2}\nok\n');
 * ```
 */
export async function runStream(run: StreamRun): Promise<ReadableStream<Uint8Array>> {
  const { method, wire, calls, deadline } = run;
  // Aborted with why the call stops early: its deadline, the client gone.
  const stop = new AbortController();
  const onDeadline = () => stop.abort(DEADLINE());
  deadline?.addEventListener("abort", onDeadline, { once: true });
  if (deadline?.aborted) onDeadline();
  const ctx: CallContext = {
    id: undefined,
    method: method.name,
    signal: stop.signal,
    input: run.input,
  };
  attachMetadata(ctx, run.metadata);
  const scope = requestScope(run.metadata.request);
  if (scope !== undefined) attachConnection(ctx, scope);
  calls.inFlight++;
  let over = false;
  // The call is over from this side: the last frame is made, or nobody reads it.
  const end = (reason: unknown) => {
    if (over) return;
    over = true;
    calls.inFlight--;
    deadline?.removeEventListener("abort", onDeadline);
    run.input.fail(reason ?? new ConnectError("canceled", "The call has ended"));
  };
  const last = (error: unknown): Uint8Array => {
    const why = stop.signal.aborted ? stop.signal.reason : error;
    end(why);
    return wire.end(why);
  };

  let source: AsyncIterator<unknown>;
  if (run.request === undefined && method.serverStreaming) {
    // Bidi: the handler starts now, and the reply with it (its headers are
    // what the handler set before its first await), while the caller still sends.
    const reply = abortable(
      new Promise((resolve) => resolve(run.handler.invoke({}, ctx))), // called now
      stop.signal,
    );
    reply.catch(() => {}); // the body reads it
    source = streamOf(reply, method)[Symbol.asyncIterator]();
  } else {
    let result: unknown;
    try {
      const request = run.request === undefined ? {} : await abortable(run.request(), stop.signal);
      result = await abortable(Promise.resolve(run.handler.invoke(request, ctx)), stop.signal);
      if (!method.serverStreaming) {
        // The request streamed: its one reply, then the end.
        return frames([await wire.message(result), last(undefined)]);
      }
      if (!isAsyncIterable(result)) throw notIterable(method);
    } catch (error) {
      if (!stop.signal.aborted) stop.abort(error); // the handler's signal says the call is over
      return frames([last(error)]);
    }
    source = result[Symbol.asyncIterator]();
  }
  // Stops the source: a step it is awaiting finishes first, then its `finally` runs.
  const close = (reason: unknown) => {
    if (!stop.signal.aborted) stop.abort(reason);
    source.return?.()?.catch(() => {});
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (over) return;
      try {
        const step = await abortable(source.next(), stop.signal);
        if (step.done !== true) {
          controller.enqueue(await wire.message(step.value));
          return;
        }
        controller.enqueue(last(undefined));
      } catch (error) {
        close(error);
        controller.enqueue(last(error));
      }
      controller.close();
    },
    cancel() {
      // The client went away (or the HTTP server gave the reply up).
      const gone = new ConnectError("canceled", "The client went away");
      close(gone);
      end(gone);
    },
  }, { highWaterMark: 0 });
}

// The messages of a bidi call's handler, once it has returned them.
async function* streamOf(reply: Promise<unknown>, method: ProtoMethod): AsyncGenerator<unknown> {
  const result = await reply;
  if (!isAsyncIterable(result)) throw notIterable(method);
  yield* result;
}

function notIterable(method: ProtoMethod): ConnectError {
  return new ConnectError(
    "internal",
    `${method.name} streams its reply: its handler must return an AsyncIterable`,
  );
}

// A body of frames made already.
function frames(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
}
