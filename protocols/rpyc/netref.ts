/**
 * Netrefs: references to objects that live in the Python process, with the
 * explicit API every remote operation goes through (`getattr`, `callattr`,
 * `call`, `str`, `repr`, `dir`, `hash`, `release`…). The `Proxy` sugar of
 * `./proxy.ts` is a thin layer over this.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kw, Kwargs } from "./netref.ts";
 *
 * assert.ok(kw({ sep: "," }) instanceof Kwargs);
 * ```
 *
 * @module
 */

import { ErrorCode, RpcError } from "../../rpc/errors.ts";
import { standIns } from "./_stand_ins.ts";
import { HANDLE, type IdPack, type RemoteException } from "./messages.ts";

/** Per-request options. */
export interface RpycRequestOptions {
  /** Milliseconds before the call fails with a `TimeoutError`; the session's default otherwise. */
  readonly timeout?: number;
  /** Cancels the wait (the Python side still runs the call). */
  readonly signal?: AbortSignal;
}

/** What a netref needs from its session. */
export interface NetrefHost {
  /** Sends a request whose args are boxed, and unboxes its reply. */
  request(
    handler: number,
    args: readonly unknown[],
    options?: RpycRequestOptions,
  ): Promise<unknown>;
  /** Sends DEL for `count` references and forgets the netref. */
  release(netref: Netref): Promise<void>;
}

/**
 * Keyword arguments, as the last argument of a call: `f(1, kw({ sep: "," }))`
 * is Python's `f(1, sep=",")`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kw } from "./netref.ts";
 *
 * assert.deepEqual(kw({ a: 1 }).entries, [["a", 1]]);
 * ```
 */
export class Kwargs {
  /** The `[name, value]` pairs. */
  readonly entries: readonly (readonly [string, unknown])[];
  /**
   * Marks `values` as keyword arguments.
   *
   * @param values the keyword arguments
   */
  constructor(values: Readonly<Record<string, unknown>>) {
    this.entries = Object.entries(values);
  }
}

/**
 * Marks keyword arguments for a remote call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kw } from "./netref.ts";
 *
 * assert.equal(kw({ end: "" }).entries.length, 1);
 * ```
 *
 * @param values the keyword arguments
 * @returns them, marked
 */
export function kw(values: Readonly<Record<string, unknown>>): Kwargs {
  return new Kwargs(values);
}

// Positional args, and the kwargs tuple RPyC sends (`tuple(kwargs.items())`).
function splitArgs(args: readonly unknown[]): [unknown[], (readonly [string, unknown])[]] {
  const last = args.at(-1);
  if (last instanceof Kwargs) return [args.slice(0, -1), [...last.entries]];
  return [[...args], []];
}

/**
 * A Python exception raised by a remote operation: `pythonType` is its
 * class name (`ValueError`), `traceback` the remote traceback's text as
 * Python sent it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpycError } from "./netref.ts";
 *
 * const e = new RpycError({ module: "builtins", name: "KeyError", args: ["k"], attrs: [], traceback: "" });
 * assert.equal(e.message, "KeyError: k");
 * ```
 */
export class RpycError extends RpcError {
  /** The exception's class name. */
  readonly pythonType: string;
  /** The module that defines it. */
  readonly module: string;
  /** Its `args`. */
  readonly args: readonly unknown[];
  /** The remote traceback text. */
  readonly traceback: string;

  /**
   * Builds the error from Python's exception.
   *
   * @param exception the exception as vinegar carried it
   */
  constructor(exception: RemoteException) {
    const text = exception.args.map((a) => typeof a === "string" ? a : String(a)).join(", ");
    super(ErrorCode.InternalError, text ? `${exception.name}: ${text}` : exception.name, exception);
    this.name = "RpycError";
    this.pythonType = exception.name;
    this.module = exception.module;
    this.args = exception.args;
    this.traceback = exception.traceback;
  }
}

/**
 * The netref a value stands for: a {@linkcode Netref} itself or a proxy over one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { netrefOf } from "./netref.ts";
 *
 * assert.equal(netrefOf({}), undefined);
 * ```
 *
 * @param value anything
 * @returns its netref, or `undefined`
 */
export function netrefOf(value: unknown): Netref | undefined {
  if (value instanceof Netref) return value;
  if ((typeof value === "object" || typeof value === "function") && value !== null) {
    const netref = standIns.get(value);
    return netref instanceof Netref ? netref : undefined;
  }
  return undefined;
}

