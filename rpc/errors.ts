/**
 * The error model: {@linkcode RpcError} for errors that travel between peers,
 * and one class per kind of local failure.
 *
 * @module
 */

import type { RpcErrorObject } from "./types.ts";

/**
 * The error codes every codec maps (see the interop contract).
 *
 * @example What a call to a method the server lacks receives
 * ```ts
 * import assert from "node:assert/strict";
 * import { ErrorCode, RpcError } from "./errors.ts";
 * import { Peer } from "./peer.ts";
 * import { memoryPair } from "./testing.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const [a, b] = memoryPair();
 * const server = new Peer(a, { codec: jsonRpc(), service: {} });
 * await using client = new Peer(b, { codec: jsonRpc() });
 * await assert.rejects(
 *   client.call("missing"),
 *   (error) => error instanceof RpcError && error.code === ErrorCode.MethodNotFound,
 * );
 * await client.close();
 * await server.closed;
 * ```
 */
export const ErrorCode = {
  /** The frame could not be parsed. */
  ParseError: -32700,
  /** The message is not a valid request. */
  InvalidRequest: -32600,
  /** The method does not exist or is not exposed. */
  MethodNotFound: -32601,
  /** The params are missing, extra or of the wrong type. */
  InvalidParams: -32602,
  /** The server failed while handling the call. */
  InternalError: -32603,
  /** The server is shutting down or over its limit of calls in flight. */
  ServerBusy: -32000,
  /** The call was cancelled by the caller. */
  RequestCancelled: -32800,
} as const;

/**
 * An error that travels between peers: a numeric code, a message and optional
 * data. Thrown by a handler, it becomes the error reply as it is; a remote
 * error arrives as an `RpcError` carrying the remote's code and data.
 *
 * @example Throwing an application error from a handler
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpcError } from "./errors.ts";
 * import { Peer } from "./peer.ts";
 * import { memoryPair } from "./testing.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const service = {
 *   divide(a: number, b: number) {
 *     if (b === 0) throw new RpcError(1, "Division by zero", { whatOp: 4 });
 *     return a / b;
 *   },
 * };
 * const [a, b] = memoryPair();
 * const server = new Peer(a, { codec: jsonRpc(), service });
 * const client = new Peer(b, { codec: jsonRpc() });
 * await assert.rejects(client.call("divide", [1, 0]), (error) => {
 *   assert.ok(error instanceof RpcError);
 *   assert.equal(error.code, 1);
 *   assert.equal(error.message, "Division by zero");
 *   assert.deepEqual(error.data, { whatOp: 4 });
 *   return true;
 * });
 * await client.close();
 * await server.closed;
 * ```
 */
export class RpcError extends Error {
  /** The error's code, from {@linkcode ErrorCode} or the application's own. */
  readonly code: number;
  /** Additional data sent along with the error. */
  readonly data: unknown;

  /**
   * Creates the error.
   *
   * @param code the error's code
   * @param message a short description
   * @param data anything else the caller should know
   * @param options standard error options, such as `cause`
   */
  constructor(code: number, message: string, data?: unknown, options?: ErrorOptions) {
    super(message, options);
    this.name = "RpcError";
    this.code = code;
    this.data = data;
  }

  /**
   * Builds an `RpcError` from an error object received from the peer. A
   * codec may decode an error reply straight into an `RpcError` of its own
   * kind (Thrift's declared exceptions): that one is used as it is.
   *
   * @param error the error object of an error reply
   * @returns the error, with the remote's code, message and data
   */
  static from(error: RpcErrorObject): RpcError {
    if (error instanceof RpcError) return error;
    return new RpcError(error.code, error.message, error.data);
  }

  /**
   * The error object for the wire.
   *
   * @returns the code, message and (when present) data
   */
  toObject(): RpcErrorObject {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}

/**
 * Bytes that cannot be decoded. Carries the codec's or framing's name and,
 * where known, the byte offset at which decoding failed.
 *
 * @example A frame that is not JSON
 * ```ts
 * import assert from "node:assert/strict";
 * import { DecodeError } from "./errors.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * assert.throws(() => jsonRpc().decode("{"), DecodeError);
 * ```
 */
export class DecodeError extends SyntaxError {
  /** The codec or framing that failed. */
  readonly format: string;
  /** The byte offset of the failure, when known. */
  readonly offset: number | undefined;

  /**
   * Creates the error.
   *
   * @param format the codec or framing that failed, such as `"jsonrpc"`
   * @param message what is wrong
   * @param offset the byte offset of the failure, when known
   * @param options standard error options, such as `cause`
   */
  constructor(format: string, message: string, offset?: number, options?: ErrorOptions) {
    super(
      `Cannot decode ${format} frame: ${message}${
        offset === undefined ? "" : ` at offset ${offset}`
      }`,
      options,
    );
    this.name = "DecodeError";
    this.format = format;
    this.offset = offset;
  }
}

/**
 * A frame larger than the configured maximum; raised before it is buffered.
 *
 * @example A line longer than the framing allows
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameSizeError } from "./errors.ts";
 * import { newline } from "./framing/delimiter.ts";
 *
 * const lines = ReadableStream.from([new TextEncoder().encode("0123456789\n")])
 *   .pipeThrough(newline({ maxFrameSize: 4 }).decoder());
 * await assert.rejects(Array.fromAsync(lines), FrameSizeError);
 * ```
 */
export class FrameSizeError extends RangeError {
  /** The frame's declared or observed size in bytes. */
  readonly size: number;
  /** The maximum allowed size in bytes. */
  readonly limit: number;

