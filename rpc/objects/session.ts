/**
 * Remote objects over a peer, in the spirit of RPyC: one end's objects used
 * from the other as proxies, functions passed as callbacks, references
 * counted per connection and released explicitly or when garbage-collected,
 * async iterables consumed with `for await`, and promise pipelining (a call
 * on the result of a call that has not returned yet goes out at once). The
 * wire protocol is in `docs/protocol.md` ("Remote objects"): ordinary calls
 * (`$/call`, `$/get`, `$/release`) with tagged values, over any codec.
 *
 * This file wires one connection's parts: the reference tables
 * (`_references.ts`), the boxing of values (`_values.ts`), the handlers of
 * incoming calls (`_handlers.ts`) and the proxies (`_remote.ts`).
 *
 * @module
 */

import type { Service } from "../service.ts";
import { objectHandlers } from "./_handlers.ts";
import { objectLimits } from "./_limits.ts";
import { ReferenceTables } from "./_references.ts";
import {
  type AnswerState,
  markReleased,
  type ProxyHost,
  proxyMeta,
  remoteProxy,
  type StreamListener,
  type Target,
} from "./_remote.ts";
import { remoteIterable, streamClosed } from "./_stream.ts";
import { ExportedIterator } from "./_exported_iterator.ts";
import type { ObjectCaller, ObjectSessionOptions, Remote } from "./types.ts";
import { Values } from "./_values.ts";

/**
 * One connection's remote objects: serve `session.service` on the peer (the
 * `service` option), {@linkcode ObjectSession.attach} the peer, then use
 * {@linkcode ObjectSession.root}. Both ends may export objects; each keeps
 * its own session.
 *
 * @example A callback called back over the same connection
 * ```ts
 * import assert from "node:assert/strict";
 * import { Peer } from "../peer.ts";
 * import { memoryPair } from "../testing.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { ObjectSession } from "./session.ts";
 *
 * const root = {
 *   work: async (steps: number, progress: (step: number) => unknown) => {
 *     for (let i = 1; i <= steps; i++) await progress(i);
 *     return "done";
 *   },
 * };
 * const [a, b] = memoryPair();
 * const served = new ObjectSession({ root });
 * served.attach(new Peer(a, { codec: jsonRpc(), service: served.service }));
 * const used = new ObjectSession();
 * const peer = new Peer(b, { codec: jsonRpc(), service: used.service });
 * used.attach(peer);
 * const api = used.root<typeof root>();
 * const seen: number[] = [];
 * assert.equal(await api.work(3, (step) => { seen.push(step); }), "done");
 * assert.deepEqual(seen, [1, 2, 3]);
 * await peer.close();
 * ```
 */
export class ObjectSession {
  /** Serve it on the peer: the `$/call`, `$/get` and `$/release` methods. */
  readonly service: Service;
  readonly #tables: ReferenceTables;
  readonly #values: Values;
  // What this session's proxies ask of it.
  readonly #host: ProxyHost;
  #caller: ObjectCaller | (() => ObjectCaller) | undefined;
  // The streams this end reads, by the other end's export id.
  readonly #streams = new Map<number, StreamListener>();
  #nextAnswer = 1;
  #closed = false;

