/**
 * One gRPC-Web call on `connectHandler`'s route: the request's messages read,
 * the handler called within `grpc-timeout`, its outcome as a gRPC-Web reply.
 * Statuses are the gRPC server's (rpc/transports/grpc/_status.ts), so a
 * thrown error reads the same in gRPC and gRPC-Web. Unary calls only.
 *
 * @module
 */

import type { ProtoMethod, ProtoSchema } from "../../codecs/protobuf/schema.ts";
import type { Dispatcher } from "../../rpc/dispatch.ts";
import { GrpcWireError, parseTimeout } from "../grpc/_wire.ts";
import { type GrpcStatus, statusOf, type StatusOptions } from "../grpc/_status.ts";
import {
  type GrpcWebMode,
  grpcWebReply,
  grpcWebTrailersOnly,
  readGrpcWebMessages,
} from "./_grpc_web.ts";
import { invokeWithin } from "./_invoke.ts";

/** What a gRPC-Web call needs from the handler it is served by. */
export interface GrpcWebContext {
  readonly schema: ProtoSchema;
  readonly dispatch: Dispatcher;
  /** How thrown errors become statuses. */
  readonly status: StatusOptions;
  /** The largest request message, in bytes. */
  readonly maxMessageSize: number;
  /** The calls running across requests (shared with Connect's), and their limit. */
  readonly calls: { inFlight: number; readonly maxInFlight: number };
}

/**
 * Answers one gRPC-Web request for the method `name` (`pkg.Service/Method`):
 * an unknown or streaming method is 12 UNIMPLEMENTED, a malformed
 * `grpc-timeout` or a message that does not decode 3 INVALID_ARGUMENT, a
 * message over the limit 8 RESOURCE_EXHAUSTED, all trailers-only; a passed
 * deadline is 4 DEADLINE_EXCEEDED; the handler's outcome travels as a
 * message frame and the trailer frame.
 *
 * @param context the schema, the dispatcher, statuses and limits
 * @param request the HTTP request (a POST with a gRPC-Web content type)
 * @param mode binary or text, from its content type
 * @param name the method's wire name
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
 * const response = await answerGrpcWeb(context, request, "binary", "demo.Twice/Of");
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
): Promise<Response> {
  const refuse = (status: GrpcStatus) => {
    request.body?.cancel().catch(() => {});
    return grpcWebTrailersOnly(mode, status);
  };
  const method = context.schema.method(name);
  const resolved = method === undefined ? undefined : context.dispatch(method.name);
  if (method === undefined || resolved === undefined) {
    return refuse({ code: 12, message: `Method not found: ${name}` });
  }
  if (method.clientStreaming || method.serverStreaming) {
    return refuse({
      code: 12,
      message: `${name} is a streaming method: gRPC-Web serves unary calls only`,
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
  if (calls.inFlight >= calls.maxInFlight) {
    return refuse({ code: 8, message: `Too many calls in flight (limit ${calls.maxInFlight})` });
  }
  calls.inFlight++;
  let result: unknown;
  try {
    result = await invokeWithin(resolved, params, method.name, () => request.signal, deadline);
  } catch (error) {
    return grpcWebReply(mode, undefined, statusOf(error, context.status));
  } finally {
    calls.inFlight--;
  }
  let reply: Uint8Array;
  try {
    reply = method.response.encode(result ?? {});
  } catch (error) {
    context.status.onError(
      new Error(`${method.name} returned a value that is not a ${method.response.name}`, {
        cause: error,
      }),
    );
    const message = context.status.exposeErrors ? String(error) : "Internal error";
    return grpcWebReply(mode, undefined, { code: 13, message });
  }
  return grpcWebReply(mode, reply, undefined);
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
