/**
 * The Connect protocol's server side: a Web-standard
 * `(Request) => Promise<Response>` that serves protobuf services, so that
 * connect-es, connect-go and every other Connect client can call them (and
 * gRPC-Web clients, told apart by content type). Mount it on `serveHttp`
 * (its `handlers`), `Deno.serve`, or any framework that speaks
 * `Request`/`Response`. Unary calls are here; streaming calls in
 * `_stream_call.ts`, gRPC-Web in `_grpc_web_call.ts`.
 *
 * @module
 */

import type { ProtoSchema } from "../../codecs/protobuf/schema.ts";
import { arrivingCall, type CallMetadata } from "../../rpc/call_metadata.ts";
import { createDispatcher } from "../../rpc/dispatch.ts";
import { installed, interceptDispatch, type Interceptor } from "../../rpc/interceptors.ts";
import { resolveLimits, type RpcLimits } from "../../rpc/limits.ts";
import type { Service } from "../../rpc/service.ts";
import type { RpcErrorObject } from "../../rpc/types.ts";
import { CONNECT_CODES, type ConnectCode, ConnectError } from "./errors.ts";
import { formatOf } from "./_wire.ts";
import { essence } from "./_compress.ts";
import { errorsOut } from "./_errors_out.ts";
import { answerConnectUnary, failUnary, type UnaryContext, unaryHeaders } from "./_unary_call.ts";
import { grpcWebModeOf, grpcWebTrailersOnly } from "./_grpc_web.ts";
import { answerGrpcWeb, type GrpcWebContext } from "./_grpc_web_call.ts";
import { answerConnectStream, type ConnectStreamContext, streamFormatOf } from "./_stream_call.ts";
import { type ConnectCors, cors as corsFor } from "./_cors.ts";

/** Options of {@linkcode connectHandler}. */
export interface ConnectHandlerOptions {
  /** The services' schema, from `loadProto`. */
  readonly schema: ProtoSchema;
  /** What is served, keyed by wire name (`interop.Calculator/Add`): `protoService` makes one. */
  readonly service: Service;
  /**
   * The full name of the message type that error `data` travels as, one
   * detail of the Connect error (the calculator's `"interop.InvalidOperation"`).
   */
  readonly errorDetails?: string;
  /**
   * The Connect code of an application error (an `RpcError` whose code is
   * not one of JSON-RPC's); `"unknown"` when absent or when it returns
   * `undefined`. A handler may also throw a `ConnectError` with its code.
   */
  readonly errorCode?: (error: RpcErrorObject) => ConnectCode | undefined;
  /**
   * Largest request body of a unary call in bytes, after decompression, and
   * largest message of a streaming call (as sent, and inflated); 16 MiB by
   * default. Past it: `resource_exhausted` (gRPC-Web: 8).
   */
  readonly maxBodySize?: number;
  /**
   * Replies (and, in streams, reply messages) larger than this many bytes
   * are gzipped for clients that accept it; 1024 by default.
   */
  readonly compressThreshold?: number;
  /**
   * `maxInFlight` counts the calls running across requests, streams
   * included; a JSON message nested beyond `maxDepth` or holding more than
   * `maxItems` items is `invalid_argument`, refused before it is parsed; a
   * streaming call whose request body brings no byte for `idleTimeout` ms
   * while its handler waits for a message ends with `deadline_exceeded` (5
   * minutes by default).
   */
  readonly limits?: Partial<RpcLimits>;
  /**
   * Called as each request arrives, before anything is checked: it may
   * read the request's headers and set the reply's headers and trailers,
   * which every reply carries, failing ones included (the calculator's
   * `x-request-tag` echo). Handlers reach the same object through
   * `callMetadata(ctx)`. Trailers travel as Connect and gRPC-Web carry
   * them: `trailer-` prefixed headers of a unary Connect reply, the
   * end-of-stream message's `metadata`, gRPC-Web's trailer frame.
   */
  readonly onCall?: (metadata: CallMetadata) => void;
  /**
   * Let pages on these origins call (connect-web in a browser): preflights
   * are answered, and every reply's headers are exposed to the page (a
   * gRPC-Web client reads a trailers-only status from them). None by default.
   */
  readonly cors?: ConnectCors;
  /** Refuse requests without `Connect-Protocol-Version: 1` (connect-go's strict mode); off by default. */
  readonly requireProtocolVersion?: boolean;
  /** Send the message and stack of unexpected handler errors (development only). */
  readonly exposeErrors?: boolean;
  /** Told about handler errors and failed requests. */
  readonly onError?: (error: unknown) => void;
  /**
   * Run around every call's handler, the first outermost (see
   * `rpc/interceptors.ts`); their `metadata` is the request's headers.
   */
  readonly interceptors?: readonly Interceptor[];
}

