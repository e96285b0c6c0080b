/**
 * The Calculator of the interop contract (`shared/interop/README.md`),
 * defined once with zod and served by every codec.
 *
 * @module
 */

import { z } from "zod";
import { defineService, method, RpcError } from "../../mod.ts";

/** The operations of `Work.op`, as they travel: integers 1..4. */
export const Operation = { ADD: 1, SUBTRACT: 2, MULTIPLY: 3, DIVIDE: 4 } as const;

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** How 64-bit integers travel in the codec that serves the calculator. */
export interface CalculatorOptions {
  /**
   * `"safe"` for codecs whose numbers are doubles (JSON): i64 values beyond
   * ±(2^53−1) are invalid params and such results overflow. `"full"` (the
   * default) for codecs that carry all 64 bits (msgpack, XML-RPC i8).
   */
  readonly int64?: "safe" | "full";
  /**
   * Whether bytes may arrive as base64 text: for codecs without a bytes type
   * (JSON). Elsewhere a string where bytes are expected is invalid params.
   * Default `false`.
   */
  readonly base64?: boolean;
}

/** The error code of InvalidOperation in every codec (the contract's table). */
export const INVALID_OPERATION = 1;

/**
 * The InvalidOperation exception of the contract: code 1 whatever the op,
 * message why, data `{whatOp, why}`.
 */
export function invalidOperation(whatOp: number, why: string): RpcError {
  return new RpcError(INVALID_OPERATION, why, { whatOp, why });
}

const i32 = z.number().int().min(I32_MIN).max(I32_MAX);

// A double as the contract has it: NaN and the infinities included, for the
// codecs that carry them (zod's number refuses them).
const double = z.union([
  z.number(),
  z.nan(),
  z.custom<number>((v) => v === Infinity || v === -Infinity, "Expected a double"),
]);

// Bytes arrive as Uint8Array from binary codecs and, where the codec has no
// bytes (JSON), as standard padded base64, decoded strictly.
const bytes = z.instanceof(Uint8Array);
const base64Bytes = z.union([
  bytes,
  z.string().transform((text, ctx) => {
    try {
      return Uint8Array.fromBase64(text, { lastChunkHandling: "strict" });
    } catch {
      ctx.addIssue({ code: "custom", message: "Invalid base64" });
      return z.NEVER;
    }
  }),
]);

function int64(mode: "safe" | "full") {
  const safe = z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
  if (mode === "safe") return safe.transform((n) => BigInt(n));
  // ±2^53 is exact as a number, and msgpack decoders hand it over as one
  // (zod's .int() stops at the safe integers, whatever min and max say).
  const exact = z.number().refine(
    (n) => Number.isInteger(n) && Math.abs(n) <= 2 ** 53,
    "Expected an integer",
  );
  return z.union([exact.transform((n) => BigInt(n)), z.bigint().min(I64_MIN).max(I64_MAX)]);
}

// A map of string keys. zod's record drops a "__proto__" key (its guard
// against prototype pollution), but to a Python or Go caller it is a key
// like any other: the entries are checked one by one and kept as own
// properties (Object.fromEntries defines them, it does not assign).
function stringMap<T extends z.ZodType>(value: T) {
  return z.custom<Record<string, unknown>>((v) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
    const proto = Object.getPrototypeOf(v);
    return proto === Object.prototype || proto === null;
  }, "Expected a map").transform((map, ctx) => {
    const entries: [string, z.output<T>][] = [];
    for (const [key, item] of Object.entries(map)) {
      const parsed = value.safeParse(item);
      if (parsed.success) entries.push([key, parsed.data]);
      else {
        for (const issue of parsed.error.issues) {
          ctx.addIssue({ code: "custom", message: issue.message, path: [key, ...issue.path] });
        }
      }
    }
    return Object.fromEntries(entries) as Record<string, z.output<T>>;
  });
}

// Results leave as numbers where that is exact, so JSON can carry them.
function fromInt64(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}

