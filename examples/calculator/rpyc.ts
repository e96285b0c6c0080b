/**
 * The Calculator of the interop contract as an RPyC service root
 * (`shared/interop/README.md`, "RPyC"): what Python's `rpyc.connect(host,
 * port).root` reaches when the example server runs with `--codec rpyc`.
 *
 * Python's objects arrive as proxies: `calculate` reads the caller's `w`
 * through attribute access, `sum` iterates a Python list, `progress` calls a
 * Python function back. Every reference a call received is given back to
 * Python (DEL) once the call's reply is on its way, as CPython's own server
 * drops them when the call returns, so the caller's table of lent objects
 * empties.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rpycCalculator } from "./rpyc.ts";
 *
 * const root = rpycCalculator();
 * assert.equal(root.exposed_add(1, 2), 3);
 * assert.throws(() => root.exposed_add(2 ** 31 - 1, 1), /overflow/);
 * ```
 *
 * @module
 */

import { Float } from "../../rpc/float.ts";
import { iterate } from "../../protocols/rpyc/sugar.ts";
import { netrefOf, RpycError } from "../../protocols/rpyc/netref.ts";
import { Operation } from "./service.ts";

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
// Bounds on what one call may make the server do for a caller.
const MAX_ITEMS = 1_000_000;
const MAX_PROGRESS = 1_000_000;

/**
 * The contract's InvalidOperation: Python raises it (as
 * `parley.InvalidOperation`) with the why as its message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidOperation } from "./rpyc.ts";
 *
 * assert.equal(new InvalidOperation(4, "Cannot divide by 0").message, "Cannot divide by 0");
 * ```
 */
export class InvalidOperation extends Error {
  /** The operation that failed (1 for `add` and `sum`). */
  readonly whatOp: number;
  /**
   * @param whatOp the operation that failed
   * @param why the reason, the exception's message
   */
  constructor(whatOp: number, why: string) {
    super(why);
    this.name = "InvalidOperation";
    this.whatOp = whatOp;
  }
}

/** The root object the RPyC calculator serves: RPyC's `exposed_` names. */
export interface RpycCalculator {
  /** `add(a, b)`: the i32 sum. */
  exposed_add(a: unknown, b: unknown): number;
  /** `calculate(logid, w)`: `w.op` applied to `w.num1`, `w.num2`, read from the caller's object. */
  exposed_calculate(logid: unknown, w: unknown): Promise<number>;
  /** `echo(x)`: `x`, whatever it is. */
  exposed_echo(x: unknown): unknown;
  /** `sum(values)`: the exact sum of a tuple or list of ints, range-checked as i64 at the end. */
  exposed_sum(values: unknown): Promise<number | bigint>;
  /** `progress(n, callback)`: `callback(i)` for i in 1..n, then n. */
  exposed_progress(n: unknown, callback: unknown): Promise<number>;
}

/**
 * A calculator root for `serveRpyc`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rpycCalculator } from "./rpyc.ts";
 * import { serveRpyc } from "../../rpc/transports/rpyc.ts";
 *
 * await using server = serveRpyc({ hostname: "127.0.0.1", port: 0 }, { root: rpycCalculator() });
 * assert.match(server.url, /^tcp:/);
 * ```
 *
 * @returns the root
 */
export function rpycCalculator(): RpycCalculator {
  return {
    exposed_add(a, b) {
      return checkI32(i32(a, "a") + i32(b, "b"), 1);
    },
    async exposed_calculate(logid, w) {
      i32(logid, "logid");
      try {
        const [num1, num2, op] = await workOf(w);
        return calculate(i32(num1, "w.num1"), i32(num2, "w.num2"), integer(op, "w.op"));
      } finally {
        releaseAfterReply(w);
      }
    },
    exposed_echo(x) {
      // A Python object comes back as itself: the reply names the caller's
      // own reference, which is given back only once the reply has left.
      releaseAfterReply(x);
      return x;
    },
    async exposed_sum(values) {
      try {
        let total = 0n;
        let count = 0;
        const items = Array.isArray(values) ? values : iterate(values, { batch: 256 });
        for await (const value of items) {
          if (++count > MAX_ITEMS) throw new RangeError(`sum takes at most ${MAX_ITEMS} values`);
          total += BigInt(integer(value, "a value"));
        }
        if (total < I64_MIN || total > I64_MAX) throw new InvalidOperation(1, "overflow");
        return Number.isSafeInteger(Number(total)) ? Number(total) : total;
      } finally {
        releaseAfterReply(values);
      }
    },
    async exposed_progress(n, callback) {
      try {
        const count = integer(n, "n");
        if (typeof count !== "number" || count < 0 || count > MAX_PROGRESS) {
          throw new RangeError(`n must be between 0 and ${MAX_PROGRESS}`);
        }
        if (typeof callback !== "function") throw new TypeError("callback is not callable");
        for (let i = 1; i <= count; i++) await callback(i);
        return count;
      } finally {
        releaseAfterReply(callback);
      }
    },
  };
}

// w.num1, w.num2, w.op: the public names when the caller allows them
// (allow_public_attrs), otherwise the exposed_ names RPyC's default
// config serves.
async function workOf(w: unknown): Promise<unknown[]> {
  if (netrefOf(w) === undefined) throw new TypeError("w must be an object with num1, num2, op");
  const read = (names: string[]) =>
    Promise.all(names.map((name) => (w as Record<string, PromiseLike<unknown>>)[name]));
  try {
    return await read(["num1", "num2", "op"]);
  } catch (e) {
    if (!(e instanceof RpycError) || e.pythonType !== "AttributeError") throw e;
    return await read(["exposed_num1", "exposed_num2", "exposed_op"]);
  }
}

function calculate(num1: number, num2: number, op: number | bigint): number {
  switch (op) {
    case Operation.ADD:
      return checkI32(num1 + num2, op);
    case Operation.SUBTRACT:
      return checkI32(num1 - num2, op);
    case Operation.MULTIPLY:
      return checkI32(num1 * num2, op);
    case Operation.DIVIDE:
      if (num2 === 0) throw new InvalidOperation(op, "Cannot divide by 0");
      return checkI32(Math.trunc(num1 / num2), op);
    default:
      throw new InvalidOperation(Number(op), "Invalid operation");
  }
}

function checkI32(result: number, op: number): number {
  if (result < I32_MIN || result > I32_MAX) throw new InvalidOperation(op, "overflow");
  return result;
}

// A Python int: a number that is whole, or a bigint (never a bool or a
// float, which brine keeps apart).
function integer(value: unknown, what: string): number | bigint {
  if (typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value))) {
    return value;
  }
  const type = value instanceof Float ? "float" : value === null ? "None" : typeof value;
  throw new TypeError(`${what} must be an int, not ${type}`);
}

function i32(value: unknown, what: string): number {
  const n = integer(value, what);
  if (typeof n !== "number" || n < I32_MIN || n > I32_MAX) {
    throw new TypeError(`${what} must be a 32-bit int`);
  }
  return n;
}

// After the reply: the session writes it when the handler settles, in
// order, so a release queued as a task goes out behind it.
// Tuples are searched too: their items may be references.
function releaseAfterReply(value: unknown): void {
  const netref = netrefOf(value);
  if (netref !== undefined) setTimeout(() => netref.release().catch(() => {}), 0);
  else if (Array.isArray(value)) value.forEach(releaseAfterReply);
}
