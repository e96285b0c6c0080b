/**
 * What the gRPC streaming interop tests share: the calculator over gRPC with
 * its Range and Total watched (what their handler's signal said when it
 * fired, when Range's generator's `finally` ran), and parley's client
 * checks that any gRPC calculator must pass (grpcio's, grpc-js's).
 *
 * @module
 */

import assert from "node:assert/strict";
import { protoClient, protoService } from "../../codecs/protobuf.ts";
import type { Calculator } from "../../examples/calculator/calculator_types.ts";
import { ConnectError } from "../../protocols/connect.ts";
import { TimeoutError } from "../../rpc/errors.ts";
import type { GrpcClient, GrpcResponseMetadata } from "../../rpc/transports/grpc.ts";
import { rejection } from "../_rejection.ts";
import { calculatorSchema, protobufCalculator } from "../../examples/calculator/protobuf.ts";
import { range, type RangeRequest } from "../../examples/calculator/streams.ts";
import { combineServices } from "../../rpc/dispatch.ts";
import { type CallContext, withContext } from "../../rpc/service.ts";
import type { GrpcServer } from "../../rpc/transports/grpc.ts";
import { startGrpcCalculator } from "../_grpc_calculator.ts";

/** The server starting, and what its watched handlers saw. */
export interface WatchedCalculator {
  /** The server, once it listens. */
  readonly server: Promise<GrpcServer>;
  /** Range's signal's reason, when it fires. */
  readonly rangeAborted: Promise<unknown>;
  /** Resolves when Range's generator's `finally` has run. */
  readonly rangeFinally: Promise<void>;
  /** Total's signal's reason, when it fires. */
  readonly totalAborted: Promise<unknown>;
  /** Resolves when Total has read its first number. */
  readonly totalStarted: Promise<void>;
}

const schema = calculatorSchema();

/**
 * Starts the calculator over gRPC with its Range and Total watched.
 *
 * @param options anything of serveGrpc's to change
 * @returns the server starting and what its handlers saw
 */
export function watchedCalculator(
  options: Parameters<typeof startGrpcCalculator>[0] = {},
): WatchedCalculator {
  const rangeAborted = Promise.withResolvers<unknown>();
  const rangeFinally = Promise.withResolvers<void>();
  const totalAborted = Promise.withResolvers<unknown>();
  const totalStarted = Promise.withResolvers<void>();
  const watched = protoService(schema, "interop.Calculator", {
    Range: withContext((ctx: CallContext, request: RangeRequest) => {
      ctx.signal.addEventListener("abort", () => rangeAborted.resolve(ctx.signal.reason));
      const numbers = range(request, ctx);
      return (async function* () {
        try {
          yield* numbers;
        } finally {
          rangeFinally.resolve();
        }
      })();
    }),
    Total: withContext(async (ctx: CallContext, input: AsyncIterable<{ value: bigint }>) => {
      ctx.signal.addEventListener("abort", () => totalAborted.resolve(ctx.signal.reason));
      let total = 0n;
      for await (const { value } of input) {
        total += value;
        totalStarted.resolve();
      }
      // Some work after the input's end: a client's cancel (Node's and Deno's
      // node:http2 send END_STREAM, then RST_STREAM) reaches a handler still running.
      await new Promise((resolve) => setTimeout(resolve, 200));
      return { total };
    }),
  });
  const { server } = startGrpcCalculator({
    service: combineServices(watched, protobufCalculator(schema)),
    ...options,
  });
  return {
    server,
    rangeAborted: rangeAborted.promise,
    rangeFinally: rangeFinally.promise,
    totalAborted: totalAborted.promise,
    totalStarted: totalStarted.promise,
  };
}

const I64_MAX = 2n ** 63n - 1n;

/** A peer's client running one scenario against a server: the outcome it printed. */
export type PeerClient = (
  server: GrpcServer,
  scenario: string,
) => Promise<Record<string, unknown>>;

/**
 * A peer's Range with a deadline that passes mid-stream (`range-deadline`):
 * it gets 4 after some numbers, and parley's generator is stopped (its
 * signal fired by the peer's RST_STREAM or by `grpc-timeout`, whichever was
 * first; its `finally` run).
 */
export async function assertDeadlineStopsRange(peer: PeerClient): Promise<void> {
  const watched = watchedCalculator();
  await using server = await watched.server;
  const outcome = await peer(server, "range-deadline");
  assert.equal(outcome.code, 4);
  assert.ok((outcome.received as unknown[]).length > 0, "numbers came before the deadline");
  assert.match((await watched.rangeAborted as Error).name, /^(TimeoutError|AbortError)$/);
  await watched.rangeFinally;
}

/**
 * A peer cancelling Range after three numbers (`range-cancel`): it gets 1,
 * and parley's generator is stopped with an AbortError (`watched`'s server
 * keeps running).
 */
export async function assertCancelStopsRange(
  peer: PeerClient,
  watched: WatchedCalculator,
): Promise<void> {
  const server = await watched.server;
  const outcome = await peer(server, "range-cancel");
  assert.equal(outcome.code, 1);
  assert.deepEqual(outcome.received, [0, 1, 2]);
  assert.equal((await watched.rangeAborted as Error).name, "AbortError");
  await watched.rangeFinally;
}

/** Every message of a stream, in order. */
export async function collect<T>(messages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const message of messages) out.push(message);
  return out;
}

