/**
 * One RPyC connection (`rpyc/core/protocol.py`), symmetric as RPyC's are:
 * sequence numbers, the pending calls with timeouts, boxing of arguments
 * and unboxing of replies into {@linkcode Netref}s counted per id pack, DEL
 * on release (or when a netref is collected); and the serving half: the
 * TypeScript functions and objects it boxes are held in a bounded table of
 * local objects, and Python's requests on them (GETATTR, CALL, CALLATTR,
 * DIR, INSPECT, DEL…) are answered with RPyC's exposure rules, each by an
 * async task so that nested callbacks flow (see ./_serve.ts). A peer
 * that breaks the protocol (malformed packet, a reply to a request never
 * sent) ends the session: pending calls fail with `ConnectionClosedError`
 * whose `cause` says why.
 *
 * @example Over an in-memory pipe, a fake server answering GETROOT
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpycSession } from "./session.ts";
 * import { RpycChannel } from "./channel.ts";
 * import { decodeMessage, encodeMessage, MSG } from "./messages.ts";
 *
 * const up = new TransformStream<Uint8Array, Uint8Array>();
 * const down = new TransformStream<Uint8Array, Uint8Array>();
 * const session = new RpycSession({ readable: down.readable, writable: up.writable, close() {} });
 * const server = new RpycChannel({ readable: up.readable, writable: down.writable, close() {} });
 * const rooted = session.getRoot();
 * const request = decodeMessage((await server.recv())!);
 * await server.send(encodeMessage({ kind: MSG.REPLY, seq: request.seq, payload: [4, ["S", 1, 2]] }));
 * const root = await rooted;
 * assert.equal(root.className, "S");
 * await session.close();
 * ```
 *
 * @module
 */

import { ConnectionClosedError, ProtocolError, TimeoutError } from "../../rpc/errors.ts";
import type { ByteStream } from "../../rpc/types.ts";
import type { BrineLimits, BrineValue } from "./brine.ts";
import { RpycChannel, type RpycChannelOptions } from "./channel.ts";
import {
  decodeException,
  decodeMessage,
  encodeMessage,
  HANDLE,
  type IdPack,
  LABEL,
  MSG,
} from "./messages.ts";
import { Netref, type NetrefHost, netrefOf, RpycError, type RpycRequestOptions } from "./netref.ts";
import { boxValue } from "./_box.ts";
import { LocalObjects } from "./_local_objects.ts";
import { NetrefTable } from "./_netrefs.ts";
import type { ExposureOptions } from "./_exposure.ts";
export type { ExposureOptions } from "./_exposure.ts";
import { type ServeContext, serveRequest } from "./_serve.ts";
import { toVinegar } from "./_raise.ts";
import { proxyOf } from "./proxy.ts";

/** Options of an {@linkcode RpycSession}. */
export interface RpycSessionOptions extends RpycChannelOptions, BrineLimits, ExposureOptions {
  /** Default milliseconds a request may take; 30 000. */
  readonly timeout?: number;
  /** The object Python's `conn.root` reaches (GETROOT); none by default. */
  readonly root?: object;
  /** Makes the root for this connection (RPyC's service per connection); wins over `root`. */
  readonly makeRoot?: (session: RpycSession) => object;
  /**
   * Most TypeScript objects and functions Python may hold references to at
   * once on this connection; 10 000. Passing one more fails with a
   * `LimitError` (a call's reply: Python raises ValueError).
   */
  readonly maxLocalObjects?: number;
  /**
   * Most of Python's requests served at once; 256. One more is answered
   * at once with an exception, so a flood cannot pile up work.
   */
  readonly maxInFlight?: number;
  /**
   * Sends a TypeScript error's stack to Python as the remote traceback
   * (RPyC's `include_local_traceback`, which RPyC turns on by default);
   * off by default here, as parley's other servers keep their errors'
   * details, since a stack names this side's files. The type and message
   * always travel.
   */
  readonly includeLocalTraceback?: boolean;
  /**
   * Called for each well-formed message received, before it is handled:
   * `serveRpyc`'s first-frame and idle timeouts watch the session through it.
   */
  readonly onMessage?: () => void;
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

const HANDLER_NAMES = Object.fromEntries(Object.entries(HANDLE).map(([k, v]) => [v, k]));

/**
 * The client side of an RPyC connection over a byte stream.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpycSession } from "./session.ts";
 *
 * const pipe = new TransformStream<Uint8Array, Uint8Array>();
 * const session = new RpycSession({ readable: pipe.readable, writable: pipe.writable, close() {} });
 * await session.close();
 * await assert.rejects(session.getRoot());
 * ```
 */
export class RpycSession implements NetrefHost {
  readonly #channel: RpycChannel;
  readonly #timeout: number;
  readonly #limits: BrineLimits;
  readonly #pending = new Map<number, Pending>();
  // Requests that timed out or were cancelled: their late replies are expected.
  readonly #abandoned = new Set<number>();
  readonly #netrefs: NetrefTable;
  readonly #locals: LocalObjects;
  readonly #serving: ServeContext;
  readonly #maxInFlight: number;
  readonly #withStack: boolean;
  readonly #onMessage: (() => void) | undefined;
  #inFlight = 0;
  #seq = 0;
  #closedBy: unknown;
  #ended = false;
  readonly #closed: PromiseWithResolvers<void> = Promise.withResolvers();

