/**
 * What a server serves on each connection, and the one helper every
 * connection-oriented server (TCP, TLS, Unix, stdio, WebSocket routes) uses
 * to make a connection's {@linkcode Peer}: one service shared by every
 * connection, or a service made per connection by a factory wrapped in
 * {@linkcode perConnection}. The wrapper, not the value's type, tells the
 * two apart: a service may itself be a function.
 *
 * @module
 */

import { Peer, type PeerOptions } from "./peer.ts";
import type { Service } from "./service.ts";
import type { MessageStream } from "./types.ts";

/** The handshake of a connection that began as an HTTP request (a WebSocket's). */
export interface ConnectionRequest {
  /** The URL asked for. */
  readonly url: string;
  /** Its headers: authorization, origin, cookies. */
  readonly headers: Headers;
}

/** What a per-connection service factory learns about its connection. */
export interface ConnectionInfo {
  /**
   * The remote end, as text: `tcp://127.0.0.1:40123`, `unix:/path`,
   * `stdio`, or a WebSocket's remote address.
   */
  readonly remote: string;
  /**
   * The connection's peer, to call the other end back. It exists once the
   * factory has returned: call it from a handler, not from the factory.
   */
  readonly peer: () => Peer;
  /** The handshake, for a WebSocket connection; absent otherwise. */
  readonly request?: ConnectionRequest;
}

/** A factory that makes the service of each connection. */
export type ServiceFactory = (connection: ConnectionInfo) => Service;

// The mark, on the function itself; Symbol.for, so that two copies of parley agree.
const PER_CONNECTION = Symbol.for("parley.perConnection");

/**
 * A {@linkcode ServiceFactory} marked by {@linkcode perConnection}. The mark
 * is a symbol on the function, seen at run time: types cannot tell a
 * function that is a service from a factory.
 */
export type PerConnection = ServiceFactory;

/** What a server serves: one service for every connection, or one per connection. */
export type ServiceSource = Service | PerConnection;

/**
 * Marks a factory as making a service per connection, for a server's
 * `service` option: each connection gets its own (state of its own, a way
 * to call its client back). The result is still the factory: it can be
 * called as before.
 *
 * @param factory called once per connection, before its first message
 * @returns the marked factory
 *
 * @example A service that greets each client by asking its name
 * ```ts
 * import assert from "node:assert/strict";
 * import { perConnection, servePeer } from "./serve_connection.ts";
 * import { Peer } from "./peer.ts";
 * import { memoryPair } from "./testing.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const greeter = perConnection((connection) => ({
 *   greet: async () => `hello ${await connection.peer().call("name")}`,
 * }));
 * const [a, b] = memoryPair();
 * const server = servePeer(a, { codec: jsonRpc(), service: greeter, remote: "memory" });
 * await using client = new Peer(b, { codec: jsonRpc(), service: { name: () => "Ada" } });
 * assert.equal(await client.call("greet"), "hello Ada");
 * await server.close();
 * ```
 */
export function perConnection(factory: ServiceFactory): PerConnection {
  return Object.assign((connection: ConnectionInfo) => factory(connection), {
    [PER_CONNECTION]: true,
  });
}

/**
 * Whether a server's service is made per connection.
 *
 * @param source a server's `service`
 * @returns true when `source` was made by {@linkcode perConnection}
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPerConnection, perConnection } from "./serve_connection.ts";
 * assert.equal(isPerConnection(perConnection(() => ({}))), true);
 * assert.equal(isPerConnection(() => "a callable service"), false);
 * ```
 */
export function isPerConnection(source: ServiceSource | undefined): source is PerConnection {
  return typeof source === "function" &&
    (source as { [PER_CONNECTION]?: boolean })[PER_CONNECTION] === true;
}

/**
 * Refuses a bare function as a server's service: it serves no method, and
 * is most likely a per-connection factory that lacks its
 * {@linkcode perConnection} mark (the form parley 0.1 took). A function
 * with methods of its own is a service like any other.
 *
 * @param source a server's `service`
 * @throws {TypeError} for a function that is neither marked nor has methods
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkServiceSource, perConnection } from "./serve_connection.ts";
 * checkServiceSource({ add: (a: number, b: number) => a + b });
 * checkServiceSource(perConnection(() => ({})));
 * assert.throws(() => checkServiceSource(() => ({})), TypeError);
 * ```
 */
export function checkServiceSource(source: ServiceSource | undefined): void {
  if (
    typeof source === "function" && !isPerConnection(source) && Object.keys(source).length === 0
  ) {
    throw new TypeError(
      "A function with no methods serves nothing: to make a service per connection, " +
        "wrap the factory in perConnection(…)",
    );
  }
}

/** Options of {@linkcode servePeer}. */
export interface ServePeerOptions extends Omit<PeerOptions, "service"> {
  /** What the connection serves; nothing when absent. */
  readonly service?: ServiceSource;
  /** The remote end, as the factory learns it. */
  readonly remote: string;
  /** The handshake, for a WebSocket connection. */
  readonly request?: ConnectionRequest;
}

/**
 * Serves one connection: makes its service (the shared one, or the
 * factory's for this connection) and the {@linkcode Peer} that serves it.
 *
 * @param stream the connection's messages
 * @param options the peer's options, the service, and what the factory learns
 * @returns the connection's peer
 *
 * @example A shared service over an in-memory pair
 * ```ts
 * import assert from "node:assert/strict";
 * import { servePeer } from "./serve_connection.ts";
 * import { Peer } from "./peer.ts";
 * import { memoryPair } from "./testing.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const [a, b] = memoryPair();
 * const service = { add: (x: number, y: number) => x + y };
 * const server = servePeer(a, { codec: jsonRpc(), service, remote: "memory" });
 * await using client = new Peer(b, { codec: jsonRpc() });
 * assert.equal(await client.call("add", [1, 2]), 3);
 * await server.close();
 * ```
 */
export function servePeer(stream: MessageStream, options: ServePeerOptions): Peer {
  const { service, remote, request, ...peerOptions } = options;
  // The factory runs before the peer exists; its handlers ask for the peer later.
  const made: { peer?: Peer } = {};
  const served = isPerConnection(service)
    ? service({
      remote,
      peer: () => {
        if (made.peer === undefined) {
          throw new Error(`The peer of ${remote} is not ready yet: call it from a handler`);
        }
        return made.peer;
      },
      ...(request === undefined ? {} : { request }),
    })
    : service;
  return made.peer = new Peer(
    stream,
    served === undefined ? peerOptions : { ...peerOptions, service: served },
  );
}
