/**
 * Messages and values for codec tests: one example of every message kind,
 * and fast-check arbitraries of values and messages that every schema-free
 * codec carries exactly.
 *
 * @example Check that a codec carries any value as a result
 * ```ts
 * import assert from "node:assert/strict";
 * import fc from "fast-check";
 * import { valueArbitrary } from "./codec_examples.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const codec = jsonRpc();
 * fc.assert(fc.property(valueArbitrary(), (result) => {
 *   const message = { kind: "result", id: 1, result } as const;
 *   assert.deepEqual(codec.decode(codec.encode(message)), message);
 * }), { numRuns: 20 });
 * ```
 *
 * @module
 */

import fc, { type Arbitrary } from "fast-check";
import type { RpcMessage, RpcParams } from "../rpc/types.ts";

/**
 * One example of every message kind, with params of each shape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EXAMPLES } from "./codec_examples.ts";
 *
 * assert.ok(EXAMPLES.some((m) => m.kind === "notification"));
 * assert.ok(EXAMPLES.some((m) => m.kind === "error"));
 * ```
 */
export const EXAMPLES: readonly RpcMessage[] = [
  { kind: "request", id: 1, method: "add", params: [1, 2] },
  { kind: "request", id: "a-1", method: "calculate", params: { logid: 1, w: { num1: 1 } } },
  { kind: "request", id: 0, method: "ping" },
  { kind: "request", id: 2, method: "echo", params: ["", "héllo ✓ 𝄞", '\u0000\n"\\'] },
  { kind: "notification", method: "zip" },
  { kind: "notification", method: "log", params: ["line"] },
  { kind: "notification", method: "update", params: { a: [1, { b: null }] } },
  { kind: "result", id: 1, result: 3 },
  { kind: "result", id: "x", result: null },
  { kind: "result", id: 3, result: { coords: [1.5, -2.25], flag: true, name: "s" } },
  { kind: "result", id: 4, result: [] },
  { kind: "error", id: 1, error: { code: -32601, message: "Method not found" } },
  { kind: "error", id: null, error: { code: -32700, message: "Parse error" } },
  {
    kind: "error",
    id: "e",
    error: { code: 1, message: "overflow", data: { whatOp: 1, why: "overflow" } },
  },
];

/**
 * A value every schema-free codec carries exactly: integers, finite doubles
 * other than -0, strings, booleans, null, arrays and plain objects.
 *
 * @returns the arbitrary
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import fc from "fast-check";
 * import { valueArbitrary } from "./codec_examples.ts";
 *
 * for (const value of fc.sample(valueArbitrary(), 20)) {
 *   assert.deepEqual(JSON.parse(JSON.stringify(value)), value);
 * }
 * ```
 */
export function valueArbitrary(): Arbitrary<unknown> {
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { maxDepth: 3, depthIdentifier: "value" },
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
      fc.string({ unit: "binary" }),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(fc.string(), tie("value"), { maxKeys: 4, noNullPrototype: true }),
    ),
  }));
  return value;
}

/**
 * Any message of the model, with values from {@linkcode valueArbitrary}.
 *
 * @param uint32Ids ids are unsigned 32-bit integers (msgpack-rpc)
 * @returns the arbitrary
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import fc from "fast-check";
 * import { messageArbitrary } from "./codec_examples.ts";
 *
 * for (const m of fc.sample(messageArbitrary(true), 20)) {
 *   assert.ok(!("id" in m) || m.id === null || typeof m.id === "number");
 * }
 * ```
 */
export function messageArbitrary(uint32Ids = false): Arbitrary<RpcMessage> {
  const id = uint32Ids
    ? fc.integer({ min: 0, max: 2 ** 32 - 1 })
    : fc.oneof(fc.integer(), fc.string());
  const method = fc.string({ minLength: 1 });
  const params: Arbitrary<RpcParams> = fc.oneof(
    fc.array(valueArbitrary(), { maxLength: 4 }),
    fc.dictionary(fc.string(), valueArbitrary(), { maxKeys: 4, noNullPrototype: true }),
  );
  const error = fc.record(
    { code: fc.integer(), message: fc.string(), data: valueArbitrary() },
    { requiredKeys: ["code", "message"], noNullPrototype: true },
  );
  return fc.oneof(
    fc.record({ kind: fc.constant("request" as const), id, method, params }, {
      requiredKeys: ["kind", "id", "method"],
      noNullPrototype: true,
    }),
    fc.record({ kind: fc.constant("notification" as const), method, params }, {
      requiredKeys: ["kind", "method"],
      noNullPrototype: true,
    }),
    fc.record({ kind: fc.constant("result" as const), id, result: valueArbitrary() }, {
      noNullPrototype: true,
    }),
    fc.record({ kind: fc.constant("error" as const), id: fc.option(id, { nil: null }), error }, {
      noNullPrototype: true,
    }),
  );
}
