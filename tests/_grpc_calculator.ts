/**
 * The calculator served over gRPC for the gRPC tests: Ping waits for its
 * signal (deadlines and cancellation), Echo sends the request header
 * `x-echo` back as a trailer (what a handler sees of metadata), and every
 * call echoes `x-request-tag` as the contract says (a header, and the
 * trailer `x-request-tag-end`).
 *
 * @example
 * ```ts
 * import { startGrpcCalculator } from "./_grpc_calculator.ts";
 *
 * await using server = await startGrpcCalculator().server;
 * console.log(server.url);
 * ```
 *
 * @module
 */

import {
  calculatorSchema,
  ERROR_DETAILS,
  protobufCalculator,
} from "../examples/calculator/protobuf.ts";
import { combineServices } from "../rpc/dispatch.ts";
import { type CallContext, withContext } from "../rpc/service.ts";
import assert from "node:assert/strict";
import { ConnectError } from "../protocols/connect.ts";
import { rejection } from "./_rejection.ts";
import {
  callMetadata,
  type GrpcClient,
  type GrpcServer,
  serveGrpc,
  type ServeGrpcOptions,
} from "../rpc/transports/grpc.ts";

/** The server starting, and what its Ping saw. */
export interface GrpcCalculator {
  /** The server, once it listens. */
  readonly server: Promise<GrpcServer>;
  /** Resolves with the `grpc-timeout` Ping received (null for none) when it starts. */
  readonly pingStarted: Promise<string | null>;
  /** Resolves with Ping's signal's reason when it fires. */
  readonly pingAborted: Promise<unknown>;
}

/**
 * Starts the calculator over gRPC on 127.0.0.1 and a free port.
 *
 * @param options anything of serveGrpc's to change
 * @returns the server starting and Ping's promises
 *
 * @example
 * ```ts
 * import { startGrpcCalculator } from "./_grpc_calculator.ts";
 *
 * const { server } = startGrpcCalculator({ compressThreshold: 0 });
 * await (await server).shutdown();
 * ```
 */
export function startGrpcCalculator(options: Partial<ServeGrpcOptions> = {}): GrpcCalculator {
  const schema = calculatorSchema();
  const { promise: pingAborted, resolve: aborted } = Promise.withResolvers<unknown>();
  const { promise: pingStarted, resolve: started } = Promise.withResolvers<string | null>();
  const waitingPing = withContext((ctx: CallContext) => {
    started(callMetadata(ctx)!.request.get("grpc-timeout"));
    return new Promise((_, reject) => {
      ctx.signal.addEventListener("abort", () => {
        aborted(ctx.signal.reason);
        reject(ctx.signal.reason);
      }, { once: true });
    });
  });
  const echoHeader = withContext((ctx: CallContext, { text }: { text: string }) => {
    const metadata = callMetadata(ctx)!;
    metadata.trailers.set("x-echo", metadata.request.get("x-echo") ?? "none");
    return { text };
  });
  const service = combineServices(
    { "interop.Calculator/Ping": waitingPing, "interop.Calculator/Echo": echoHeader },
    protobufCalculator(schema),
  );
  const server = serveGrpc({
    schema,
    service,
    errorDetails: ERROR_DETAILS,
    errorStatus: () => 3,
    onCall: ({ request, headers, trailers }) => {
      const tag = request.get("x-request-tag");
      if (tag === null) return;
      headers.set("x-request-tag", tag);
      trailers.set("x-request-tag-end", tag);
    },
    ...options,
  });
  return { server, pingStarted, pingAborted };
}

/**
 * Calls Calculate with a division by zero on any gRPC calculator (parley's,
 * grpcio's, grpc-js's) and checks what every one of them must answer: status
 * 3, the why as the message, the InvalidOperation as `data`.
 *
 * @returns the error, for a peer's further checks
 */
export async function assertDivisionByZero(client: GrpcClient): Promise<ConnectError> {
  const error = await rejection(
    client.call("interop.Calculator/Calculate", { logid: 1, w: { num1: 1, num2: 0, op: 4 } }),
    ConnectError,
  );
  assert.equal(error.code, 3);
  assert.equal(error.message, "Cannot divide by 0");
  assert.deepEqual(error.data, { whatOp: 4, why: "Cannot divide by 0" });
  return error;
}