function checkI32(op: number, value: number): number {
  if (value < I32_MIN || value > I32_MAX) throw invalidOperation(op, "overflow");
  return value;
}

/**
 * Builds the calculator service.
 *
 * @param options how 64-bit integers travel
 * @returns the service definition
 */
export function createCalculator(options: CalculatorOptions = {}) {
  const mode = options.int64 ?? "full";
  const i64 = int64(mode);
  const i64Out = z.union([z.number().int(), z.bigint()]);
  const blob = options.base64 ? base64Bytes : bytes;
  const work = z.object({
    num1: i32,
    num2: i32,
    op: i32,
    comment: z.string().nullish(),
  });
  const shape = z.object({
    name: z.string(),
    coords: z.array(double),
    tags: stringMap(i64.transform(fromInt64)),
    blob,
    flag: z.boolean(),
  });
  // What echoShape returns: its doubles are marked as doubles on the way out.
  const shapeOut = z.object({
    name: z.string(),
    coords: z.array(double),
    tags: stringMap(i64Out),
    blob: bytes,
    flag: z.boolean(),
  });
  const [low, high] = mode === "safe"
    ? [BigInt(Number.MIN_SAFE_INTEGER), BigInt(Number.MAX_SAFE_INTEGER)]
    : [I64_MIN, I64_MAX];

  return defineService({
    ping: method({
      params: z.tuple([]),
      result: z.null(),
      description: "Does nothing; answers null",
      handler: () => null,
    }),
    add: method({
      params: z.tuple([i32, i32]),
      names: ["num1", "num2"],
      result: i32,
      description: "The 32-bit signed sum of num1 and num2",
      handler: (num1, num2) => checkI32(1, num1 + num2),
    }),
    calculate: method({
      params: z.tuple([i32, work]),
      names: ["logid", "w"],
      result: i32,
      description: "Applies w.op (1 add, 2 subtract, 3 multiply, 4 divide) to w.num1 and w.num2",
      handler: (_logid, w) => {
        switch (w.op) {
          case Operation.ADD:
            return checkI32(w.op, w.num1 + w.num2);
          case Operation.SUBTRACT:
            return checkI32(w.op, w.num1 - w.num2);
          case Operation.MULTIPLY:
            // Exact in a double: |product| < 2^62, and only the range matters.
            return checkI32(w.op, w.num1 * w.num2);
          case Operation.DIVIDE:
            if (w.num2 === 0) throw invalidOperation(Operation.DIVIDE, "Cannot divide by 0");
            return checkI32(w.op, Math.trunc(w.num1 / w.num2));
          default:
            throw invalidOperation(w.op, "Invalid operation");
        }
      },
    }),
    echo: method({
      params: z.tuple([z.string()]),
      names: ["text"],
      result: z.string(),
      description: "Returns text unchanged",
      handler: (text) => text,
    }),
    echoBinary: method({
      params: z.tuple([blob]),
      names: ["data"],
      result: z.instanceof(Uint8Array),
      description: "Returns the bytes unchanged",
      handler: (data) => data,
    }),
    echoShape: method({
      params: z.tuple([shape]),
      names: ["s"],
      // The Shape as it leaves: its coords are doubles (z.number()), so a
      // whole coord travels as a double (2.0) in the codecs that tell them apart.
      result: shapeOut,
      description: "Returns the Shape unchanged",
      handler: (s) => s,
    }),
    sum: method({
      params: z.tuple([z.array(i64)]),
      names: ["values"],
      result: i64Out,
      description: "The exact sum of a list of 64-bit integers",
      handler: (values) => {
        let total = 0n;
        for (const value of values) total += value;
        if (total < low || total > high) throw invalidOperation(1, "overflow");
        return fromInt64(total);
      },
    }),
    zip: method({
      params: z.tuple([]),
      result: z.null(),
      description: "One-way: sent as a notification; answered with null when called with an id",
      handler: () => null,
    }),
  });
}
