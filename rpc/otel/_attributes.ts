/**
 * What tracing and metrics both say about a call: its `rpc.system`,
 * service and method, and the code its failure carries, per the
 * OpenTelemetry RPC semantic conventions.
 *
 * @module
 */

import type { Attributes } from "@opentelemetry/api";
import { ErrorCode, RpcError } from "../errors.ts";
import type { InterceptedCall } from "../interceptors.ts";

/** Attribute values, as the OpenTelemetry api takes them. */
export type TelemetryAttributes = Record<
  string,
  string | number | boolean | readonly string[] | readonly number[] | readonly boolean[]
>;

/**
 * A `TracerProvider` of `@opentelemetry/api` (the SDK's, or
 * `trace.getTracerProvider()`), by its one method: parley does not
 * re-export the api's types.
 */
export interface TracerProviderLike {
  /** Gives the tracer of an instrumentation scope. */
  getTracer(name: string, version?: string): object;
}

/** A `MeterProvider` of `@opentelemetry/api`, by its one method. */
export interface MeterProviderLike {
  /** Gives the meter of an instrumentation scope. */
  getMeter(name: string, version?: string): object;
}

/** A `TextMapPropagator` of `@opentelemetry/api` (`W3CTraceContextPropagator`, say). */
export interface PropagatorLike {
  /** Writes the context's trace context into the carrier. */
  inject(context: object, carrier: Headers, setter: object): void;
  /** Reads a trace context from the carrier into a new context. */
  extract(context: object, carrier: Headers, getter: object): object;
  /** The keys it writes. */
  fields(): string[];
}

/** What both interceptors take to describe calls. */
export interface RpcTelemetryOptions {
  /**
   * `rpc.system`: `"jsonrpc"`, `"grpc"` and `"connect_rpc"` are the
   * conventions' values; parley uses `"xmlrpc"`, `"msgpack_rpc"`,
   * `"thrift"` and `"parley_protobuf"` for the codecs the conventions do
   * not name. Unset, a server reads it from the request's `content-type`
   * (gRPC, gRPC-Web, Connect) and takes `"jsonrpc"` otherwise; a client
   * takes `"jsonrpc"`, so give it for a Connect or gRPC client.
   */
  readonly system?: string;
  /** `rpc.service` of methods whose name holds none (JSON-RPC's `add`, say). */
  readonly service?: string;
  /** `server.address`: the server's host (a client's option; a server's own name). */
  readonly serverAddress?: string;
  /** `server.port`. */
  readonly serverPort?: number;
  /** More attributes for every span or measurement (`network.transport`, say). */
  readonly attributes?: TelemetryAttributes;
}

/** A call's name split the conventions' way, and its system. */
export interface CallNames {
  readonly system: string;
  readonly service: string | undefined;
  readonly method: string;
}

/**
 * The call's `rpc.system`, service and method. A gRPC-style name
 * (`pkg.Service/Method`) gives both; a plain one is the method, its
 * service the option's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { namesOf } from "./_attributes.ts";
 *
 * const call = {
 *   method: "demo.Greeter/Greet",
 *   params: {},
 *   kind: "call",
 *   side: "server",
 *   signal: new AbortController().signal,
 *   metadata: new Headers({ "content-type": "application/grpc+proto" }),
 * } as const;
 * assert.deepEqual(namesOf(call, {}), {
 *   system: "grpc",
 *   service: "demo.Greeter",
 *   method: "Greet",
 * });
 * assert.deepEqual(namesOf({ ...call, method: "add", metadata: new Headers() }, { service: "calc" }), {
 *   system: "jsonrpc",
 *   service: "calc",
 *   method: "add",
 * });
 * ```
 */
