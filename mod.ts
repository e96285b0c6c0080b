/**
 * parley: a transport-agnostic RPC core with pluggable codecs, framings and
 * transports. This root module is what a program defines and calls services
 * with: {@linkcode Peer}, the client contract, {@linkcode defineService} and
 * its kin, the errors, the limits, {@linkcode Float} and the core types. It is
 * portable (browsers included) and loads no schema library.
 *
 * Everything else has its own export path, so that a program imports only
 * what it uses: each codec (`./json-rpc`, `./xml-rpc`, `./msgpack-rpc`,
 * `./protobuf`, `./thrift`), the framings (`./framing`, with `framedStream`),
 * each transport, OpenRPC (`./openrpc`), remote objects (`./objects`), the
 * building blocks for codec and transport authors (`./plumbing`) and the
 * test helpers (`./testing`).
 *
 * @example A typed call over an in-memory pair
 * ```ts
 * import assert from "node:assert/strict";
 * import { Peer } from "./mod.ts";
 * import { memoryPair } from "./rpc/testing.ts";
 * import { jsonRpc } from "./codecs/json_rpc.ts";
 *
 * const calculator = { add: (a: number, b: number) => a + b };
 * const [a, b] = memoryPair();
 * const server = new Peer(a, { codec: jsonRpc(), service: calculator });
 * const client = new Peer(b, { codec: jsonRpc() });
 * const calc = client.proxy<typeof calculator>();
 * assert.equal(await calc.add(1, 2), 3);
 * await client.close();
 * await server.closed;
 * ```
 *
 * @module
 */

export * from "./rpc/types.ts";
export * from "./rpc/errors.ts";
export { DEFAULT_LIMITS, type RpcLimits } from "./rpc/limits.ts";
export {
  type AnyMethodDefinition,
  type CallContext,
  defineService,
  type InputOf,
  method,
  type MethodDefinition,
  type OutputOf,
  type RemoteService,
  type Schema,
  type SchemaError,
  type SchemaResult,
  type Service,
  type ServiceDefinition,
  type TupleSchema,
  withContext,
} from "./rpc/service.ts";
export { Float, float, floatText, isFloat } from "./rpc/float.ts";
export { combineServices, listMethods, prefixService } from "./rpc/dispatch.ts";
export { withSystemMethods } from "./rpc/system_methods.ts";
export type { BatchEntry, CallOptions, RpcClient } from "./rpc/client.ts";
export { Peer, type PeerOptions } from "./rpc/peer.ts";
export { backoffDelay, type CallRetry, isIdempotent, type RetryPolicy } from "./rpc/retry.ts";
export type { CallHandler, InterceptedCall, Interceptor } from "./rpc/interceptors.ts";
export {
  errorFields,
  levelOf,
  lineLogger,
  type LineLoggerOptions,
  logErrors,
  type LogFields,
  type Logger,
  logging,
  type LoggingOptions,
  type LogLevel,
} from "./rpc/logging.ts";
export { peerStreams } from "./rpc/peer/streams.ts";
export type { StreamSupport } from "./rpc/peer/options.ts";
export {
  type Connection,
  type ConnectionAddress,
  connectionOf,
  type ConnectionScope,
  type ContextFunction,
  type PeerCertificate,
  principalOf,
  type TypedContext,
  typedContext,
} from "./rpc/connection.ts";
export {
  forwardedCertificate,
  type ForwardedCertificateOptions,
} from "./rpc/forwarded_certificate.ts";
