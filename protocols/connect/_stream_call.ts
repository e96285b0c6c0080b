/**
 * One Connect streaming call (`application/connect+proto`,
 * `application/connect+json`): enveloped messages both ways, gzip per
 * message (`connect-content-encoding`, `connect-accept-encoding`),
 * `connect-timeout-ms`, and the end-of-stream message, HTTP 200 always,
 * errors included. Server streaming, client streaming and bidi: `Deno.serve`
 * reads a request body while it writes the reply, over HTTP/1.1 and HTTP/2
 * alike (Deno 2.9, measured).
 *
 * A client stream's reply starts when its handler returns: until then the
 * request body is read only as the handler asks, and what the client sends
 * beyond waits in the sockets' buffers. A bidi call's reply starts at once,
 * and while a reply streams `Deno.serve` reads the request off the socket
 * into a buffer of its own, to see the client close; on HTTP/1.1 that
 * buffer has no bound (Deno 2.9.6: `poll_peer_closed_with` in
 * libs/http_h1/conn.rs; a client writing a body no handler reads grew the
 * server by ~300 MB a second). HTTP/2's flow control bounds it (~1 MB).
 * The version is not visible to a handler, so a bidi call's request body
 * is read here as it arrives, at most `maxMessageSize` bytes beyond one
 * message ahead of the handler: past that, `resource_exhausted`.
 *
 * @module
 */

import type { ProtoMethod } from "../../codecs/protobuf/schema.ts";
import type { CallMetadata } from "../../rpc/call_metadata.ts";
import type { ResolvedMethod } from "../../rpc/service.ts";
import { envelope, EnvelopeReader, FLAG_COMPRESSED, FLAG_END_STREAM } from "./_envelope.ts";
import { acceptsGzip, gunzip, gzip } from "./_compress.ts";
import { endStreamJson } from "./_end_stream.ts";
import { encodeReply, type ErrorsOut } from "./_errors_out.ts";
import { overLimit } from "./_invoke.ts";
import { RequestMessages } from "./_stream_input.ts";
import { type InFlight, runStream, type StreamWire } from "./_stream_run.ts";
import {
  type BodyLimits,
  callTimeout,
  type ConnectFormat,
  decodeBody,
  encodeBody,
} from "./_wire.ts";
import { ConnectError } from "./errors.ts";

/** What a streaming call needs from the handler it is served by. */
export interface ConnectStreamContext {
  readonly errors: ErrorsOut;
  /** The largest message each way, in bytes (inflated, and as sent). */
  readonly maxMessageSize: number;
  /** How deep and large a JSON message may be. */
  readonly limits: BodyLimits;
  /** Milliseconds the request body may go without a byte while the handler waits for a message. */
  readonly idleTimeout: number;
  /** Reply messages larger than this are gzipped for clients that accept it. */
  readonly compressThreshold: number;
  /** Refuse requests without `Connect-Protocol-Version: 1`. */
  readonly requireProtocolVersion: boolean;
  readonly calls: InFlight;
  readonly onError: (error: unknown) => void;
}

/** The streaming content type of a format. */
export function streamMediaTypeOf(format: ConnectFormat): string {
  return `application/connect+${format}`;
}

/**
 * The format of a streaming media type (its essence), or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { streamFormatOf } from "./_stream_call.ts";
 *
 * assert.equal(streamFormatOf("application/connect+json"), "json");
 * assert.equal(streamFormatOf("application/proto"), undefined);
 * ```
 */
export function streamFormatOf(essence: string): ConnectFormat | undefined {
  if (essence === "application/connect+proto") return "proto";
  if (essence === "application/connect+json") return "json";
  return undefined;
}

const ACCEPT_ENCODING = "gzip";

/**
 * Answers one Connect streaming request for `method`, a streaming method
 * the dispatcher serves.
 *
 * @param context limits, error mapping, in-flight calls
 * @param request the HTTP request (a POST with a streaming content type)
 * @param method the method
 * @param handler what the dispatcher found for it
 * @param format the messages' format, from the content type
 * @param metadata the call's metadata (`onCall` has seen it)
 * @returns the reply: HTTP 200, its messages, the end-of-stream message
 */
