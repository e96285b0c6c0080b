/**
 * The Thrift codec: services from `.thrift` IDL loaded at run time
 * ({@linkcode loadThrift}), on the wire through Apache Thrift's own
 * TBinaryProtocol and TCompactProtocol from the `thrift` npm package, so
 * that Apache Thrift's clients and servers in every language are peers.
 *
 * A Thrift message is one frame: on TCP, `lengthPrefix()` is Thrift's
 * *framed* transport and `selfDelimiting(codec.measure)` its *buffered*
 * one (each message delimits itself); over HTTP one message per POST
 * (THttpServer style); on a WebSocket one binary message each.
 *
 * | parley | Thrift |
 * |---|---|
 * | request `add`, params `[1, 2]` or `{num1: 1, num2: 2}` | CALL `add`, the args struct by field id |
 * | notification | ONEWAY (seqid 0) |
 * | result | REPLY, field 0 `success` (empty struct for `void`) |
 * | an error whose `data` fits a declared exception | REPLY with that exception's field set |
 * | -32601 / -32600 / -32602 / other errors | EXCEPTION: TApplicationException UNKNOWN_METHOD / INVALID_MESSAGE_TYPE / PROTOCOL_ERROR / INTERNAL_ERROR |
 *
 * Ids travel as 32-bit sequence ids; each connection maps them back. A
 * declared exception reaches the caller as an error whose `data` is the
 * exception's fields (its code and message from `exceptionError`). Fields
 * of the wrong type (another wire type than the IDL's, or a non-empty
 * container of other element types, at any depth) and unknown fields are
 * skipped, as Thrift requires. A call's arguments are read as Apache
 * Thrift's C++ server reads them: an absent field (never sent, or skipped)
 * of default requiredness holds its IDL default, else its type's zero value
 * (false, 0, "", empty), so that the handler gets a value for every
 * argument; a required one left missing is invalid params, answered
 * PROTOCOL_ERROR. Replies keep absent fields absent. A message that cannot
 * be read closes the connection (a Thrift stream cannot resynchronise).
 *
 * With `multiplexed: true` the codec speaks TMultiplexedProtocol: methods
 * travel as `Service:method`, and several services share one port (serve an
 * object keyed by those names, which {@linkcode thriftService} makes).
 *
 * @example A call and its reply through TBinaryProtocol
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadThrift, thriftRpc } from "./thrift.ts";
 *
 * const schema = loadThrift("service Adder { i64 add(1: i64 a, 2: i64 b) }");
 * const client = thriftRpc({ schema }).fork!();
 * const server = thriftRpc({ schema }).fork!();
 * const call = server.decode(client.encode({ kind: "request", id: 1, method: "add", params: [2, 40] }));
 * assert.deepEqual(call, { kind: "request", id: 1, method: "add", params: [2n, 40n] });
 * const reply = server.encode({ kind: "result", id: 1, result: 42n });
 * assert.deepEqual(client.decode(reply), { kind: "result", id: 1, result: 42n });
 * ```
 *
 * @module
 */

import type { Codec } from "../rpc/types.ts";
import { type Settings, ThriftCodec } from "./thrift/_codec.ts";
import { defaultExceptionError } from "./thrift/_exceptions.ts";
import type { ThriftSchema } from "./thrift/schema.ts";

export {
  loadThrift,
  type ThriftField,
  type ThriftFunction,
  type ThriftSchema,
  type ThriftService,
  type ThriftStruct,
  type ThriftType,
} from "./thrift/schema.ts";
export { ThriftReadError, ThriftValueError } from "./thrift/_errors.ts";
export { TApplicationExceptionType, ThriftException } from "./thrift/_exceptions.ts";
export { thriftService } from "./thrift/service.ts";

/** Options of {@linkcode thriftRpc}. */
export interface ThriftRpcOptions {
  /** The IDL, from {@linkcode loadThrift}. */
  readonly schema: ThriftSchema;
  /** The service whose functions are called by bare name; the schema's only service by default. */
  readonly service?: string;
  /** `"binary"` (TBinaryProtocol, the default) or `"compact"` (TCompactProtocol). */
  readonly protocol?: "binary" | "compact";
  /** Speak TMultiplexedProtocol: methods as `Service:method`. */
  readonly multiplexed?: boolean;
  /**
   * The code and message of the error a declared exception becomes for the
   * caller; `data` is always the exception's fields. By default code 1 and
   * the exception's first string field (else its name).
   */
  readonly exceptionError?: (
    exception: string,
    fields: Record<string, unknown>,
  ) => { code: number; message: string };
  /** Largest message `measure()` waits for, in bytes; 16 MiB by default. */
  readonly maxSize?: number;
  /** How many calls in flight a connection keeps the function of, each way; 65,536 by default. */
  readonly maxInFlight?: number;
}

/**
 * Creates the Thrift codec for a schema.
 *
 * @param options the schema, the service, the protocol, multiplexing
 * @returns the codec (binary; fork one per connection, as peers do)
 * @throws {Error} when `service` is not in the schema, or the schema has
 * several services and none is named (unless multiplexed)
 *
 * @example Two peers over TCompactProtocol, with named params
 * ```ts
 * import assert from "node:assert/strict";
 * import { Peer } from "../rpc/peer.ts";
 * import { memoryPair } from "../rpc/testing.ts";
 * import { loadThrift, thriftRpc } from "./thrift.ts";
 *
 * const schema = loadThrift("service Greeter { string greet(1: string name, 2: i32 times) }");
 * const [a, b] = memoryPair();
 * const server = new Peer(a, {
 *   codec: thriftRpc({ schema, protocol: "compact" }),
 *   service: { greet: (name: string, times: number) => `Hello, ${name}`.repeat(times) },
 * });
 * const client = new Peer(b, { codec: thriftRpc({ schema, protocol: "compact" }) });
 * // Params by position or by field name: both become the args struct.
 * assert.equal(await client.call("greet", ["Ada", 1]), "Hello, Ada");
 * assert.equal(await client.call("greet", { name: "Ada", times: 2 }), "Hello, AdaHello, Ada");
 * await client.close();
 * await server.closed;
 * ```
 */
export function thriftRpc(options: ThriftRpcOptions): Codec {
  const services = options.schema.services;
  const name = options.service ??
    (services.size === 1 ? [...services.keys()][0] : undefined);
  if (name === undefined && options.multiplexed !== true) {
    throw new Error(
      `The schema has ${services.size} services: name the one to speak (service), or multiplex`,
    );
  }
  const settings: Settings = {
    schema: options.schema,
    service: name === undefined ? undefined : options.schema.service(name),
    protocol: options.protocol ?? "binary",
    multiplexed: options.multiplexed === true,
    exceptionError: options.exceptionError ?? defaultExceptionError,
    maxSize: options.maxSize ?? 16 * 1024 * 1024,
    maxInFlight: options.maxInFlight ?? 65_536,
  };
  return new ThriftCodec(settings);
}
