/**
 * The calculator over gRPC with its Range and Total watched, for the
 * streaming interop tests: what their handler's signal said when it fired,
 * and when Range's generator's `finally` ran.
 *
 * @module
 */

import { protoService } from "../../codecs/protobuf.ts";
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
