/**
 * An RPyC client connection over any byte stream: the session, and the
 * remote root as a proxy. `connectRpyc` (`./rpyc` export) opens one over
 * TCP, TLS or a Unix socket.
 *
 * @example Against a fake server that only answers GETROOT
 * ```ts
 * import assert from "node:assert/strict";
 * import { openRpyc } from "./connection.ts";
 * import { RpycChannel } from "./channel.ts";
 * import { decodeMessage, encodeMessage, MSG } from "./messages.ts";
 *
 * const up = new TransformStream<Uint8Array, Uint8Array>();
 * const down = new TransformStream<Uint8Array, Uint8Array>();
 * const server = new RpycChannel({ readable: up.readable, writable: down.writable, close() {} });
 * const opening = openRpyc({ readable: down.readable, writable: up.writable, close() {} });
 * const { seq } = decodeMessage((await server.recv())!);
 * await server.send(encodeMessage({ kind: MSG.REPLY, seq, payload: [4, ["S", 1, 2]] }));
 * await using conn = await opening;
 * assert.equal(typeof conn.root, "function");
 * ```
 *
 * @module
 */

import type { ByteStream } from "../../rpc/types.ts";
import { proxyOf, type RemoteObject } from "./proxy.ts";
import { RpycSession, type RpycSessionOptions } from "./session.ts";

/** Options of {@linkcode openRpyc}. */
export interface OpenRpycOptions extends RpycSessionOptions {
  /** Milliseconds to wait for the root object; 10 000 by default. */
  readonly connectTimeout?: number;
}

/**
 * A connected RPyC client; `T` types its root (`Remote<MyService>`), an
 * untyped {@linkcode RemoteObject} by default.
 */
export interface RpycConnection<T = RemoteObject> extends AsyncDisposable {
  /** The service's root object (`conn.root`). */
  readonly root: T;
  /** The explicit API: requests, ping, limits, closing. */
  readonly session: RpycSession;
  /** Settles when the connection has ended. */
  readonly closed: Promise<void>;
  /** Closes the connection; pending calls fail with `ConnectionClosedError`. */
  close(): Promise<void>;
}

/**
 * Starts an RPyC session on `stream` and fetches the root object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openRpyc } from "./connection.ts";
 *
 * // A peer that takes every byte and never answers: GETROOT times out.
 * const silent = { readable: new ReadableStream<Uint8Array>(), writable: new WritableStream<Uint8Array>(), close() {} };
 * await assert.rejects(openRpyc(silent, { connectTimeout: 10 }), { name: "TimeoutError" });
 * ```
 *
 * @param stream the connection's bytes
 * @typeParam T the root's type
 * @param options limits and the default timeout
 * @returns the connection
 */
export async function openRpyc<T = RemoteObject>(
  stream: ByteStream,
  options: OpenRpycOptions = {},
): Promise<RpycConnection<T>> {
  const { connectTimeout = 10_000, ...sessionOptions } = options;
  const session = new RpycSession(stream, sessionOptions);
  let root;
  try {
    root = proxyOf(await session.getRoot({ timeout: connectTimeout }));
  } catch (e) {
    await session.close();
    throw e;
  }
  return {
    root: root as T,
    session,
    closed: session.closed,
    close: () => session.close(),
    [Symbol.asyncDispose]: () => session.close(),
  };
}