  /**
   * Creates a session.
   *
   * @param options the root the other end reaches, limits
   * @throws {RangeError} when `maxExports` or `maxDepth` is not a positive integer
   */
  constructor(options: ObjectSessionOptions = {}) {
    const onError = options.onError ?? (() => {});
    const { maxExports, maxDepth, streamWindow } = objectLimits(options);
    this.#tables = new ReferenceTables(
      maxExports,
      (entries) => {
        try {
          this.#peer().notify("$/release", entries).catch(onError);
        } catch (error) {
          onError(error);
        }
      },
    );
    this.#host = {
      isClosed: () => this.#closed,
      call: (target, path, args) => this.#call(target, path, args),
      get: (target, path) =>
        this.#peer().call("$/get", [this.#values.target(target), path]).then((result) =>
          this.#values.fromWire(result, undefined)
        ),
      step: (target, member) =>
        this.#peer().call("$/call", [this.#values.target(target), [member], []]),
      received: (wire) => this.#values.fromWire(wire, undefined),
      release: (proxy) => this.release(proxy),
      streamWindow,
      // A grant is answered when its items have been produced, at the
      // producer's pace: the peer's default timeout does not bound it.
      pull: (target, credit) =>
        this.#peer().call("$/call", [this.#values.target(target), ["pull"], [credit]], {
          timeout: Infinity,
        }),
      listen: (id, listener) => {
        this.#streams.set(id, listener);
        return () => {
          if (this.#streams.get(id) === listener) this.#streams.delete(id);
        };
      },
    };
    this.#values = new Values({
      host: this.#host,
      tables: this.#tables,
      makeImport: (id, type) =>
        type === "iterator"
          ? remoteIterable(this.#host, id)
          : remoteProxy(this.#host, { $you: id }, [], "import", id),
      extension: options.references === "extension",
      maxDepth,
    });
    this.service = objectHandlers({
      root: options.root,
      tables: this.#tables,
      values: this.#values,
      onError,
      notify: (method, params) => this.#peer().notify(method, params),
      streams: this.#streams,
    });
  }

  /**
   * Sends this session's calls through `caller` (a `Peer`, or a function that
   * returns it once it exists). Everything exported is dropped when its
   * connection closes.
   *
   * @param caller the peer
   */
  attach(caller: ObjectCaller | (() => ObjectCaller)): void {
    this.#caller = caller;
    queueMicrotask(() => {
      try {
        void this.#peer().closed?.then(() => this.close(), () => this.close());
      } catch {
        // Not available yet: the transport drops the session with the connection.
      }
    });
  }

  /** How many objects this end exports on the connection. */
  get exportCount(): number {
    return this.#tables.exportCount;
  }

  /** How many of the other end's objects this end holds proxies for. */
  get importCount(): number {
    return this.#tables.importCount;
  }

  /** How many of the other end's call outcomes this end keeps for pipelining. */
  get answerCount(): number {
    return this.#tables.answerCount;
  }

  /**
   * A proxy of the other end's root object.
   *
   * @typeParam T the root's type, as the other end defines it
   * @returns the proxy: `await root.name`, `root.method(args)`
   */
  root<T>(): Remote<T> {
    return remoteProxy(this.#host, null, [], "root", 0) as Remote<T>;
  }

  /**
   * Releases a proxy now instead of when it is garbage-collected: the other
   * end may forget the object. Using the proxy afterwards is an error.
   *
   * @param proxy a proxy this session made
   */
  release(proxy: unknown): void {
    const meta = proxyMeta(proxy);
    if (meta === undefined || meta.host !== this.#host || meta.kind !== "import") return;
    if (!markReleased(proxy as object)) return;
    this.#tables.dropImport(proxy as object, meta.id);
  }

  /**
   * Drops everything: exports (the iterators it streams from are stopped,
   * their `finally` runs), answers, imports (their proxies fail from now
   * on, the streams it reads end with an error).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#tables.close((value) => {
      if (value instanceof ExportedIterator) value.stop();
    });
    for (const listener of [...this.#streams.values()]) listener.close(streamClosed());
    this.#streams.clear();
  }

  #peer(): ObjectCaller {
    const caller = typeof this.#caller === "function" ? this.#caller() : this.#caller;
    if (caller === undefined) throw new Error("The object session is not attached to a peer");
    return caller;
  }

  // A call goes out at once, with an answer id the other end keeps its
  // outcome under: the returned proxy can be used before the result arrives.
  #call(target: Target, path: readonly string[], args: readonly unknown[]): object {
    const id = this.#nextAnswer++;
    const wireArgs = this.#values.argumentsToWire(args);
    const promise = this.#peer().call("$/call", [this.#values.target(target), path, wireArgs, id])
      .then((result) => this.#values.fromWire(result, undefined));
    const state: AnswerState = { promise, settled: false, value: undefined };
    promise.then((value) => {
      state.settled = true;
      state.value = value;
    }, () => {
      state.settled = true;
    }).finally(() => this.#tables.queueRelease(["answer", id, 1]));
    return remoteProxy(this.#host, { $answer: id }, [], "answer", id, state);
  }
}