/** A stream's messages up to the error that ends it, which must be a `ConnectError`. */
export async function readToError(
  messages: AsyncIterable<unknown>,
): Promise<{ read: unknown[]; error: ConnectError }> {
  const read: unknown[] = [];
  const error = await rejection(
    (async () => {
      for await (const message of messages) read.push(message);
    })(),
    ConnectError,
  );
  return { read, error };
}

/** Number messages, one per value. */
export async function* numbers(...values: (number | bigint)[]) {
  for (const value of values) yield { value };
}

/** Polls a child's output until it matches: bounded, 10 s at most. */
export async function waitFor(pattern: RegExp, output: () => string): Promise<void> {
  for (let i = 0; i < 1000 && !pattern.test(output()); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.match(output(), pattern);
}

/**
 * The contract's streaming calls, from parley's client to any gRPC
 * calculator: Range, Total and Running through protoClient, the
 * `x-request-tag` echo on a stream, and the errors with details (before any
 * message, after one).
 */
export async function assertCalculatorStreams(client: GrpcClient, tag: string): Promise<void> {
  const calc = protoClient<Calculator>(client, schema, "interop.Calculator");
  assert.deepEqual(
    (await collect(calc.Range({ start: 5, count: 4 }))).map((n) => n.value),
    [5n, 6n, 7n, 8n],
  );
  const many = await collect(calc.Range({ start: 0, count: 20_000 }));
  assert.equal(many.length, 20_000);
  assert.equal(many[19_999]!.value, 19_999n);
  assert.deepEqual(await calc.Total(numbers(I64_MAX, 1, -1)), { total: I64_MAX });
  assert.deepEqual(
    (await collect(calc.Running(numbers(1, 2, 3)))).map((r) => r.total),
    [1n, 3n, 6n],
  );
  let seen: GrpcResponseMetadata | undefined;
  const stream = client.openStream("interop.Calculator/Range", { start: 1, count: 2 }, {
    headers: { "x-request-tag": tag },
    onMetadata: (metadata) => seen = metadata,
  });
  assert.equal((await collect(stream.messages)).length, 2);
  assert.equal(seen?.headers.get("x-request-tag"), tag);
  assert.equal(seen?.trailers.get("x-request-tag-end"), tag);

  const invalid = await rejection(collect(calc.Range({ start: 0, count: -1 })), ConnectError);
  assert.equal(invalid.code, 3);
  assert.equal(invalid.message, "invalid count");
  assert.deepEqual(invalid.data, { whatOp: 1, why: "invalid count" });
  const { read, error: overflow } = await readToError(calc.Running(numbers(I64_MAX, 1)));
  assert.deepEqual(read, [{ total: I64_MAX }]);
  assert.equal(overflow.message, "overflow");
  assert.deepEqual(overflow.data, { whatOp: 1, why: "overflow" });
  const total = await rejection(calc.Total(numbers(I64_MAX, 1)), ConnectError);
  assert.deepEqual(total.data, { whatOp: 1, why: "overflow" });
}

/**
 * A Range with 10 ms between numbers and a 300 ms timeout: some numbers,
 * then the local TimeoutError or the server's 4 DEADLINE_EXCEEDED.
 */
export async function assertRangeDeadline(client: GrpcClient): Promise<void> {
  const calc = protoClient<Calculator>(client, schema, "interop.Calculator");
  const read: unknown[] = [];
  const error = await (async () => {
    for await (const n of calc.Range({ start: 0, count: 1000, delayMs: 10 }, { timeout: 300 })) {
      read.push(n);
    }
  })().catch((e) => e);
  assert.ok(
    error instanceof TimeoutError || (error instanceof ConnectError && error.code === 4),
    String(error),
  );
  assert.ok(read.length > 0, "numbers came before the deadline");
}

/** Leaves a slow Range's loop after three numbers (which cancels it). */
export async function leaveRange(client: GrpcClient): Promise<void> {
  const calc = protoClient<Calculator>(client, schema, "interop.Calculator");
  const read: bigint[] = [];
  for await (const { value } of calc.Range({ start: 0, count: 1000, delayMs: 5 })) {
    read.push(value);
    if (read.length === 3) break;
  }
  assert.deepEqual(read, [0n, 1n, 2n]);
}

/** Aborts a Total whose request stream sent one number and does not end. */
export async function abortTotal(client: GrpcClient): Promise<void> {
  const calc = protoClient<Calculator>(client, schema, "interop.Calculator");
  const controller = new AbortController();
  const never = (async function* () {
    yield { value: 1 };
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  })();
  const total = calc.Total(never, { signal: controller.signal });
  await new Promise((resolve) => setTimeout(resolve, 200));
  controller.abort(new Error("stop"));
  assert.equal((await total.catch((e) => e) as Error).message, "stop");
}

/** Running over 1..200 (the client compressing, when it does): the reply's metadata. */
export async function runningOf200(client: GrpcClient): Promise<GrpcResponseMetadata | undefined> {
  let seen: GrpcResponseMetadata | undefined;
  const stream = client.openStream("interop.Calculator/Running", undefined, {
    input: numbers(...Array.from({ length: 200 }, (_, i) => i + 1)),
    onMetadata: (metadata) => seen = metadata,
  });
  const totals = await collect(stream.messages as AsyncIterable<{ total: bigint }>);
  assert.equal(totals.length, 200);
  assert.equal(totals[199]!.total, 20_100n);
  return seen;
}
