/**
 * The client contract: what every client offers whatever carries its calls
 * (a {@linkcode Peer} on a connection, the HTTP client, a reconnecting
 * client, NATS), its call options, and the one implementation of the typed
 * proxy and of `await using` that they all share through
 * {@linkcode RpcClientBase}.
 *
 * @module
 */

import { createProxy } from "./proxy.ts";
import type { RemoteService, ServiceDefinition } from "./service.ts";
import type { CallOptions, RpcParams } from "./types.ts";

export type { CallOptions } from "./types.ts";

/** One entry of {@linkcode RpcClient.batch}. */
export interface BatchEntry {
  /** The method to call. */
  readonly method: string;
  /** Its params. */
  readonly params?: RpcParams;
  /** Send as a notification: no reply, its outcome is `undefined`. */
  readonly notification?: boolean;
}

/**
 * What every client offers, whatever carries its calls: a {@linkcode Peer}
 * on a connection, or the HTTP client that posts each call.
 */
export interface RpcClient extends AsyncDisposable {
  /**
   * Calls a method and waits for its result.
   *
   * @param method the method's name
   * @param params positional (array) or named (object) params
   * @param options timeout and abort signal
   * @returns the result
   */
  call<T = unknown>(method: string, params?: RpcParams, options?: CallOptions): Promise<T>;
  /**
   * Sends a notification: a call that expects no reply.
   *
   * @param method the method's name
   * @param params positional (array) or named (object) params
   */
  notify(method: string, params?: RpcParams): Promise<void>;
  /**
   * Sends several calls and notifications at once and waits for every outcome.
   *
   * @param entries the calls, in order
   * @param options timeout and abort signal, for every call of the batch
   * @returns each entry's outcome, in order (`undefined` for notifications)
   */
  batch(
    entries: readonly BatchEntry[],
    options?: CallOptions,
  ): Promise<PromiseSettledResult<unknown>[]>;
  /**
   * A typed proxy of the other end's service.
   *
   * @typeParam S the service's type (`typeof service`)
   * @param definition the service's zod definition, to validate calls
   * @param options timeout and abort signal for every call made through it
   */
  proxy<S extends ServiceDefinition>(definition: S, options?: CallOptions): RemoteService<S>;
  /**
   * A typed proxy of the other end's service, typed by `S` alone.
   *
   * @typeParam S the service's type (`typeof service`)
   * @param definition none
   * @param options timeout and abort signal for every call made through it
   */
  proxy<S extends object>(definition?: undefined, options?: CallOptions): RemoteService<S>;
  /** Calls awaiting their reply. */
  readonly pending: number;
  /** Resolves when the client has closed and everything is released. */
  readonly closed: Promise<void>;
  /**
   * Closes: pending calls are rejected with a `ConnectionClosedError`.
   *
   * @param reason why, given as the `cause` of the pending calls' errors
   */
  close(reason?: unknown): Promise<void>;
}

/**
 * The shared part of every client: {@linkcode RpcClient.proxy} and
 * `Symbol.asyncDispose`, written once over the client's own `call` and
 * `close`. A client implements the rest.
 *
 * @example A client that answers every call itself
 * ```ts
 * import { type BatchEntry, type CallOptions, RpcClientBase } from "./client.ts";
 * import type { RpcParams } from "./types.ts";
 *
 * class Echo extends RpcClientBase {
 *   readonly pending = 0;
 *   readonly closed: Promise<void> = Promise.resolve();
 *   call<T>(method: string, params?: RpcParams, _options?: CallOptions): Promise<T> {
 *     return Promise.resolve([method, params] as T);
 *   }
 *   notify(): Promise<void> {
 *     return Promise.resolve();
 *   }
 *   batch(entries: readonly BatchEntry[]): Promise<PromiseSettledResult<unknown>[]> {
 *     return Promise.all(entries.map((e) => this.call(e.method, e.params)))
 *       .then((values) => values.map((value) => ({ status: "fulfilled" as const, value })));
 *   }
 *   close(): Promise<void> {
 *     return Promise.resolve();
 *   }
 * }
 * const echo = new Echo().proxy<{ hello(name: string): [string, unknown] }>();
 * console.assert((await echo.hello("you"))[0] === "hello");
 * ```
 */
export abstract class RpcClientBase implements RpcClient {
  /**
   * Calls a method and waits for its result.
   *
   * @param method the method's name
   * @param params positional (array) or named (object) params
   * @param options timeout and abort signal
   * @returns the result
   */
  abstract call<T = unknown>(
    method: string,
    params?: RpcParams,
    options?: CallOptions,
  ): Promise<T>;
  /**
   * Sends a notification: a call that expects no reply.
   *
   * @param method the method's name
   * @param params positional (array) or named (object) params
   */
  abstract notify(method: string, params?: RpcParams): Promise<void>;
  /**
   * Sends several calls and notifications at once and waits for every outcome.
   *
   * @param entries the calls, in order
   * @param options timeout and abort signal, for every call of the batch
   * @returns each entry's outcome, in order (`undefined` for notifications)
   */
  abstract batch(
    entries: readonly BatchEntry[],
    options?: CallOptions,
  ): Promise<PromiseSettledResult<unknown>[]>;
  /** Calls awaiting their reply. */
  abstract readonly pending: number;
  /** Resolves when the client has closed and everything is released. */
  abstract readonly closed: Promise<void>;
  /**
   * Closes: pending calls are rejected with a `ConnectionClosedError`.
   *
   * @param reason why, given as the `cause` of the pending calls' errors
   */
  abstract close(reason?: unknown): Promise<void>;

  /**
   * A typed proxy of the other end's service: `proxy.add(1, 2)` calls `add`.
   * Given a `defineService` definition, it also validates the params before
   * sending and the result after receiving.
   *
   * @typeParam S the service's type (`typeof service`)
   * @param definition the service's zod definition, to validate calls
   * @param options timeout and abort signal for every call made through it
   * @returns the proxy
   */
  proxy<S extends ServiceDefinition>(definition: S, options?: CallOptions): RemoteService<S>;
  /**
   * A typed proxy of the other end's service, typed by `S` alone:
   * `client.proxy<typeof service>()`.
   *
   * @typeParam S the service's type (`typeof service`)
   * @param definition none
   * @param options timeout and abort signal for every call made through it
   * @returns the proxy
   */
  proxy<S extends object>(definition?: undefined, options?: CallOptions): RemoteService<S>;
  proxy(definition?: ServiceDefinition, options?: CallOptions): unknown {
    return createProxy((method, params) => this.call(method, params, options), definition);
  }

  /** Closes, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
