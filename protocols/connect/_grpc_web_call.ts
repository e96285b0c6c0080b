/**
 * One gRPC-Web call on `connectHandler`'s route: the request's messages read,
 * the handler called within `grpc-timeout`, its outcome as a gRPC-Web reply.
 * Statuses are the gRPC server's (protocols/grpc/_status.ts), so a thrown
 * error reads the same in gRPC and gRPC-Web. Unary and server-streaming
 * calls: gRPC-Web carries one request message (a browser cannot stream a
 * request body), so a method whose request streams is refused.
 *
 * @module
 */

import type { ProtoMethod, ProtoSchema } from "../../codecs/protobuf/schema.ts";
import type { CallMetadata } from "../../rpc/call_metadata.ts";
import type { Dispatcher } from "../../rpc/dispatch.ts";
import { GrpcWireError, parseTimeout } from "../grpc/_wire.ts";
import { type GrpcStatus, statusOf, type StatusOptions } from "../grpc/_status.ts";
import {
  type GrpcWebMode,
  grpcWebReply,
  grpcWebTrailersOnly,
  readGrpcWebMessages,
} from "./_grpc_web.ts";
import { type InFlight, invokeCounted, overLimit } from "./_invoke.ts";
import { encodeReply } from "./_errors_out.ts";
import { answerGrpcWebStream } from "./_grpc_web_stream.ts";

/** What a gRPC-Web call needs from the handler it is served by. */
export interface GrpcWebContext {
  readonly schema: ProtoSchema;
  readonly dispatch: Dispatcher;
  /** How thrown errors become statuses. */
  readonly status: StatusOptions;
  /** The largest request message, in bytes. */
  readonly maxMessageSize: number;
  /** The calls running across requests (shared with Connect's), and their limit. */
  readonly calls: InFlight;
}

/**
 * Answers one gRPC-Web request for the method `name` (`pkg.Service/Method`):
 * an unknown method, or one whose request streams, is 12 UNIMPLEMENTED, a malformed
 * `grpc-timeout` or a message that does not decode 3 INVALID_ARGUMENT, a
 * message over the limit 8 RESOURCE_EXHAUSTED, all trailers-only; a passed
 * deadline is 4 DEADLINE_EXCEEDED; the handler's outcome travels as a
 * message frame (a frame per message when the reply streams) and the
 * trailer frame. The call's metadata goes out on every reply: its headers
 * as headers, its trailers in the trailer frame (in the headers of a
 * trailers-only reply).
 *
 * @param context the schema, the dispatcher, statuses and limits
 * @param request the HTTP request (a POST with a gRPC-Web content type)
 * @param mode binary or text, from its content type
 * @param name the method's wire name
 * @param metadata the call's metadata
 * @returns the reply
 *
 * @example A call with a hand-made body
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protoService } from "../../codecs/protobuf.ts";
 * import { createDispatcher } from "../../rpc/dispatch.ts";
 * import { answerGrpcWeb } from "./_grpc_web_call.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message N { int32 n = 1; }
 *   service Twice { rpc Of(N) returns (N); }
 * `);
 * const service = protoService(schema, "demo.Twice", { Of: ({ n }: { n: number }) => ({ n: 2 * n }) });
 * const context = {
 *   schema,
 *   dispatch: createDispatcher(service),
 *   status: { schema, exposeErrors: false, onError() {} },
 *   maxMessageSize: 1024,
 *   calls: { inFlight: 0, maxInFlight: 10 },
 * };
 * const request = new Request("http://localhost/demo.Twice/Of", {
 *   method: "POST",
 *   body: new Uint8Array([0, 0, 0, 0, 2, 8, 21]), // N { n: 21 }
 * });
 * const metadata = { request: request.headers, headers: new Headers(), trailers: new Headers() };
 * const response = await answerGrpcWeb(context, request, "binary", "demo.Twice/Of", metadata);
 * const body = new Uint8Array(await response.arrayBuffer());
 * assert.deepEqual(body.subarray(0, 7), new Uint8Array([0, 0, 0, 0, 2, 8, 42]));
 * assert.match(new TextDecoder().decode(body.subarray(12)), /^grpc-status: 0\r\n$/);
 * ```
 */
export async function answerGrpcWeb(
  context: GrpcWebContext,
  request: Request,
  mode: GrpcWebMode,
  name: string,
  metadata: CallMetadata,
): Promise<Response> {
  const refuse = (status: GrpcStatus) => {
    request.body?.cancel().catch(() => {});
    return grpcWebTrailersOnly(mode, status, metadata);
  };
  const method = context.schema.method(name);
  const resolved = method === undefined ? undefined : context.dispatch(method.name);
  if (method === undefined || resolved === undefined) {
    return refuse({ code: 12, message: `Method not found: ${name}` });
  }
  if (method.clientStreaming) {
    return refuse({
      code: 12,
      message: `${name} takes a stream of messages: gRPC-Web carries one request message ` +
        "(a browser cannot stream a request body), so it serves unary and server-streaming calls",
    });
  }
  let deadline: AbortSignal | undefined;
  try {
    const timeout = parseTimeout(request.headers.get("grpc-timeout") ?? undefined);
    // From the headers' arrival: reading the body counts against it.
    deadline = timeout === undefined ? undefined : AbortSignal.timeout(timeout);
  } catch (error) {
    return refuse(wireStatus(error));
  }
  let params: Record<string, unknown>;
  try {
    params = await decodeRequest(method, request, mode, context.maxMessageSize, deadline);
  } catch (error) {
    return refuse(
      error instanceof GrpcWireError ? wireStatus(error) : statusOf(error, context.status),
    );
  }
  const { calls } = context;
  const busy = overLimit(calls);
  if (busy !== undefined) return refuse({ code: 8, message: busy.message });
  if (method.serverStreaming) {
    return answerGrpcWebStream(context, {
      mode,
      method,
      handler: resolved,
      params,
      metadata,
      deadline,
    });
  }
  let reply: Uint8Array;
  try {
    const call = { handler: resolved, params, method: method.name, request, deadline, metadata };
    const result = await invokeCounted(calls, call);
    reply = encodeReply(method, () => method.response.encode(result ?? {}), context.status);
  } catch (error) {
    return grpcWebReply(mode, undefined, statusOf(error, context.status), metadata);
  }
  return grpcWebReply(mode, reply, undefined, metadata);
}

// The one request message, decoded; the body is given up at the deadline.
async function decodeRequest(
  method: ProtoMethod,
  request: Request,
  mode: GrpcWebMode,
  maxMessageSize: number,
  deadline: AbortSignal | undefined,
): Promise<Record<string, unknown>> {
  const reading = readGrpcWebMessages(request.body, mode, maxMessageSize, 1, deadline);
  const messages =
    await (deadline === undefined ? reading : Promise.race([reading, expiryOf(deadline)]));
  if (messages.length !== 1) {
    throw new GrpcWireError(13, `A unary call takes one message, not ${messages.length}`);
  }
  try {
    return method.request.decode(messages[0]!);
  } catch (error) {
    throw new GrpcWireError(
      3,
      `The message is not a ${method.request.name}: ${(error as Error).message}`,
    );
  }
}

// A body still arriving at the deadline is not waited for (its reading stops).
function expiryOf(deadline: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const expired = () => reject(new GrpcWireError(4, "Deadline exceeded"));
    if (deadline.aborted) return expired();
    deadline.addEventListener("abort", expired, { once: true });
  });
}

function wireStatus(error: unknown): GrpcStatus {
  if (error instanceof GrpcWireError) return { code: error.status, message: error.message };
  throw error;
}