/** A Web-standard request handler. */
export type ConnectHandler = (request: Request) => Promise<Response>;

/**
 * Serves protobuf services with the Connect protocol: `POST
 * /package.Service/Method` (under any prefix). Unary calls take an
 * `application/proto` or `application/json` body (proto3's JSON mapping),
 * `Connect-Protocol-Version: 1`, an optional `Connect-Timeout-Ms` (the
 * handler's signal fires at the deadline and the call answers
 * `deadline_exceeded`), gzip both ways; errors are Connect's JSON error
 * body with its code, HTTP status and details. An unknown method is
 * `unimplemented` with HTTP 404.
 *
 * Streaming methods (server, client and bidi, as `protoService` shapes
 * their handlers) take `application/connect+proto` or
 * `application/connect+json`: enveloped messages both ways, gzip per
 * message, HTTP 200 and the end-of-stream message (the error, the
 * trailers) last. The handler's messages are made as the client reads
 * them; the client's are read as the handler asks for them; the client
 * going away or the deadline stops the handler (its signal aborts, its
 * generator's `finally` runs).
 *
 * The same handler answers gRPC-Web, told apart by content type
 * (`application/grpc-web+proto`, `application/grpc-web-text+proto`): unary
 * and server-streaming calls, length-prefixed messages, the status in a
 * trailer frame (or in the headers when the call is refused before its
 * handler runs), statuses as `serveGrpc` gives them (`errorCode` gives an
 * application error's), `grpc-timeout` as the deadline. A method whose
 * request streams is 12 UNIMPLEMENTED over gRPC-Web.
 *
 * @param options the schema, the service, error mapping and limits
 * @returns the handler
 *
 * @example A Connect call with fetch alone
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protoService } from "../../codecs/protobuf.ts";
 * import { connectHandler } from "./handler.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Name { string name = 1; }
 *   service Greeter { rpc Greet(Name) returns (Name); }
 * `);
 * const handler = connectHandler({
 *   schema,
 *   service: protoService(schema, "demo.Greeter", {
 *     Greet: ({ name }: { name: string }) => ({ name: `Hello, ${name}` }),
 *   }),
 * });
 * const response = await handler(new Request("http://localhost/demo.Greeter/Greet", {
 *   method: "POST",
 *   headers: { "content-type": "application/json", "connect-protocol-version": "1" },
 *   body: JSON.stringify({ name: "Ada" }),
 * }));
 * assert.equal(response.status, 200);
 * assert.deepEqual(await response.json(), { name: "Hello, Ada" });
 * ```
 *
 * @example The same handler answering gRPC-Web (text: base64 both ways)
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protoService } from "../../codecs/protobuf.ts";
 * import { connectHandler } from "./handler.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Name { string name = 1; }
 *   service Greeter { rpc Greet(Name) returns (Name); }
 * `);
 * const handler = connectHandler({
 *   schema,
 *   service: protoService(schema, "demo.Greeter", {
 *     Greet: ({ name }: { name: string }) => ({ name: `Hello, ${name}` }),
 *   }),
 * });
 * const Name = schema.message("demo.Name");
 * const message = Name.encode({ name: "Ada" });
 * const response = await handler(new Request("http://localhost/demo.Greeter/Greet", {
 *   method: "POST",
 *   headers: { "content-type": "application/grpc-web-text+proto" },
 *   body: new Uint8Array([0, 0, 0, 0, message.length, ...message]).toBase64(),
 * }));
 * assert.equal(response.headers.get("content-type"), "application/grpc-web-text+proto");
 * const body = Uint8Array.fromBase64(await response.text());
 * assert.deepEqual(Name.decode(body.subarray(5, 5 + body[4]!)), { name: "Hello, Ada" });
 * assert.match(new TextDecoder().decode(body.subarray(10 + body[4]!)), /^grpc-status: 0\r\n$/);
 * ```
 */
