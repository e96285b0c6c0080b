/**
 * The calculator's streaming methods (`Range`, `Total`, `Running` of
 * `calculator.proto`), as handlers of `protoService`: one implementation for
 * every protocol that carries streams.
 *
 * @module
 */

import type { CallContext } from "../../mod.ts";
import { invalidOperation } from "./service.ts";

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const MAX_COUNT = 1_000_000;

/**
 * `Range`'s request.
 *
 * @example
 * ```ts
 * import type { RangeRequest } from "./streams.ts";
 * const tenFromOne: RangeRequest = { start: 1, count: 10, delayMs: 0 };
 * console.assert(tenFromOne.count === 10);
 * ```
 */
export interface RangeRequest {
  /** The first number. */
  readonly start: number;
  /** How many numbers, 0..1,000,000. */
  readonly count: number;
  /** Milliseconds to wait before each number; 0 for none. */
  readonly delayMs: number;
}

/**
 * A `Number` message.
 *
 * @example
 * ```ts
 * import type { NumberMessage } from "./streams.ts";
 * const big: NumberMessage = { value: 2n ** 62n };
 * console.assert(typeof big.value === "bigint");
 * ```
 */
export interface NumberMessage {
  /** The value. */
  readonly value: bigint | number;
}

/**
 * `Range`: `count` numbers from `start`, waiting `delayMs` before each. A
 * count outside 0..1,000,000 fails before any message (checked here, not in
 * the generator, so the error is the call's reply at once).
 *
 * @param request the range
 * @param ctx the call's context: its signal stops the waiting
 * @returns the numbers
 * @throws {RpcError} InvalidOperation(1, "invalid count")
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { range } from "./streams.ts";
 *
 * const signal = new AbortController().signal;
 * const values = [];
 * for await (const { value } of range({ start: 5, count: 3, delayMs: 0 }, { id: 1, method: "Range", signal })) {
 *   values.push(value);
 * }
 * assert.deepEqual(values, [5n, 6n, 7n]);
 * assert.throws(() => range({ start: 0, count: -1, delayMs: 0 }, { id: 1, method: "Range", signal }), {
 *   code: 1,
 *   message: "invalid count",
 * });
 * ```
 */
export function range(request: RangeRequest, ctx: CallContext): AsyncIterable<NumberMessage> {
  const { start, count, delayMs } = request;
  if (!(count >= 0 && count <= MAX_COUNT)) throw invalidOperation(1, "invalid count");
  return (async function* () {
    for (let i = 0; i < count; i++) {
      if (delayMs > 0) await delay(delayMs, ctx.signal);
      yield { value: BigInt(start) + BigInt(i) };
    }
  })();
}

/**
 * `Total`: the exact sum of every number received (0 for none), range-checked
 * as a 64-bit integer once at the end.
 *
 * @param numbers the caller's numbers
 * @returns the sum as a `SumReply`
 * @throws {RpcError} InvalidOperation(1, "overflow")
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { total } from "./streams.ts";
 *
 * async function* numbers() {
 *   yield { value: 2n ** 63n - 1n };
 *   yield { value: 1 };
 *   yield { value: -1 };
 * }
 * assert.deepEqual(await total(numbers()), { total: 2n ** 63n - 1n });
 * ```
 */
export async function total(numbers: AsyncIterable<NumberMessage>): Promise<{ total: bigint }> {
  let sum = 0n;
  for await (const { value } of numbers) sum += BigInt(value);
  if (sum < I64_MIN || sum > I64_MAX) throw invalidOperation(1, "overflow");
  return { total: sum };
}

/**
 * `Running`: after each number received, the running total; a total outside
 * 64 bits fails the call and ends the stream.
 *
 * @param numbers the caller's numbers
 * @returns a `SumReply` per number
 * @throws {RpcError} InvalidOperation(1, "overflow"), from the iteration
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { running } from "./streams.ts";
 *
 * async function* numbers() {
 *   yield { value: 1 };
 *   yield { value: 2 };
 * }
 * const totals = [];
 * for await (const { total } of running(numbers())) totals.push(total);
 * assert.deepEqual(totals, [1n, 3n]);
 * ```
 */
export async function* running(
  numbers: AsyncIterable<NumberMessage>,
): AsyncGenerator<{ total: bigint }> {
  let sum = 0n;
  for await (const { value } of numbers) {
    sum += BigInt(value);
    if (sum < I64_MIN || sum > I64_MAX) throw invalidOperation(1, "overflow");
    yield { total: sum };
  }
}

// Waits, or rejects with the signal's reason when the caller cancels.
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
