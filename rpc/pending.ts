/**
 * The table of outgoing calls awaiting a reply: ids, timeouts, aborts, and
 * rejecting everything at once when the connection ends.
 *
 * @module
 */

import { LimitError, TimeoutError } from "./errors.ts";
import type { RpcId } from "./types.ts";

/** How one call ends, for whoever registered it. */
export interface PendingHandlers {
  /** The reply arrived. */
  resolve(value: unknown): void;
  /** The call failed. */
  reject(reason: unknown): void;
}

// One object per call: its handlers, its timer and abort listener when it
// has them, and what `add` gives back (`id`, `result`).
class PendingCall implements PendingHandlers {
  readonly id: RpcId;
  readonly method: string;
  readonly result: Promise<unknown>;
  resolve!: (value: unknown) => void;
  reject!: (reason: unknown) => void;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;

  constructor(id: RpcId, method: string) {
    this.id = id;
    this.method = method;
    this.result = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/** Options of one registered call. */
export interface PendingOptions {
  /** Milliseconds before the call fails with a {@linkcode TimeoutError}. */
  readonly timeout?: number | undefined;
  /** Aborting it fails the call with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /** Called when the call ends early by timeout or abort (to tell the server). */
  readonly onCancel?: ((id: RpcId) => void) | undefined;
}

// Slots of the ring: a call whose slot is taken (more than this many in
// flight, or one far older still waiting) waits in the map.
const SLOTS = 128;

/**
 * Outgoing calls in flight on one connection. Ids are given in sequence, so
 * a call lives in a ring of slots at its id modulo the ring's size: no hash
 * table to grow, probe and clean per call (a `Map`'s set, get and delete
 * cost several times the ring's).
 */
export class PendingCalls {
  readonly #ring: (PendingCall | undefined)[] = [];
  // Made when first needed: a server's connection may never call its client.
  #others: Map<RpcId, PendingCall> | undefined;
  readonly #limit: number;
  #size = 0;
  #nextId = 1;

  /** @param limit the most calls that may wait at once */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** The number of calls awaiting a reply. */
  get size(): number {
    return this.#size;
  }

  /**
   * Registers a call and returns its id and the promise of its result.
   *
   * @param method the method called, for error messages
   * @param options timeout, abort signal, cancellation callback
   * @returns the call's id and result
   * @throws {LimitError} when too many calls are already waiting
   */
  add(method: string, options: PendingOptions): { id: RpcId; result: Promise<unknown> } {
    if (this.#size >= this.#limit) {
      throw new LimitError("maxPending", this.#limit, `Too many calls awaiting a reply`);
    }
    const id = this.#nextId;
    this.#nextId = id >= Number.MAX_SAFE_INTEGER ? 1 : id + 1;
    const call = new PendingCall(id, method);
    const { timeout, signal, onCancel } = options;
    if (timeout !== undefined && timeout !== Infinity) {
      call.timer = setTimeout(() => {
        this.#cancel(id, new TimeoutError(method, timeout), onCancel);
      }, timeout);
    }
    if (signal !== undefined) {
      call.signal = signal;
      call.onAbort = () => {
        this.#cancel(id, signal.reason, onCancel);
      };
      signal.addEventListener("abort", call.onAbort, { once: true });
    }
    const at = id % SLOTS;
    if (this.#ring[at] === undefined) this.#ring[at] = call;
    else (this.#others ??= new Map()).set(id, call);
    this.#size++;
    return call;
  }

  #cancel(id: RpcId, reason: unknown, onCancel: ((id: RpcId) => void) | undefined): void {
    const call = this.settle(id);
    if (call === undefined) return;
    call.reject(reason);
    onCancel?.(id);
  }

  /**
   * Removes a call and returns its handlers, or `undefined` for an unknown id.
   *
   * @param id the call's id
   * @returns the call's handlers, to resolve or reject it
   */
  settle(id: RpcId): PendingHandlers | undefined {
    // A string or a fraction finds no slot (or one whose id differs).
    const at = (id as number) % SLOTS;
    let call = this.#ring[at];
    if (call !== undefined && call.id === id) this.#ring[at] = undefined;
    else if ((call = this.#others?.get(id)) !== undefined) this.#others!.delete(id);
    else return undefined;
    this.#size--;
    if (call.timer !== undefined) clearTimeout(call.timer);
    if (call.onAbort !== undefined) call.signal?.removeEventListener("abort", call.onAbort);
    return call;
  }

  /**
   * Rejects every call, for when the connection ends.
   *
   * @param reason what every call is rejected with
   */
  rejectAll(reason: unknown): void {
    const calls = [...this.#others?.values() ?? []];
    for (const call of this.#ring) if (call !== undefined) calls.push(call);
    // In the order they were made, as they were registered.
    calls.sort((a, b) => (a.id as number) - (b.id as number));
    for (const call of calls) this.settle(call.id)?.reject(reason);
  }
}
