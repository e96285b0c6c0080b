/**
 * What every browser entry exports besides its codec and transport: the
 * errors a call can end with, `Float`, and the contracts' types. Each entry
 * re-exports this module; the bundler keeps only what a page uses.
 *
 * @module
 */

export * from "../rpc/errors.ts";
export { Float, float, floatText, isFloat } from "../rpc/float.ts";
export type * from "../rpc/types.ts";
export type { RpcLimits } from "../rpc/limits.ts";
export { type BatchEntry, type CallOptions, type RpcClient, RpcClientBase } from "../rpc/client.ts";
export type { PeerOptions } from "../rpc/peer.ts";
// Types only: `defineService` and zod stay out of a client's bundle.
export type {
  AnyMethodDefinition,
  CallContext,
  InputOf,
  MethodDefinition,
  OutputOf,
  RemoteService,
  Schema,
  SchemaError,
  SchemaResult,
  Service,
  SERVICE_DEFINITION,
  ServiceDefinition,
  TupleSchema,
} from "../rpc/service.ts";