/**
 * A reference to a Python object. Each method is one request; results that
 * brine carries come back as values, anything else as another netref.
 * Release it (`release()`, `using`, `await using`) to let Python drop it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Netref } from "./netref.ts";
 *
 * const calls: unknown[] = [];
 * const host = { request: async (h: number, a: readonly unknown[]) => { calls.push([h, a]); return 3; }, release: async () => {} };
 * const ref = new Netref(host, ["builtins.list", 1, 2]);
 * assert.equal(await ref.callattr("__len__"), 3);
 * ```
 */
export class Netref {
  readonly #tally: { count: number };
  #released = false;

  /** The session it belongs to. */
  readonly host: NetrefHost;
  /** `(class name, id(type), id(object))` on the Python side. */
  readonly idPack: IdPack;

  /**
   * Makes a reference; sessions do, when a reply carries one.
   *
   * @param host the session it belongs to
   * @param idPack `(class name, id(type), id(object))` on the Python side
   * @param tally how many times Python sent it, shared with the session (which
   * still knows the count when the netref is collected)
   */
  constructor(host: NetrefHost, idPack: IdPack, tally: { count: number } = { count: 1 }) {
    this.host = host;
    this.idPack = idPack;
    this.#tally = tally;
  }

  /** How many times Python sent this object: what DEL gives back. */
  get count(): number {
    return this.#tally.count;
  }

  /** The Python class's qualified name (`builtins.list`). */
  get className(): string {
    return this.idPack[0];
  }

  /** Whether it was released. */
  get released(): boolean {
    return this.#released;
  }

  /** `getattr(obj, name)`. */
  getattr(name: string, options?: RpycRequestOptions): Promise<unknown> {
    return this.#req(HANDLE.GETATTR, [name], options);
  }

  /** `setattr(obj, name, value)`. */
  async setattr(name: string, value: unknown, options?: RpycRequestOptions): Promise<void> {
    await this.#req(HANDLE.SETATTR, [name, value], options);
  }

  /** `delattr(obj, name)`. */
  async delattr(name: string, options?: RpycRequestOptions): Promise<void> {
    await this.#req(HANDLE.DELATTR, [name], options);
  }

  /** `obj(*args, **kwargs)`; a last {@linkcode Kwargs} argument holds the keywords. */
  call(args: readonly unknown[] = [], options?: RpycRequestOptions): Promise<unknown> {
    const [positional, kwargs] = splitArgs(args);
    return this.#req(HANDLE.CALL, [positional, kwargs], options);
  }

  /** `getattr(obj, name)(*args, **kwargs)` in one request. */
  callattr(
    name: string,
    args: readonly unknown[] = [],
    options?: RpycRequestOptions,
  ): Promise<unknown> {
    const [positional, kwargs] = splitArgs(args);
    return this.#req(HANDLE.CALLATTR, [name, positional, kwargs], options);
  }

  /** `repr(obj)`. */
  repr(options?: RpycRequestOptions): Promise<string> {
    return this.#req(HANDLE.REPR, [], options) as Promise<string>;
  }

  /** `str(obj)`. */
  str(options?: RpycRequestOptions): Promise<string> {
    return this.#req(HANDLE.STR, [], options) as Promise<string>;
  }

  /** `dir(obj)`, as a list of names. */
  async dir(options?: RpycRequestOptions): Promise<string[]> {
    return [...(await this.#req(HANDLE.DIR, [], options) as string[])];
  }

  /** `hash(obj)`. */
  hash(options?: RpycRequestOptions): Promise<number | bigint> {
    return this.#req(HANDLE.HASH, [], options) as Promise<number | bigint>;
  }

  /** `type(obj).<op>(obj, other)`, `op` being `__eq__`, `__lt__`…. */
  cmp(other: unknown, op = "__eq__", options?: RpycRequestOptions): Promise<unknown> {
    return this.#req(HANDLE.CMP, [other, op], options);
  }

  /** Lets Python drop its reference (DEL); later operations fail. */
  release(): Promise<void> {
    if (this.#released) return Promise.resolve();
    this.#released = true;
    return this.host.release(this);
  }

  /** `using ref = …`: releases without waiting for the reply. */
  [Symbol.dispose](): void {
    this.release().catch(() => {});
  }

  /** `await using ref = …`: releases and waits for Python's reply. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  #req(handler: number, args: unknown[], options?: RpycRequestOptions): Promise<unknown> {
    if (this.#released) {
      return Promise.reject(new TypeError(`The netref to ${this.className} was released`));
    }
    return this.host.request(handler, [this, ...args], options);
  }
}
