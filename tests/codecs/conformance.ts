/**
 * The conformance suite every codec runs: round trips of every message kind
 * (examples and properties), truncated and garbage frames, batches,
 * `measure()` against `decode()`, and the cancellation helpers.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { DecodeError } from "../../rpc/errors.ts";
import type { Codec, Frame, RpcMessage, RpcParams } from "../../rpc/types.ts";

/** Options of {@linkcode runCodecSuite}. */
export interface CodecSuiteOptions {
  /** Frames that must not decode (they must throw {@linkcode DecodeError}). */
  readonly garbage?: readonly Frame[];
  /** Property runs per property; at most 100. */
  readonly numRuns?: number;
  /** Ids are unsigned 32-bit integers (msgpack-rpc): string ids become numbers. */
  readonly uint32Ids?: boolean;
  /** Strings travel as UTF-8: lone surrogates are left out of the properties. */
  readonly wellFormedStrings?: boolean;
  /** What the codec decodes a message to, when not the message itself (absent params as `[]`). */
  readonly normalize?: (message: RpcMessage) => RpcMessage;
}

const encoder = new TextEncoder();

function bytesOf(frame: Frame): Uint8Array {
  return typeof frame === "string" ? encoder.encode(frame) : frame;
}

function prefix(frame: Frame, length: number): Frame {
  return typeof frame === "string" ? frame.slice(0, length) : frame.subarray(0, length);
}

/** One example of every message kind, with params of each shape. */
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

/** A value every codec carries exactly: integers, finite doubles other than -0, strings, booleans, null, arrays and plain objects. */
export function valueArbitrary(): fc.Arbitrary<unknown> {
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

/** Any message of the model, with values from {@linkcode valueArbitrary}. */
export function messageArbitrary(uint32Ids = false): fc.Arbitrary<RpcMessage> {
  const id = uint32Ids
    ? fc.integer({ min: 0, max: 2 ** 32 - 1 })
    : fc.oneof(fc.integer(), fc.string());
  const method = fc.string({ minLength: 1 });
  const params: fc.Arbitrary<RpcParams> = fc.oneof(
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

function decodesTo(codec: Codec, frame: Frame, expected: unknown): void {
  assert.deepStrictEqual(codec.decode(frame), expected);
}

function wellFormed(value: unknown): boolean {
  if (typeof value === "string") return value.isWellFormed();
  if (typeof value !== "object" || value === null) return true;
  return Object.entries(value).every(([k, v]) => k.isWellFormed() && wellFormed(v));
}

// String ids replaced by numbers, for codecs whose ids are unsigned integers.
function withUint32Id(message: RpcMessage, n: number): RpcMessage {
  if (!("id" in message) || typeof message.id !== "string") return message;
  return { ...message, id: 1000 + n } as RpcMessage;
}

/**
 * Registers the conformance tests of `codec` with `Deno.test`.
 *
 * @param name the name the tests are reported under
 * @param codec the codec under test
 * @param options garbage frames and property runs
 */
export function runCodecSuite(name: string, codec: Codec, options: CodecSuiteOptions = {}): void {
  const numRuns = Math.min(options.numRuns ?? 100, 100);
  const normalize = options.normalize ?? ((m: RpcMessage) => m);
  const messages = EXAMPLES.filter((m) => codec.features.notifications || m.kind !== "notification")
    .map((m, n) => options.uint32Ids ? withUint32Id(m, n) : m);

  Deno.test(`${name}: round trips every message kind`, () => {
    for (const message of messages) decodesTo(codec, codec.encode(message), normalize(message));
  });

  Deno.test(`${name}: decodes its frames as bytes too`, () => {
    for (const message of messages) {
      decodesTo(codec, bytesOf(codec.encode(message)), normalize(message));
    }
  });

  Deno.test(`${name}: round trips any message (property)`, () => {
    const arbitrary = messageArbitrary(options.uint32Ids).filter((m) =>
      (codec.features.notifications || m.kind !== "notification") &&
      (!options.wellFormedStrings || wellFormed(m))
    );
    fc.assert(
      fc.property(
        arbitrary,
        (message) => decodesTo(codec, codec.encode(message), normalize(message)),
      ),
      { numRuns },
    );
  });

  Deno.test(`${name}: a truncated frame throws DecodeError`, () => {
    for (const message of messages) {
      const frame = codec.encode(message);
      const length = typeof frame === "string" ? frame.length : frame.byteLength;
      for (let n = 0; n < length; n++) {
        assert.throws(
          () => codec.decode(prefix(frame, n)),
          DecodeError,
          `prefix ${n} of ${length}`,
        );
      }
    }
  });

  Deno.test(`${name}: garbage throws DecodeError`, () => {
    const garbage = options.garbage ?? [new Uint8Array([0xc1, 0xff, 0xfe, 0x00])];
    for (const frame of garbage) assert.throws(() => codec.decode(frame), DecodeError);
  });

  Deno.test(`${name}: random bytes decode or throw DecodeError, nothing else`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          codec.decode(bytes);
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error;
        }
      }),
      { numRuns },
    );
  });

  if (codec.features.batch) {
    Deno.test(`${name}: round trips a batch`, () => {
      const frame = codec.encode(messages);
      decodesTo(codec, frame, { kind: "batch", messages });
    });

    Deno.test(`${name}: round trips any batch (property)`, () => {
      fc.assert(
        fc.property(fc.array(messageArbitrary(), { minLength: 1, maxLength: 5 }), (batch) => {
          decodesTo(codec, codec.encode(batch), { kind: "batch", messages: batch });
        }),
        { numRuns },
      );
    });
  }

  const measure = codec.measure?.bind(codec);
  if (measure !== undefined) {
    Deno.test(`${name}: measure() finds the frames decode() reads`, () => {
      for (const message of messages) {
        const bytes = bytesOf(codec.encode(message));
        const two = new Uint8Array(bytes.length * 2);
        two.set(bytes);
        two.set(bytes, bytes.length);
        assert.equal(measure(bytes), bytes.length);
        assert.equal(measure(two), bytes.length);
        for (let n = 0; n < bytes.length; n++) {
          assert.equal(measure(bytes.subarray(0, n)), undefined);
        }
        decodesTo(codec, two.subarray(0, bytes.length), normalize(message));
      }
    });
  }

  const cancel = codec.cancelNotification?.bind(codec);
  const read = codec.readCancellation?.bind(codec);
  if (cancel !== undefined && read !== undefined) {
    Deno.test(`${name}: a cancellation round trips`, () => {
      for (const id of [0, 7, "call-1"]) {
        const decoded = codec.decode(codec.encode(cancel(id)));
        assert.equal(decoded.kind, "notification");
        if (decoded.kind === "notification") assert.equal(read(decoded), id);
      }
      assert.equal(read({ kind: "notification", method: "other", params: { id: 1 } }), undefined);
    });
  }
}
