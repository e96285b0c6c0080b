/**
 * The one retry policy of every client that can try again: the reconnecting
 * stream clients (TCP, TLS, Unix, stdio children, WebSocket, the browser's)
 * and the NATS client. It says how long to wait between attempts
 * (exponential backoff with full jitter), when to give up, and which methods
 * are safe to send twice.
 *
 * @module
 */

import { ConnectionClosedError, ErrorCode, RpcError } from "./errors.ts";
import type { CallOptions } from "./types.ts";

/**
 * How a client waits between attempts, when it gives up, and which calls it
 * may send again. Reconnection uses the backoff and `maxAttempts`; a call
 * uses the backoff, `idempotent` and `maxCallAttempts`.
 *
 * @example One policy, for a reconnecting TCP client and a NATS client alike
 * ```ts
 * import type { RetryPolicy } from "./retry.ts";
 * const policy: RetryPolicy = {
 *   initialDelay: 50,
 *   maxDelay: 2_000,
 *   idempotent: ["get", "list"],
 *   maxCallAttempts: 5,
 * };
 * console.assert(policy.idempotent !== undefined);
 * ```
 */
export interface RetryPolicy {
  /** Milliseconds of the first wait's ceiling; 100 by default. */
  readonly initialDelay?: number;
  /** The highest ceiling of a wait; 10 000 ms by default. */
  readonly maxDelay?: number;
  /** Each ceiling is this many times the one before; 2 by default. */
  readonly factor?: number;
  /** Connection attempts in a row before giving up (the client then closes); unlimited by default. */
  readonly maxAttempts?: number;
  /**
   * Whether a failed connection attempt is worth another: false gives up at
   * once (the client closes, the error as the cause). Every error retries by
   * default.
   */
  readonly retryOn?: (error: unknown) => boolean;
  /**
   * Methods safe to run twice: a call of one of them that meets a dropped
   * connection or a busy server is sent again. None by default; a call's
   * own `idempotent` option wins.
   */
  readonly idempotent?: readonly string[] | ((method: string) => boolean);
  /** How many times an idempotent call is tried in all; 3 by default. */
  readonly maxCallAttempts?: number;
  /**
   * Told before a call is sent again (to log or count retries): interceptors
   * see a call once, whatever its attempts, so this is where attempts show.
   */
  readonly onRetry?: (retry: CallRetry) => void;
}

/** A call about to be sent again, as {@linkcode RetryPolicy.onRetry} hears of it. */
export interface CallRetry {
  /** The method. */
  readonly method: string;
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** Why it failed: a dropped connection, a busy refusal, no answer in time. */
  readonly error: unknown;
  /** Milliseconds before the next attempt. */
  readonly delay: number;
}

/**
 * How long to wait before attempt `attempt + 1`: AWS's "full jitter", a
 * uniform draw between 0 and the exponential ceiling, which spreads best the
 * clients of a server that went down for all of them at once.
 *
 * @param policy the backoff
 * @param attempt attempts made so far, from 0
 * @param random a draw in [0, 1); `Math.random` by default
 * @returns milliseconds
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backoffDelay } from "./retry.ts";
 * assert.equal(backoffDelay({ initialDelay: 100 }, 3, () => 0.5), 400);
 * assert.equal(backoffDelay({ initialDelay: 100, maxDelay: 300 }, 3, () => 0.5), 150);
 * ```
 */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(
    policy.maxDelay ?? 10_000,
    (policy.initialDelay ?? 100) * (policy.factor ?? 2) ** attempt,
  );
  return ceiling * random();
}

/**
 * Whether a call may be sent again: its own `idempotent` option, else the
 * policy's list or test.
 *
 * @param policy the policy
 * @param method the call's method
 * @param options the call's options
 * @returns true when the call is safe to repeat
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isIdempotent } from "./retry.ts";
 * assert.equal(isIdempotent({ idempotent: ["get"] }, "get"), true);
 * assert.equal(isIdempotent({ idempotent: ["get"] }, "get", { idempotent: false }), false);
 * assert.equal(isIdempotent({}, "put", { idempotent: true }), true);
 * ```
 */
export function isIdempotent(
  policy: RetryPolicy,
  method: string,
  options?: CallOptions,
): boolean {
  if (options?.idempotent !== undefined) return options.idempotent;
  const idempotent = policy.idempotent;
  if (idempotent === undefined) return false;
  return typeof idempotent === "function" ? idempotent(method) : idempotent.includes(method);
}

/**
 * Whether a failed call's error is one that sending it again may cure: the
 * connection dropped, or the server refused it as busy (`ServerBusy`,
 * -32000: too many calls in flight, or shutting down). Only for idempotent
 * calls: a dropped call may have run.
 *
 * @param error what the call failed with
 * @returns true for a dropped connection or a busy server
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { retriable } from "./retry.ts";
 * import { ConnectionClosedError, ErrorCode, RpcError } from "./errors.ts";
 * assert.equal(retriable(new ConnectionClosedError()), true);
 * assert.equal(retriable(new RpcError(ErrorCode.ServerBusy, "Too many calls in flight")), true);
 * assert.equal(retriable(new RpcError(ErrorCode.InvalidParams, "Invalid params")), false);
 * ```
 */
export function retriable(error: unknown): boolean {
  return error instanceof ConnectionClosedError ||
    (error instanceof RpcError && error.code === ErrorCode.ServerBusy);
}

/**
 * Waits `ms`, or less when the signal aborts (then it rejects with the
 * signal's reason).
 *
 * @param ms milliseconds
 * @param signal stops the wait
 * @returns resolves after the wait
 *
 * @example
 * ```ts
 * import { sleep } from "./retry.ts";
 * await sleep(1);
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