export function namesOf(call: InterceptedCall, options: RpcTelemetryOptions): CallNames {
  const slash = call.method.lastIndexOf("/");
  const system = options.system ?? systemOf(call);
  return slash > 0
    ? {
      system,
      service: call.method.slice(0, slash).replace(/^\//, ""),
      method: call.method.slice(slash + 1),
    }
    : { system, service: options.service, method: call.method };
}

// A server can tell gRPC and Connect from their content types; everything
// else parley serves over HTTP or streams is JSON-RPC unless told.
function systemOf(call: InterceptedCall): string {
  if (call.side === "client") return "jsonrpc";
  const type = call.metadata.get("content-type");
  if (type === null) return "jsonrpc";
  if (type.startsWith("application/grpc")) return "grpc";
  if (type.startsWith("application/connect+") || call.metadata.has("connect-protocol-version")) {
    return "connect_rpc";
  }
  if (type.startsWith("text/xml")) return "xmlrpc";
  return "jsonrpc";
}

/**
 * The attributes every span and measurement of the call carries.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { callAttributes } from "./_attributes.ts";
 *
 * assert.deepEqual(
 *   callAttributes({ system: "jsonrpc", service: undefined, method: "add" }, { serverPort: 1 }),
 *   { "rpc.system": "jsonrpc", "rpc.method": "add", "server.port": 1 },
 * );
 * ```
 */
export function callAttributes(names: CallNames, options: RpcTelemetryOptions): Attributes {
  const attributes: Attributes = { ...options.attributes, "rpc.system": names.system };
  if (names.service !== undefined) attributes["rpc.service"] = names.service;
  attributes["rpc.method"] = names.method;
  if (options.serverAddress !== undefined) attributes["server.address"] = options.serverAddress;
  if (options.serverPort !== undefined) attributes["server.port"] = options.serverPort;
  return attributes;
}

// JSON-RPC's codes as gRPC statuses, as parley's gRPC and Connect servers send them.
const GRPC_OF_JSON_RPC: Readonly<Record<number, number>> = {
  [ErrorCode.MethodNotFound]: 12,
  [ErrorCode.InvalidParams]: 3,
  [ErrorCode.InvalidRequest]: 3,
  [ErrorCode.ParseError]: 3,
  [ErrorCode.InternalError]: 13,
  [ErrorCode.ServerBusy]: 8,
  [ErrorCode.RequestCancelled]: 1,
};

/**
 * The gRPC status a failure stands for: a Connect error's own code (its
 * `code` is the gRPC number), a JSON-RPC code mapped as parley's gRPC
 * server maps it, UNKNOWN (2) for another `RpcError` code, INTERNAL (13)
 * for any other throw (what parley's gRPC and Connect servers answer it with).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grpcStatusOf } from "./_attributes.ts";
 * import { ErrorCode, RpcError } from "../errors.ts";
 *
 * assert.equal(grpcStatusOf(new RpcError(ErrorCode.MethodNotFound, "no")), 12);
 * assert.equal(grpcStatusOf(new RpcError(42, "app")), 2);
 * assert.equal(grpcStatusOf(new TypeError("bad")), 13);
 * ```
 */
export function grpcStatusOf(error: unknown): number {
  if (error instanceof RpcError) {
    if (typeof (error as { connectCode?: unknown }).connectCode === "string") return error.code;
    return GRPC_OF_JSON_RPC[error.code] ?? 2;
  }
  return 13;
}

// gRPC statuses that a server's span counts as its own failure (the
// conventions: the others are the caller's mistakes).
const SERVER_FAULTS = new Set([2, 4, 12, 13, 14, 15]);

/**
 * The attributes an outcome adds, and whether the span is in error. A
 * client counts every failure; a gRPC or Connect server only the statuses
 * the conventions call server faults, a JSON-RPC server every failure but
 * the caller's (codes -32600 to -32602 and -32700 are the caller's too,
 * but the conventions ask for them, so they are errors here as well).
 *
 * @param system the call's `rpc.system`
 * @param side which end
 * @param error what the call threw, or `undefined` when it succeeded
 * @returns the attributes to add, and whether the outcome is an error
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outcomeOf } from "./_attributes.ts";
 * import { RpcError } from "../errors.ts";
 *
 * assert.deepEqual(outcomeOf("grpc", "server", undefined), {
 *   attributes: { "rpc.grpc.status_code": 0 },
 *   failed: false,
 * });
 * assert.deepEqual(outcomeOf("jsonrpc", "client", new RpcError(-32601, "no")), {
 *   attributes: { "rpc.jsonrpc.error_code": -32601, "error.type": "-32601" },
 *   failed: true,
 * });
 * ```
 */
export function outcomeOf(
  system: string,
  side: "client" | "server",
  error: unknown,
): { attributes: Attributes; failed: boolean } {
  if (system === "grpc" || system === "connect_rpc") {
    const status = error === undefined ? 0 : grpcStatusOf(error);
    const failed = status !== 0 && (side === "client" || SERVER_FAULTS.has(status));
    const attributes: Attributes = { "rpc.grpc.status_code": status };
    if (failed) attributes["error.type"] = String(status);
    return { attributes, failed };
  }
  if (error === undefined) return { attributes: {}, failed: false };
  if (error instanceof RpcError) {
    const attributes: Attributes = system === "jsonrpc"
      ? { "rpc.jsonrpc.error_code": error.code, "error.type": String(error.code) }
      : { "error.type": String(error.code) };
    return { attributes, failed: true };
  }
  return {
    attributes: { "error.type": error instanceof Error ? error.name : "_OTHER" },
    failed: true,
  };
}
