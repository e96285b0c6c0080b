/**
 * Remote objects in the spirit of RPyC: use the other end's objects through
 * proxies, pass functions as callbacks, return objects by reference, consume
 * async iterables with `for await`, and pipeline calls on results that have
 * not arrived yet. Works over any codec and transport (TCP, WebSocket, the
 * browser); the protocol is in `docs/protocol.md`.
 *
 * @example A server that hands out objects, over TCP
 * ```ts
 * import assert from "node:assert/strict";
 * import { exposed, ObjectSession, serveObjects } from "./mod.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { newline } from "../framing/delimiter.ts";
 * import { connectTcp, serveTcp } from "../transports/tcp.ts";
 *
 * class Counter {
 *   #n = 0;
 *   @exposed increment(by = 1) { return this.#n += by; }
 * }
 * const root = { counter: () => new Counter() };
 * await using server = serveTcp({ port: 0 }, {
 *   codec: jsonRpc(),
 *   framing: newline(),
 *   service: serveObjects(root),
 * });
 * const objects = new ObjectSession();
 * await using peer = await connectTcp(server.address, {
 *   codec: jsonRpc(),
 *   framing: newline(),
 *   service: objects.service,
 * });
 * objects.attach(peer);
 * const api = objects.root<typeof root>();
 * const counter = await api.counter(); // a proxy of the server's Counter
 * assert.equal(await counter.increment(5), 5);
 * assert.equal(await api.counter().increment(2), 2); // pipelined: one round trip
 * objects.release(counter);
 * ```
 *
 * @module
 */

import { objectLimits } from "./_limits.ts";
import { ObjectSession } from "./session.ts";
import type { ObjectSessionOptions } from "./types.ts";
import { type PerConnection, perConnection } from "../serve_connection.ts";

export { expose, exposed, isExposed } from "./expose.ts";
export { REFERENCE_EXTENSION_TYPE, referenceExtension, ReferenceTag } from "./extension.ts";
export { ObjectErrorCode } from "./errors.ts";
export { ObjectSession } from "./session.ts";
export type {
  AnyFunction,
  HasMethods,
  ObjectCaller,
  ObjectSessionOptions,
  Received,
  Remote,
  RemoteMembers,
  RemoteMethod,
  RemotePromise,
  RemoteProperty,
  Settling,
} from "./types.ts";

/**
 * What a server's `service` option takes to serve remote objects (`serveTcp`,
 * `serveStdio`, a WebSocket route's `service`): a session per connection,
 * whose root is `root`, dropped with the connection.
 *
 * @param root what every client reaches as its root
 * @param options limits; `onSession` sees each connection's session
 * @returns the per-connection service factory
 * @throws {RangeError} when `maxExports` or `maxDepth` is not a positive integer
 *
 * @example A session per connection, over TCP
 * ```ts
 * import assert from "node:assert/strict";
 * import { ObjectSession, serveObjects } from "./mod.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { newline } from "../framing/delimiter.ts";
 * import { connectTcp, serveTcp } from "../transports/tcp.ts";
 *
 * const root = { greeter: (name: string) => ({ greet: () => `hello ${name}` }) };
 * const sessions: ObjectSession[] = [];
 * await using server = serveTcp({ port: 0 }, {
 *   codec: jsonRpc(),
 *   framing: newline(),
 *   service: serveObjects(root, { onSession: (session) => sessions.push(session) }),
 * });
 * const objects = new ObjectSession();
 * await using peer = await connectTcp(server.address, {
 *   codec: jsonRpc(),
 *   framing: newline(),
 *   service: objects.service,
 * });
 * objects.attach(peer);
 * const greeter = await objects.root<typeof root>().greeter("Ada");
 * assert.equal(await greeter.greet(), "hello Ada");
 * assert.equal(sessions.length, 1); // this connection's
 * assert.equal(sessions[0]!.exportCount, 1); // the greeter, held by this client
 * ```
 */
export function serveObjects(
  root: unknown,
  options: Omit<ObjectSessionOptions, "root"> & {
    readonly onSession?: (session: ObjectSession) => void;
  } = {},
): PerConnection {
  // Bad limits are refused now, not when the first connection arrives.
  objectLimits(options);
  return perConnection((connection) => {
    const session = new ObjectSession({ ...options, root });
    session.attach(connection.peer);
    options.onSession?.(session);
    return session.service;
  });
}
