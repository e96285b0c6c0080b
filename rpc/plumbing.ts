/**
 * The building blocks that codecs, transports and clients are made of, for
 * whoever writes a new one: how a service's methods are found and called
 * (dispatch, context handlers, renaming), how a thrown error becomes an error
 * object, how limits are completed, the one-frame exchange (a `Responder`,
 * what HTTP and NATS serve with), the typed proxy over any call function, the
 * base class of clients, and doubles marked by schema. A program that only
 * defines and calls services needs none of it: the root module has that.
 * Framing a byte stream into messages (`framedStream`) lives with the
 * framings, in `./framing`.
 *
 * @example A proxy over any call function
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProxy } from "./plumbing.ts";
 *
 * const calls: string[] = [];
 * const calc = createProxy<{ add(a: number, b: number): number }>((method, params) => {
 *   calls.push(method);
 *   const [a, b] = params as number[];
 *   return Promise.resolve(a! + b!);
 * });
 * assert.equal(await calc.add(1, 2), 3);
 * assert.deepEqual(calls, ["add"]);
 * ```
 *
 * @module
 */

export {
  contextHandlerOf,
  isServiceDefinition,
  renameMethods,
  type ResolvedMethod,
  SERVICE_DEFINITION,
} from "./service.ts";
export { createDispatcher, type Dispatcher, toErrorObject } from "./dispatch.ts";
export { resolveLimits } from "./limits.ts";
export {
  createDirectResponder,
  createResponder,
  type DirectResponder,
  type ExchangeMetadata,
  type Responder,
  type ResponderOptions,
} from "./responder.ts";
export { type Caller, createProxy } from "./proxy.ts";
export { RpcClientBase } from "./client.ts";
export { containsFloats, hasFloats, markFloats, unwrapFloats } from "./schema_floats.ts";
export { type StreamCaller, type StreamParts, StreamTable } from "./peer/_streams.ts";
export { InboundMessages, OutboundCredit } from "./peer/_stream_flow.ts";