  /**
   * Starts reading the connection.
   *
   * @param stream the connection's bytes
   * @param options limits and the default timeout
   */
  constructor(stream: ByteStream, options: RpycSessionOptions = {}) {
    this.#channel = new RpycChannel(stream, options);
    this.#timeout = options.timeout ?? 30_000;
    this.#limits = options;
    this.#locals = new LocalObjects(options.maxLocalObjects ?? 10_000);
    this.#netrefs = new NetrefTable(this, this.#locals, (idPack, count) => {
      void this.#sendDel(idPack, count);
    });
    this.#maxInFlight = options.maxInFlight ?? 256;
    this.#withStack = options.includeLocalTraceback ?? false;
    this.#onMessage = options.onMessage;
    const locals = this.#locals;
    this.#serving = {
      root: options.makeRoot ? options.makeRoot(this) : options.root,
      exposure: options,
      local: (idPack) => locals.get(idPack),
      isLocal: (value): value is object => locals.has(value),
      idOf: (value) => locals.idOf(value),
    };
    this.#readLoop();
  }

  /** Settles when the session has ended, with the reason as `closeReason`. */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /** Why the session ended (`undefined` while it runs or after a plain close). */
  get closeReason(): unknown {
    return this.#closedBy;
  }

  /** How many netrefs are alive and not released. */
  get liveNetrefs(): number {
    return this.#netrefs.live;
  }

  /** How many of Python's requests are being served now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** How many requests sent to Python await their reply now. */
  get pending(): number {
    return this.#pending.size;
  }

  /** How many TypeScript objects Python holds references to. */
  get liveLocalObjects(): number {
    return this.#locals.size;
  }

  /** The remote service's root object (`conn.root`). */
  async getRoot(options?: RpycRequestOptions): Promise<Netref> {
    const root = await this.request(HANDLE.GETROOT, [], options);
    if (!(root instanceof Netref)) {
      throw new ProtocolError("GETROOT answered with a value, not a reference");
    }
    return root;
  }

  /** PING: Python echoes `data`. */
  async ping(data: string = "parley", options?: RpycRequestOptions): Promise<void> {
    const echo = await this.request(HANDLE.PING, [data], options);
    if (echo !== data) throw new ProtocolError("PING echoed other data");
  }

  /**
   * Sends one request and waits for its reply.
   *
   * @param handler one of `HANDLE`
   * @param args the handler's arguments, boxed here
   * @param options timeout and signal
   * @returns the unboxed reply
   * @throws {RpycError} when Python raised
   * @throws {TimeoutError} after the timeout
   * @throws {ConnectionClosedError} when the session ends first
   */
  request(
    handler: number,
    args: readonly unknown[],
    options: RpycRequestOptions = {},
  ): Promise<unknown> {
    let boxed: BrineValue;
    try {
      boxed = boxValue(args, this, this.#locals);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#request(handler, boxed, options);
  }

  #request(handler: number, boxed: BrineValue, options: RpycRequestOptions): Promise<unknown> {
    if (this.#ended) return Promise.reject(ConnectionClosedError.closed(this.#closedBy));
    const seq = ++this.#seq;
    const timeout = options.timeout ?? this.#timeout;
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    const timer = setTimeout(
      () => abandon(new TimeoutError(HANDLER_NAMES[handler] ?? String(handler), timeout)),
      timeout,
    );
    const onAbort = () => abandon(options.signal!.reason);
    const done = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    };
    const abandon = (error: unknown) => {
      if (!this.#pending.delete(seq)) return;
      this.#abandoned.add(seq);
      // Bounded: a peer that never answers cannot grow it without end (a
      // reply after 10 000 later abandonments counts as never sent).
      if (this.#abandoned.size > 10_000) {
        this.#abandoned.delete(this.#abandoned.values().next().value!);
      }
      done();
      reject(error);
    };
    this.#pending.set(seq, {
      resolve: (v) => (done(), resolve(v)),
      reject: (e) => (done(), reject(e)),
    });
    if (options.signal?.aborted) abandon(options.signal.reason);
    else options.signal?.addEventListener("abort", onAbort, { once: true });
    const payload: BrineValue = [handler, boxed];
    this.#channel.send(encodeMessage({ kind: MSG.REQUEST, seq, payload })).catch((e) =>
      this.#end(e)
    );
    return promise;
  }

  /** Sends DEL for every reference Python boxed for this netref. */
  async release(netref: Netref): Promise<void> {
    this.#netrefs.forget(netref);
    await this.#sendDel(netref.idPack, netref.count);
  }

  async #sendDel(idPack: IdPack, count: number): Promise<void> {
    if (this.#ended) return;
    // Boxed here: the netref is released or gone, which boxing refuses.
    const args = [LABEL.TUPLE, [[LABEL.LOCAL_REF, idPack], [LABEL.VALUE, count]]];
    await this.#request(HANDLE.DEL, args, {}).catch(() => {});
  }

  /** Ends the session: pending calls fail, the connection closes. */
  async close(): Promise<void> {
    await this.#end(undefined);
  }

  /** `await using session`: closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #end(reason: unknown): Promise<void> {
    if (this.#ended) return this.#closed.promise;
    this.#ended = true;
    this.#closedBy = reason;
    const error = ConnectionClosedError.closed(reason);
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    this.#locals.clear();
    this.#closed.resolve();
    await this.#channel.close().catch(() => {});
  }

  async #readLoop(): Promise<void> {
    try {
      for (;;) {
        const packet = await this.#channel.recv();
        if (packet === null) return await this.#end(undefined);
        const message = decodeMessage(packet, this.#limits);
        this.#onMessage?.();
        if (message.kind === MSG.REQUEST) this.#answer(message.seq, message.payload);
        else this.#settle(message.kind, message.seq, message.payload);
      }
    } catch (e) {
      await this.#end(e);
    }
  }

  #settle(kind: number, seq: number, payload: BrineValue): void {
    const pending = this.#pending.get(seq);
    if (pending === undefined) {
      if (!this.#abandoned.delete(seq)) {
        throw new ProtocolError(`A reply to request ${seq}, which was never sent`);
      }
      // A late reply may hold references: give them straight back.
      if (kind === MSG.REPLY) releaseAll(this.#netrefs.unbox(payload));
      return;
    }
    // Decoded first: when that throws, the call is still pending, and the
    // session's end fails it with the reason.
    const error = kind === MSG.EXCEPTION ? new RpycError(decodeException(payload)) : undefined;
    const value = error ? undefined : this.#netrefs.unbox(payload);
    this.#pending.delete(seq);
    if (error) pending.reject(error);
    else pending.resolve(value);
  }

  // Python's requests: each served by its own task, so that a handler
  // that calls Python back (whose reply this loop reads) does not block.
  #answer(seq: number, payload: BrineValue): void {
    const [handler, boxed] = Array.isArray(payload) && payload.length === 2 ? payload : [];
    const reply = (kind: number, payload: BrineValue) =>
      this.#channel.send(encodeMessage({ kind, seq, payload })).catch((e) => this.#end(e));
    const fail = (e: unknown) => reply(MSG.EXCEPTION, toVinegar(e, this.#withStack));
    if (handler === HANDLE.CLOSE) {
      queueMicrotask(() => this.#end(undefined));
      return void reply(MSG.REPLY, [LABEL.VALUE, null]);
    }
    // DEL is never refused: it only frees, and refusing it would keep objects held.
    if (handler !== HANDLE.DEL && this.#inFlight >= this.#maxInFlight) {
      return void fail(new RangeError(`More than ${this.#maxInFlight} requests in flight`));
    }
    this.#inFlight++;
    (async () => {
      const args = this.#netrefs.unbox(boxed ?? null);
      if (!Array.isArray(args)) throw new TypeError("A request's arguments are not a tuple");
      if (handler === HANDLE.DEL) {
        return void this.#locals.decref(this.#locals.idPackOf(args[0]), args[1] ?? 1);
      }
      return await serveRequest(handler, args.map(asProxies), this.#serving);
    })().then(
      // After the end nothing is boxed: the table stays empty.
      (result) =>
        this.#ended ? undefined : reply(MSG.REPLY, boxValue(result ?? null, this, this.#locals)),
    ).catch(fail).finally(() => this.#inFlight--);
  }
}

// Netrefs reach TypeScript handlers as proxies: callbacks are called as functions.
function asProxies(value: unknown): unknown {
  if (value instanceof Netref) return proxyOf(value);
  return Array.isArray(value) ? Object.freeze(value.map(asProxies)) : value;
}

function releaseAll(value: unknown): void {
  const ref = netrefOf(value);
  if (ref) ref.release().catch(() => {});
  else if (Array.isArray(value)) value.forEach(releaseAll);
}
