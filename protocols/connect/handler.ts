/**
 * The Connect protocol's server side, unary calls: a Web-standard
 * `(Request) => Promise<Response>` that serves protobuf services, so that
 * connect-es, connect-go and every other Connect client can call them. Mount
 * it on `serveHttp` (its `handlers`), `Deno.serve`, or any framework that
 * speaks `Request`/`Response`.
 *
 * @module
 */

import type { ProtoMethod, ProtoSchema } from "../../codecs/protobuf/schema.ts";
import { createDispatcher } from "../../rpc/dispatch.ts";
import { RpcError } from "../../rpc/errors.ts";
import { resolveLimits, type RpcLimits } from "../../rpc/limits.ts";
import type { Service } from "../../rpc/service.ts";
import type { RpcErrorObject } from "../../rpc/types.ts";
import {
  acceptsGzip,
  BodyTooLargeError,
  essence,
  gzipStream,
  readBody,
} from "../../rpc/transports/http/_body.ts";
import {
  CONNECT_CODES,
  type ConnectCode,
  connectCodeOf,
  ConnectError,
  httpStatusOf,
} from "./errors.ts";
import {
  type ConnectFormat,
  decodeBody,
  encodeBody,
  errorBody,
  formatOf,
  MAX_TIMEOUT_MS,
  mediaTypeOf,
} from "./_wire.ts";
import { invokeWithin } from "./_invoke.ts";
import { grpcWebModeOf, grpcWebTrailersOnly } from "./_grpc_web.ts";
import { answerGrpcWeb, type GrpcWebContext } from "./_grpc_web_call.ts";

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
  /** Largest request body in bytes, after decompression; 16 MiB by default. */
  readonly maxBodySize?: number;
  /** Replies larger than this many bytes are gzipped for clients that accept it; 1024 by default. */
  readonly compressThreshold?: number;
  /**
   * `maxInFlight` counts the calls running across requests; a JSON body
   * nested beyond `maxDepth` or holding more than `maxItems` items is
   * `invalid_argument`, refused before it is parsed.
   */
  readonly limits?: Partial<RpcLimits>;
  /** Refuse requests without `Connect-Protocol-Version: 1` (connect-go's strict mode); off by default. */
  readonly requireProtocolVersion?: boolean;
  /** Send the message and stack of unexpected handler errors (development only). */
  readonly exposeErrors?: boolean;
  /** Told about handler errors and failed requests. */
  readonly onError?: (error: unknown) => void;
}

/** A Web-standard request handler. */
export type ConnectHandler = (request: Request) => Promise<Response>;

const TIMEOUT = /^\d{1,10}$/;

