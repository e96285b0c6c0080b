/**
 * gRPC-Web's server streaming on `connectHandler`'s route: the reply's
 * messages each in a frame as the handler yields them, then the trailer
 * frame with the status (an error after messages included) and the call's
 * trailers; base64 frame by frame in `-text` mode.
 *
 * @module
 */

import type { ProtoMethod } from "../../codecs/protobuf/schema.ts";
import type { CallMetadata } from "../../rpc/call_metadata.ts";
import type { ResolvedMethod } from "../../rpc/service.ts";
import { frameMessage } from "../grpc/_wire.ts";
import { statusOf, type StatusOptions } from "../grpc/_status.ts";
import { bodyChunk, grpcWebHead, type GrpcWebMode, trailerFrame } from "./_grpc_web.ts";
import { type InFlight, runStream } from "./_stream_run.ts";
import { encodeReply } from "./_errors_out.ts";

/** What a streaming call needs from the handler it is served by. */
export interface GrpcWebStreamContext {
  /** How thrown errors become statuses. */
  readonly status: StatusOptions;
  /** The calls running across requests, and their limit. */
  readonly calls: InFlight;
}

/** One server-streaming call, its request message read. */
export interface GrpcWebStreamCall {
  readonly mode: GrpcWebMode;
  readonly method: ProtoMethod;
  readonly handler: Pick<ResolvedMethod, "invoke">;
  /** The request message. */
  readonly params: Record<string, unknown>;
  readonly metadata: CallMetadata;
  /** Fires at the call's deadline (`grpc-timeout`); none without one. */
  readonly deadline: AbortSignal | undefined;
}

// gRPC-Web carries no request stream: the handler's input is empty.
const NO_INPUT = { async *[Symbol.asyncIterator]() {}, fail() {} };

/**
 * Answers a server-streaming gRPC-Web call: HTTP 200 once the handler has
 * returned its messages, a frame per message, the trailer frame last.
 *
 * @param context statuses, the calls in flight
 * @param call the method, its handler, its request message and metadata
 * @returns the reply
 *
 * @example Two numbers, then the trailer frame
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protoService } from "../../codecs/protobuf.ts";
 * import { createDispatcher } from "../../rpc/dispatch.ts";
 * import { answerGrpcWebStream } from "./_grpc_web_stream.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message N { int32 n = 1; }
 *   service Count { rpc Up(N) returns (stream N); }
 * `);
 * const dispatch = createDispatcher(protoService(schema, "demo.Count", {
 *   Up: async function* ({ n }: { n: number }) {
 *     for (let i = 1; i <= n; i++) yield { n: i };
 *   },
 * }));
 * const context = {
 *   status: { schema, exposeErrors: false, onError() {} },
 *   calls: { inFlight: 0, maxInFlight: 10 },
 * };
 * const response = await answerGrpcWebStream(context, {
 *   mode: "binary",
 *   method: schema.method("demo.Count/Up")!,
 *   handler: dispatch("demo.Count/Up")!,
 *   params: { n: 2 },
 *   metadata: { request: new Headers(), headers: new Headers(), trailers: new Headers() },
 *   deadline: undefined,
 * });
 * const body = new Uint8Array(await response.arrayBuffer());
 * assert.deepEqual(body.subarray(0, 14), new Uint8Array([0, 0, 0, 0, 2, 8, 1, 0, 0, 0, 0, 2, 8, 2]));
 * assert.equal(new TextDecoder().decode(body.subarray(19)), "grpc-status: 0\r\n");
 * ```
 */
export async function answerGrpcWebStream(
  context: GrpcWebStreamContext,
  call: GrpcWebStreamCall,
): Promise<Response> {
  const { mode, method, metadata } = call;
  const body = await runStream({
    method,
    handler: call.handler,
    request: () => Promise.resolve(call.params),
    input: NO_INPUT,
    metadata,
    deadline: call.deadline,
    calls: context.calls,
    wire: {
      message(value) {
        const bytes = encodeReply(method, () => method.response.encode(value ?? {}), {
          exposeErrors: false,
          onError: context.status.onError,
        });
        return bodyChunk(mode, frameMessage(bytes));
      },
      end(error) {
        const status = error === undefined ? undefined : statusOf(error, context.status);
        return bodyChunk(mode, trailerFrame(status, metadata.trailers));
      },
    },
  });
  // The handler has returned: what it set in the headers goes out now.
  return new Response(body, grpcWebHead(mode, metadata.headers));
}