  /**
   * Creates the error.
   *
   * @param size the frame's declared or observed size in bytes
   * @param limit the maximum allowed size in bytes
   */
  constructor(size: number, limit: number) {
    super(`Frame of ${size} bytes exceeds the limit of ${limit} bytes`);
    this.name = "FrameSizeError";
    this.size = size;
    this.limit = limit;
  }
}

/**
 * A limit other than the frame size was hit (depth, batch, calls in flight).
 *
 * @example Encoding a value nested deeper than `maxDepth`
 * ```ts
 * import assert from "node:assert/strict";
 * import { LimitError } from "./errors.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const deep = [[[[1]]]];
 * assert.throws(
 *   () => jsonRpc({ maxDepth: 2 }).encode({ kind: "request", id: 1, method: "m", params: deep }),
 *   (error) => error instanceof LimitError && error.limitName === "maxDepth",
 * );
 * ```
 */
export class LimitError extends RangeError {
  /** The name of the limit, such as `"maxDepth"`. */
  readonly limitName: string;
  /** The limit's value. */
  readonly limit: number;

  /**
   * Creates the error.
   *
   * @param limitName the name of the limit, such as `"maxDepth"`
   * @param limit the limit's value
   * @param message what exceeded it
   */
  constructor(limitName: string, limit: number, message: string) {
    super(`${message}: exceeds ${limitName} of ${limit}`);
    this.name = "LimitError";
    this.limitName = limitName;
    this.limit = limit;
  }
}

/**
 * The connection closed while calls were pending, or a call was made after.
 *
 * @example A call after close
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionClosedError } from "./errors.ts";
 * import { Peer } from "./peer.ts";
 * import { memoryPair } from "./testing.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const [a, b] = memoryPair();
 * const server = new Peer(a, { codec: jsonRpc(), service: {} });
 * const client = new Peer(b, { codec: jsonRpc() });
 * await client.close();
 * await assert.rejects(client.call("anything"), ConnectionClosedError);
 * await server.closed;
 * ```
 */
export class ConnectionClosedError extends Error {
  /**
   * Creates the error.
   *
   * @param message what happened
   * @param options standard error options; `cause` is why the connection ended
   */
  constructor(message = "Connection closed", options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectionClosedError";
  }

  /**
   * The error a client's calls fail with when it closes: "Connection
   * closed", with `reason` (when given) as its `cause`.
   *
   * @param reason why it closed
   * @returns the error
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ConnectionClosedError } from "./errors.ts";
   *
   * assert.equal(ConnectionClosedError.closed("shutting down").cause, "shutting down");
   * assert.ok(!("cause" in ConnectionClosedError.closed()));
   * ```
   */
  static closed(reason?: unknown): ConnectionClosedError {
    return new ConnectionClosedError(
      "Connection closed",
      reason === undefined ? undefined : { cause: reason },
    );
  }
}

/**
 * A call got no reply within its timeout.
 *
 * @example A server that never answers
 * ```ts
 * import assert from "node:assert/strict";
 * import { TimeoutError } from "./errors.ts";
 * import { Peer } from "./peer.ts";
 * import { withContext } from "./service.ts";
 * import { memoryPair } from "./testing.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * // Never answers, but stops when the caller gives up.
 * const wait = withContext(({ signal }) =>
 *   new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))
 * );
 * const [a, b] = memoryPair();
 * const server = new Peer(a, { codec: jsonRpc(), service: { wait } });
 * const client = new Peer(b, { codec: jsonRpc() });
 * await assert.rejects(client.call("wait", [], { timeout: 10 }), TimeoutError);
 * await client.close();
 * await server.closed;
 * ```
 */
export class TimeoutError extends Error {
  /** The method that timed out. */
  readonly method: string;
  /** The timeout in milliseconds. */
  readonly timeout: number;

  /**
   * Creates the error.
   *
   * @param method the method that timed out
   * @param timeout the timeout in milliseconds
   */
  constructor(method: string, timeout: number) {
    super(`Call to "${method}" timed out after ${timeout} ms`);
    this.name = "TimeoutError";
    this.method = method;
    this.timeout = timeout;
  }
}

/**
 * The peer broke the protocol (for example a reply to an unknown id, or a
 * result that does not match the service's definition).
 *
 * @example A result of the wrong type, caught by the typed proxy
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { ProtocolError } from "./errors.ts";
 * import { Peer } from "./peer.ts";
 * import { defineService, method } from "./service.ts";
 * import { memoryPair } from "./testing.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const definition = defineService({
 *   add: method({
 *     params: z.tuple([z.number(), z.number()]),
 *     result: z.number(),
 *     handler: (a, b) => a + b,
 *   }),
 * });
 * const [a, b] = memoryPair();
 * const server = new Peer(a, { codec: jsonRpc(), service: { add: () => "three" } });
 * const client = new Peer(b, { codec: jsonRpc() });
 * await assert.rejects(client.proxy(definition).add(1, 2), ProtocolError);
 * await client.close();
 * await server.closed;
 * ```
 */
export class ProtocolError extends Error {
  /**
   * Creates the error.
   *
   * @param message what the peer did wrong
   * @param options standard error options, such as `cause`
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProtocolError";
  }
}