/**
 * Serves protobuf services with the Connect protocol's unary calls: `POST
 * /package.Service/Method` (under any prefix) with an `application/proto` or
 * `application/json` body (proto3's JSON mapping), `Connect-Protocol-Version:
 * 1`, an optional `Connect-Timeout-Ms` (the handler's signal fires at the
 * deadline and the call answers `deadline_exceeded`), gzip both ways.
 * Errors are Connect's JSON error body with its code, HTTP status and
 * details. An unknown method is `unimplemented` with HTTP 404.
 *
 * The same handler answers gRPC-Web's unary calls, told apart by content
 * type (`application/grpc-web+proto`, `application/grpc-web-text+proto`):
 * length-prefixed messages, the status in a trailer frame (or in the
 * headers when the call is refused before its handler runs), statuses as
 * `serveGrpc` gives them (`errorCode` gives an application error's),
 * `grpc-timeout` as the deadline. A streaming method is 12 UNIMPLEMENTED.
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
  const dispatch = createDispatcher(options.service);
  const { maxInFlight, ...limits } = resolveLimits(options.limits);
  const maxBodySize = options.maxBodySize ?? 16 * 1024 * 1024;
  const threshold = options.compressThreshold ?? 1024;
  const onError = options.onError ?? (() => {});
  const expose = options.exposeErrors ?? false;
  const details = options.errorDetails === undefined
    ? undefined
    : schema.message(options.errorDetails);
  const calls = { inFlight: 0, maxInFlight };
  const grpcWeb: GrpcWebContext = {
    schema,
    dispatch,
    status: {
      schema,
      exposeErrors: expose,
      onError,
      ...(options.errorDetails === undefined ? {} : { errorDetails: options.errorDetails }),
      errorStatus: (error) => {
        const code = options.errorCode?.(error);
        return code === undefined ? undefined : CONNECT_CODES[code];
      },
    },
    maxMessageSize: maxBodySize,
    calls,
  };

  const fail = (error: ConnectError, headers: Record<string, string> = {}, status?: number) => {
    const encoded = error.details.flatMap((d) => {
      if (d.value instanceof Uint8Array) return [{ type: d.type, value: d.value }];
      try {
        return [{ type: d.type, value: schema.message(d.type).encode(d.value) }];
      } catch (cause) {
        onError(cause);
        return [];
      }
    });
    return new Response(errorBody(error.connectCode, error.message, encoded), {
      status: status ?? httpStatusOf(error.connectCode),
      headers: { "content-type": "application/json", ...headers },
    });
  };

  // What a handler threw, as a Connect error.
  const connectErrorOf = (error: unknown): ConnectError => {
    if (error instanceof ConnectError) return error;
    if (!(error instanceof RpcError)) {
      onError(error);
      const message = expose && error instanceof Error ? error.message : "Internal error";
      return new ConnectError("internal", message || "Internal error");
    }
    const object = error.toObject();
    const code = connectCodeOf(object, options.errorCode?.(object) ?? "unknown");
    let found: { type: string; value: unknown }[] = [];
    if (details !== undefined && object.data !== undefined) {
      try {
        found = [{ type: details.name, value: details.encode(object.data) }];
      } catch {
        found = []; // data of another shape (zod's issues, say) does not travel
      }
    }
    return new ConnectError(code, object.message, found);
  };

  const run = async (
    method: ProtoMethod,
    request: Request,
    format: ConnectFormat,
    timeout: number | undefined,
  ): Promise<Response> => {
    const resolved = dispatch(method.name);
    if (resolved === undefined) {
      return fail(new ConnectError("unimplemented", `Method not found: ${method.name}`), {}, 404);
    }
    const coding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
    if (coding !== "identity" && coding !== "gzip") {
      return fail(
        new ConnectError("unimplemented", `Unsupported Content-Encoding: ${coding}`),
        { "accept-encoding": "gzip" },
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = await readBody(request.body, maxBodySize, coding === "gzip");
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
      params = decodeBody(method.request, bytes, format, limits);
    } catch (error) {
      return fail(
        new ConnectError(
          "invalid_argument",
          `The body is not a ${method.request.name} (${format}): ${(error as Error).message}`,
        ),
      );
    }
    if (calls.inFlight >= maxInFlight) {
      return fail(
        new ConnectError("resource_exhausted", `Too many calls in flight (limit ${maxInFlight})`),
      );
    }
    const deadline = timeout === undefined ? undefined : AbortSignal.timeout(timeout);
    calls.inFlight++;
    let result: unknown;
    try {
      result = await invokeWithin(resolved, params, method.name, () => request.signal, deadline);
    } catch (error) {
      return fail(connectErrorOf(error));
    } finally {
      calls.inFlight--;
    }
    let body: Uint8Array;
    try {
      body = encodeBody(method.response, result ?? {}, format);
    } catch (error) {
      onError(
        new Error(`${method.name} returned a value that is not a ${method.response.name}`, {
          cause: error,
        }),
      );
      return fail(new ConnectError("internal", expose ? String(error) : "Internal error"));
    }
    const headers: Record<string, string> = { "content-type": mediaTypeOf(format) };
    if (body.length > threshold && acceptsGzip(request.headers.get("accept-encoding"))) {
      return new Response(gzipStream(body), {
        status: 200,
        headers: { ...headers, "content-encoding": "gzip", "vary": "accept-encoding" },
      });
    }
    return new Response(body as Uint8Array<ArrayBuffer>, { status: 200, headers });
  };

  return async (request) => {
    const name = methodOfUrl(request.url);
    const grpcWebMode = request.method === "POST"
      ? grpcWebModeOf(essence(request.headers.get("content-type")))
      : undefined;
    if (grpcWebMode !== undefined) {
      try {
        return await answerGrpcWeb(grpcWeb, request, grpcWebMode, name ?? "");
      } catch (error) {
        onError(error);
        return grpcWebTrailersOnly(grpcWebMode, { code: 13, message: "Internal error" });
      }
    }
    const method = name === undefined ? undefined : schema.method(name);
    if (method === undefined || method.clientStreaming || method.serverStreaming) {
      request.body?.cancel().catch(() => {});
      return fail(
        new ConnectError(
          "unimplemented",
          `Method not found: ${name ?? new URL(request.url).pathname}`,
        ),
        {},
        404,
      );
    }
    if (request.method !== "POST") {
      request.body?.cancel().catch(() => {});
      return new Response("Method Not Allowed\n", { status: 405, headers: { allow: "POST" } });
    }
    const format = formatOf(essence(request.headers.get("content-type")));
    if (format === undefined) {
      request.body?.cancel().catch(() => {});
      return new Response(
        "Unsupported Media Type: expected application/proto or application/json\n",
        {
          status: 415,
          headers: { "accept-post": "application/proto, application/json" },
        },
      );
    }
    const version = request.headers.get("connect-protocol-version");
    if (version !== null ? version !== "1" : options.requireProtocolVersion === true) {
      return fail(
        new ConnectError("invalid_argument", 'Connect-Protocol-Version must be "1"'),
      );
    }
    const timeoutHeader = request.headers.get("connect-timeout-ms");
    if (timeoutHeader !== null && !TIMEOUT.test(timeoutHeader)) {
      return fail(
        new ConnectError("invalid_argument", "Connect-Timeout-Ms must be 1 to 10 digits"),
      );
    }
    const timeout = timeoutHeader === null
      ? undefined
      : Math.min(Number(timeoutHeader), MAX_TIMEOUT_MS);
    try {
      return await run(method, request, format, timeout);
    } catch (error) {
      onError(error);
      return fail(new ConnectError("internal", "Internal error"));
    }
  };
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
