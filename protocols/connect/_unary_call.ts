/**
 * One Connect unary call (`application/proto`, `application/json`): the
 * body read under its limit, the handler called within
 * `Connect-Timeout-Ms`, its reply (or Connect's JSON error body with the
 * code's HTTP status). The call's metadata rides along: its headers as
 * headers, its trailers as `trailer-` prefixed headers.
 *
 * @module
 */

import type { ProtoMethod } from "../../codecs/protobuf/schema.ts";
import type { CallMetadata } from "../../rpc/call_metadata.ts";
import { unwritten } from "../../rpc/_call_headers.ts";
import type { ResolvedMethod } from "../../rpc/service.ts";
import { acceptsGzip, BodyTooLargeError, gzipStream, readMessageBody } from "./_compress.ts";
import { ConnectError, httpStatusOf } from "./errors.ts";
import { encodeReply, type ErrorsOut } from "./_errors_out.ts";
import { type InFlight, invokeCounted, overLimit } from "./_invoke.ts";
import {
  type BodyLimits,
  callTimeout,
  type ConnectFormat,
  decodeBody,
  encodeBody,
  errorBody,
  mediaTypeOf,
} from "./_wire.ts";

/** What a unary call needs from the handler it is served by. */
export interface UnaryContext {
  readonly errors: ErrorsOut;
  /** The largest request body, inflated. */
  readonly maxBodySize: number;
  /** How deep and large a JSON body may be. */
  readonly limits: BodyLimits;
  /** Replies larger than this are gzipped for clients that accept it. */
  readonly compressThreshold: number;
  /** Refuse requests without `Connect-Protocol-Version: 1`. */
  readonly requireProtocolVersion: boolean;
  /** Send the message of unexpected errors. */
  readonly exposeErrors: boolean;
  readonly calls: InFlight;
  readonly onError: (error: unknown) => void;
}

/**
 * A unary reply's headers: the call's headers, its trailers prefixed with
 * `trailer-` (a unary Connect reply has no HTTP trailers), under what the
 * protocol itself sends.
 *
 * @param metadata the call's metadata
 * @param fixed the protocol's own headers
 * @returns the reply's headers: `fixed` itself when the call added none
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unaryHeaders } from "./_unary_call.ts";
 * import { arrivingCall } from "../../rpc/call_metadata.ts";
 *
 * const metadata = {
 *   request: new Headers(),
 *   headers: new Headers({ "x-a": "1" }),
 *   trailers: new Headers({ "x-b": "2" }),
 * };
 * const headers = unaryHeaders(metadata, { "content-type": "application/json" });
 * assert.deepEqual([...new Headers(headers)], [["content-type", "application/json"], ["trailer-x-b", "2"], ["x-a", "1"]]);
 * // A call that added nothing: the protocol's own headers as they are.
 * const fixed = { "content-type": "application/proto" };
 * assert.equal(unaryHeaders(arrivingCall(new Headers(), undefined, () => {}), fixed), fixed);
 * ```
 */
export function unaryHeaders(
  metadata: CallMetadata,
  fixed: Record<string, string>,
): Headers | Record<string, string> {
  // Nothing added by the call (most calls): its own headers as they are.
  if (unwritten(metadata.headers) && unwritten(metadata.trailers)) return fixed;
  const out = new Headers(metadata.headers);
  for (const [name, value] of metadata.trailers) out.append(`trailer-${name}`, value);
  for (const [name, value] of Object.entries(fixed)) out.set(name, value);
  return out;
}

/**
 * A Connect error reply: its JSON body, the code's HTTP status (or
 * `status`), the call's metadata.
 *
 * @param errors the handler's error mapping
 * @param metadata the call's metadata
 * @param error the error
 * @param headers more headers
 * @param status the HTTP status, when not the code's
 * @returns the reply
 */
export function failUnary(
  errors: ErrorsOut,
  metadata: CallMetadata,
  error: ConnectError,
  headers: Record<string, string> = {},
  status?: number,
): Response {
  const { code, message, details } = errors.wireErrorOf(error);
  return new Response(errorBody(code, message, details), {
    status: status ?? httpStatusOf(error.connectCode),
    headers: unaryHeaders(metadata, { "content-type": "application/json", ...headers }),
  });
}

/**
 * Answers one unary Connect request for `method`.
 *
 * @param context limits, error mapping, in-flight calls
 * @param request the HTTP request (a POST with a unary content type)
 * @param method the method
 * @param resolved what the dispatcher found for it
 * @param format the body's format, from its content type
 * @param metadata the call's metadata (`onCall` has seen it)
 * @returns the reply
 */
export async function answerConnectUnary(
  context: UnaryContext,
  request: Request,
  method: ProtoMethod,
  resolved: ResolvedMethod,
  format: ConnectFormat,
  metadata: CallMetadata,
): Promise<Response> {
  const { errors, maxBodySize, calls } = context;
  const fail = (error: ConnectError, headers: Record<string, string> = {}) =>
    failUnary(errors, metadata, error, headers);
  let timeout: number | undefined;
  try {
    timeout = callTimeout(request.headers, context.requireProtocolVersion);
  } catch (error) {
    return fail(errors.connectErrorOf(error));
  }
  const coding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  if (coding !== "identity" && coding !== "gzip") {
    return fail(new ConnectError("unimplemented", `Unsupported Content-Encoding: ${coding}`), {
      "accept-encoding": "gzip",
    });
  }
  let bytes: Uint8Array;
  try {
    bytes = await readMessageBody(request, maxBodySize, coding === "gzip");
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      return fail(
        new ConnectError("resource_exhausted", `Body exceeds the limit of ${maxBodySize} bytes`),
      );
    }
    return fail(new ConnectError("invalid_argument", `Cannot read the body: ${error}`));
  }
  let params: Record<string, unknown>;
  try {
    params = decodeBody(method.request, bytes, format, context.limits);
  } catch (error) {
    return fail(
      new ConnectError(
        "invalid_argument",
        `The body is not a ${method.request.name} (${format}): ${(error as Error).message}`,
      ),
    );
  }
  const busy = overLimit(calls);
  if (busy !== undefined) return fail(busy);
  const deadline = timeout === undefined ? undefined : AbortSignal.timeout(timeout);
  let body: Uint8Array;
  try {
    const call = { handler: resolved, params, method: method.name, request, deadline, metadata };
    const outcome = invokeCounted(calls, call);
    const result = outcome instanceof Promise ? await outcome : outcome;
    body = encodeReply(method, () => encodeBody(method.response, result ?? {}, format), context);
  } catch (error) {
    return fail(errors.connectErrorOf(error));
  }
  const headers: Record<string, string> = { "content-type": mediaTypeOf(format) };
  if (
    body.length > context.compressThreshold && acceptsGzip(request.headers.get("accept-encoding"))
  ) {
    return new Response(gzipStream(body), {
      status: 200,
      headers: unaryHeaders(metadata, {
        ...headers,
        "content-encoding": "gzip",
        vary: "accept-encoding",
      }),
    });
  }
  return new Response(body as Uint8Array<ArrayBuffer>, {
    status: 200,
    headers: unaryHeaders(metadata, headers),
  });
}