export async function answerConnectStream(
  context: ConnectStreamContext,
  request: Request,
  method: ProtoMethod,
  handler: Pick<ResolvedMethod, "invoke">,
  format: ConnectFormat,
  metadata: CallMetadata,
): Promise<Response> {
  const { errors, maxMessageSize, calls } = context;
  let gzipReplies = false;
  // The handler's headers, under the protocol's own (made when the reply starts).
  const headers = () => {
    const out = new Headers(metadata.headers);
    out.set("content-type", streamMediaTypeOf(format));
    out.set("connect-accept-encoding", ACCEPT_ENCODING);
    if (gzipReplies) out.set("connect-content-encoding", "gzip");
    return out;
  };
  const end = (error: unknown) => {
    const wire = error === undefined ? undefined : errors.wireErrorOf(errors.connectErrorOf(error));
    return envelope(FLAG_END_STREAM, endStreamJson(wire, metadata.trailers));
  };
  // Refused before the handler runs: the end-of-stream message alone.
  const refuse = (error: ConnectError) => {
    request.body?.cancel().catch(() => {});
    return new Response(end(error), { status: 200, headers: headers() });
  };

  let timeout: number | undefined;
  try {
    timeout = callTimeout(request.headers, context.requireProtocolVersion);
  } catch (error) {
    return refuse(error as ConnectError);
  }
  const coding = (request.headers.get("connect-content-encoding") ?? "identity").toLowerCase();
  if (coding !== "identity" && coding !== "gzip") {
    return refuse(
      new ConnectError(
        "unimplemented",
        `Unsupported connect-content-encoding: ${coding} (supported: ${ACCEPT_ENCODING}, identity)`,
      ),
    );
  }
  const busy = overLimit(calls);
  if (busy !== undefined) return refuse(busy);
  // The deadline runs from the headers' arrival, reading the request included.
  const deadline = timeout === undefined ? undefined : AbortSignal.timeout(timeout);
  const input = new RequestMessages(
    new EnvelopeReader(request.body, {
      maxSize: maxMessageSize,
      idleTimeout: context.idleTimeout,
      // A bidi call's reply streams while the request does: Deno.serve then
      // reads the request off the socket into a buffer of its own, without
      // bound on HTTP/1.1 (module doc). Read here, the body is bounded.
      ...(method.serverStreaming ? { readAhead: maxMessageSize } : {}),
    }),
    async (data, compressed) => {
      if (compressed && coding !== "gzip") {
        throw new ConnectError(
          "invalid_argument",
          "Protocol error: a compressed message without a connect-content-encoding",
        );
      }
      const bytes = compressed ? await gunzip(data, maxMessageSize) : data;
      try {
        return decodeBody(method.request, bytes, format, context.limits);
      } catch (error) {
        throw new ConnectError(
          "invalid_argument",
          `A message is not a ${method.request.name} (${format}): ${(error as Error).message}`,
        );
      }
    },
  );
  gzipReplies = acceptsGzip(request.headers.get("connect-accept-encoding"));
  const wire: StreamWire = {
    async message(value) {
      const bytes = encodeReply(
        method,
        () => encodeBody(method.response, value ?? {}, format),
        { exposeErrors: false, onError: context.onError },
      );
      if (gzipReplies && bytes.length > context.compressThreshold) {
        return envelope(FLAG_COMPRESSED, await gzip(bytes));
      }
      return envelope(0, bytes);
    },
    end,
  };
  const body = await runStream({
    method,
    handler,
    request: method.clientStreaming ? undefined : () => input.single(),
    input,
    metadata,
    deadline,
    calls,
    wire,
  });
  // The handler has started: what it set in the headers goes out now.
  return new Response(body, { status: 200, headers: headers() });
}
