/**
 * The Connect protocol's client side, unary calls, on `fetch`: calls
 * protobuf services of any Connect server (connect-go, connect-es, parley's
 * {@linkcode connectHandler}) by wire name.
 *
 * @module
 */

import type { ProtoSchema } from "../../codecs/protobuf/schema.ts";
import { ProtocolError, TimeoutError } from "../../rpc/errors.ts";
import type { RpcParams } from "../../rpc/types.ts";
import { BodyTooLargeError, gzipStream, readBody } from "../../rpc/transports/http/_body.ts";
import { codeOfHttpStatus, ConnectError } from "./errors.ts";
import {
  type ConnectFormat,
  decodeBody,
  encodeBody,
  MAX_TIMEOUT_MS,
  mediaTypeOf,
  readErrorBody,
} from "./_wire.ts";

/** Options of {@linkcode connectClient}. */
export interface ConnectClientOptions {
  /** The services' schema, from `loadProto`. */
  readonly schema: ProtoSchema;
  /** `"proto"` (the default, `application/proto`) or `"json"` (`application/json`). */
  readonly format?: ConnectFormat;
  /** Headers sent with every call (authorization, say). */
  readonly headers?: HeadersInit;
  /** Milliseconds before a call gives up, sent as `Connect-Timeout-Ms`; none by default. */
  readonly timeout?: number;
  /** The `fetch` to use; the global one by default (pass one with a TLS client for private CAs). */
  readonly fetch?: typeof fetch;
  /** Largest response body in bytes, after decompression; 16 MiB by default. */
  readonly maxBodySize?: number;
  /** Request bodies larger than this many bytes are sent gzipped; off by default. */
  readonly compressThreshold?: number;
}

/** Per-call options. */
export interface ConnectCallOptions {
  /** Milliseconds before this call gives up (sent as `Connect-Timeout-Ms`). */
  readonly timeout?: number;
  /** Aborts the call. */
  readonly signal?: AbortSignal;
  /** Headers for this call only. */
  readonly headers?: HeadersInit;
}

/** A Connect client: calls by wire name, request and response as plain messages. */
export interface ConnectClient extends AsyncDisposable {
  /** The base URL the method paths are appended to. */
  readonly baseUrl: string;
  /**
   * Calls a unary method.
   *
   * @param method the wire name, such as `"interop.Calculator/Add"`
   * @param params the request message (or an array holding it)
   * @param options timeout, abort signal, headers
   * @returns the response message
   * @throws {ConnectError} the server's error (code, message, details)
   * @throws {TimeoutError} when the timeout passed first
   * @throws {TypeError} for an unknown method or a request that does not fit its type
   */
  call<T = unknown>(method: string, params?: RpcParams, options?: ConnectCallOptions): Promise<T>;
  /** Aborts the calls in flight. */
  close(): Promise<void>;
}

/**
 * Creates a Connect client for the server at `baseUrl` (the part before
 * `/package.Service/Method`, such as `http://127.0.0.1:8080`).
 *
 * @param baseUrl the server's base URL
 * @param options the schema, the format, headers, timeout
 * @returns the client
 *
 * @example Calling a Connect server (here parley's own handler)
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protoService } from "../../codecs/protobuf.ts";
 * import { connectClient, connectHandler } from "../connect.ts";
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
 * await using server = Deno.serve({ port: 0, onListen() {} }, handler);
 * await using client = connectClient(`http://localhost:${server.addr.port}`, {
 *   schema,
 *   format: "json",
 * });
 * assert.deepEqual(await client.call("demo.Greeter/Greet", { name: "Ada" }), {
 *   name: "Hello, Ada",
 * });
 * ```
 */
export function connectClient(baseUrl: string, options: ConnectClientOptions): ConnectClient {
  const base = baseUrl.replace(/\/+$/, "");
  const { schema } = options;
  const format = options.format ?? "proto";
  const doFetch = options.fetch ?? fetch;
  const maxBodySize = options.maxBodySize ?? 16 * 1024 * 1024;
  const compressThreshold = options.compressThreshold ?? Infinity;
  const inFlight = new Set<AbortController>();

  const call = async <T>(
    name: string,
    params?: RpcParams,
    callOptions: ConnectCallOptions = {},
  ): Promise<T> => {
    const method = schema.unary(name);
    if (Array.isArray(params) && params.length > 1) {
      throw new TypeError(
        `${name} takes one ${method.request.name} message, not ${params.length} params`,
      );
    }
    const request = Array.isArray(params) ? params[0] ?? {} : params ?? {};
    let body: Uint8Array = encodeBody(method.request, request, format);
    const headers = new Headers(options.headers);
    new Headers(callOptions.headers).forEach((value, key) => headers.set(key, value));
    headers.set("content-type", mediaTypeOf(format));
    headers.set("connect-protocol-version", "1");
    if (body.length > compressThreshold) {
      body = await new Response(gzipStream(body)).bytes();
      headers.set("content-encoding", "gzip");
    }
    const timeout = callOptions.timeout ?? options.timeout;
    const controller = new AbortController();
    const timer = timeout === undefined || timeout === Infinity ? undefined : setTimeout(
      () => controller.abort(new TimeoutError(name, timeout)),
      timeout,
    );
    if (timeout !== undefined && timeout !== Infinity) {
      headers.set(
        "connect-timeout-ms",
        String(Math.max(1, Math.min(Math.ceil(timeout), MAX_TIMEOUT_MS))),
      );
    }
    const signal = callOptions.signal;
    signal?.throwIfAborted();
    const onAbort = () => controller.abort(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    inFlight.add(controller);
    try {
      const response = await doFetch(`${base}/${method.name}`, {
        method: "POST",
        headers,
        body: body as Uint8Array<ArrayBuffer>,
        signal: controller.signal,
      });
      // fetch asks for compressed replies and inflates them itself.
      let bytes: Uint8Array;
      try {
        bytes = await readBody(response.body, maxBodySize, false);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          throw new ProtocolError(`The reply of ${name} exceeds ${maxBodySize} bytes`, {
            cause: error,
          });
        }
        throw error;
      }
      if (response.status !== 200) {
        const text = new TextDecoder().decode(bytes.subarray(0, 65536));
        throw readErrorBody(text, schema) ??
          new ConnectError(
            codeOfHttpStatus(response.status),
            `HTTP ${response.status}${text.trim() === "" ? "" : `: ${text.trim().slice(0, 200)}`}`,
          );
      }
      try {
        return decodeBody(method.response, bytes, format) as T;
      } catch (error) {
        throw new ProtocolError(
          `The reply of ${name} is not a ${method.response.name}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    } catch (error) {
      throw controller.signal.aborted ? controller.signal.reason : error;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      inFlight.delete(controller);
    }
  };

  const close = (): Promise<void> => {
    for (const controller of inFlight) controller.abort(new ProtocolError("The client was closed"));
    return Promise.resolve();
  };
  return { baseUrl: base, call, close, [Symbol.asyncDispose]: close };
}