export function connectHandler(options: ConnectHandlerOptions): ConnectHandler {
  const { schema } = options;
  const dispatch = interceptDispatch(
    createDispatcher(options.service),
    installed(options.interceptors),
  );
  const { maxInFlight, idleTimeout, ...limits } = resolveLimits(options.limits);
  const maxBodySize = options.maxBodySize ?? 16 * 1024 * 1024;
  const threshold = options.compressThreshold ?? 1024;
  const onError = options.onError ?? (() => {});
  const expose = options.exposeErrors ?? false;
  const requireProtocolVersion = options.requireProtocolVersion ?? false;
  const mapping = {
    schema,
    exposeErrors: expose,
    onError,
    ...(options.errorDetails === undefined ? {} : { errorDetails: options.errorDetails }),
  };
  const errors = errorsOut({
    ...mapping,
    ...(options.errorCode === undefined ? {} : { errorCode: options.errorCode }),
  });
  const calls = { inFlight: 0, maxInFlight };
  const grpcWeb: GrpcWebContext = {
    schema,
    dispatch,
    status: {
      ...mapping,
      errorStatus: (error) => {
        const code = options.errorCode?.(error);
        return code === undefined ? undefined : CONNECT_CODES[code];
      },
    },
    maxMessageSize: maxBodySize,
    calls,
  };
  const streams: ConnectStreamContext = {
    errors,
    maxMessageSize: maxBodySize,
    limits,
    idleTimeout,
    compressThreshold: threshold,
    requireProtocolVersion,
    calls,
    onError,
  };
  const unary: UnaryContext = {
    errors,
    maxBodySize,
    limits,
    compressThreshold: threshold,
    requireProtocolVersion,
    exposeErrors: expose,
    calls,
    onError,
  };

  const answer = async (request: Request, metadata: CallMetadata): Promise<Response> => {
    const name = methodOfUrl(request.url);
    const contentType = essence(request.headers.get("content-type"));
    const grpcWebMode = request.method === "POST" ? grpcWebModeOf(contentType) : undefined;
    if (grpcWebMode !== undefined) {
      try {
        return await answerGrpcWeb(grpcWeb, request, grpcWebMode, name ?? "", metadata);
      } catch (error) {
        onError(error);
        return grpcWebTrailersOnly(grpcWebMode, { code: 13, message: "Internal error" }, metadata);
      }
    }
    const method = name === undefined ? undefined : schema.method(name);
    const resolved = method === undefined ? undefined : dispatch(method.name);
    const refuse = (status: number, text: string, headers: Record<string, string> = {}) => {
      request.body?.cancel().catch(() => {});
      return new Response(text, { status, headers: unaryHeaders(metadata, headers) });
    };
    if (method === undefined || resolved === undefined) {
      request.body?.cancel().catch(() => {});
      const path = name ?? new URL(request.url).pathname;
      return failUnary(
        errors,
        metadata,
        new ConnectError("unimplemented", `Method not found: ${path}`),
        {},
        404,
      );
    }
    if (request.method !== "POST") return refuse(405, "Method Not Allowed\n", { allow: "POST" });
    if (method.clientStreaming || method.serverStreaming) {
      const format = streamFormatOf(contentType);
      if (format === undefined) {
        return refuse(
          415,
          `Unsupported Media Type: ${method.name} is a streaming method, expected ` +
            "application/connect+proto or application/connect+json\n",
          { "accept-post": "application/connect+proto, application/connect+json" },
        );
      }
      return await answerConnectStream(streams, request, method, resolved, format, metadata);
    }
    const format = formatOf(contentType);
    if (format === undefined) {
      return refuse(
        415,
        "Unsupported Media Type: expected application/proto or application/json\n",
        { "accept-post": "application/proto, application/json" },
      );
    }
    return await answerConnectUnary(unary, request, method, resolved, format, metadata);
  };

  const cors = options.cors === undefined ? undefined : corsFor(options.cors);
  const serve = async (request: Request): Promise<Response> => {
    const metadata = arrivingCall(request.headers, options.onCall, onError);
    try {
      return await answer(request, metadata);
    } catch (error) {
      onError(error);
      return failUnary(errors, metadata, new ConnectError("internal", "Internal error"));
    }
  };
  if (cors === undefined) return serve;
  return async (request) => cors.preflight(request) ?? cors.allow(request, await serve(request));
}

// "/prefix/pkg.Service/Method?query" → "pkg.Service/Method": the last two
// path segments, whatever the handler is mounted under.
function methodOfUrl(url: string): string | undefined {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return undefined;
  let end = url.length;
  const query = url.indexOf("?", start);
  if (query !== -1) end = query;
  const path = url.slice(start, end);
  const last = path.lastIndexOf("/");
  const before = path.lastIndexOf("/", last - 1);
  if (last <= 0 || before === -1) return undefined;
  return path.slice(before + 1);
}
