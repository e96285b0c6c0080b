/**
 * The conformance suite every codec runs, as named cases: round trips of
 * every message kind (examples and properties), truncated and garbage frames,
 * batches, `measure()` against `decode()`, and the cancellation helpers.
 * What a codec cannot do is said in its options (no ids on the wire, a
 * schema, no batches), and the cases it rules out are skipped with that
 * reason rather than weakened.
 *
 * @example A schema-free codec of your own runs every case
 * ```ts
 * import { codecSuite } from "./codec_suite.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const cases = codecSuite("jsonRpc()", jsonRpc(), { numRuns: 10 });
 * // In a test file: testCases(cases) from "./cases.ts"; here, by hand:
 * for (const c of cases) if (c.skip === undefined) await c.fn();
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { DecodeError } from "../rpc/errors.ts";
import type { Codec, Frame, RpcId, RpcMessage } from "../rpc/types.ts";
import { collector, type SuiteCase } from "./cases.ts";
import { EXAMPLES, messageArbitrary } from "./codec_examples.ts";

/** The cases a codec may rule out, each with its reason. */
export interface CodecSuiteSkips {
  /** Arbitrary messages cannot round trip (a schema, no ids on the wire). */
  readonly anyMessage?: string;
  /** A prefix of a frame may be a valid frame (no end marker on the wire). */
  readonly truncated?: string;
}

/** Options of {@linkcode codecSuite}. */
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
  /**
   * Makes a fresh client and server, for codecs that remember the calls they
   * sent: XML-RPC matches replies to calls by order, protobuf and Thrift type
   * a reply by its call. Replies are then encoded by the server and decoded
   * by a client that sent the request they answer (the request of
   * `messages` with the same id, else the first request), under the id the
   * server saw.
   */
  readonly pair?: () => readonly [client: Codec, server: Codec];
  /** The messages the codec carries, when not {@linkcode EXAMPLES} (a schema's methods and types). */
  readonly messages?: readonly RpcMessage[];
  /** Cases that cannot apply to the codec, with the reason each is skipped. */
  readonly skip?: CodecSuiteSkips;
}

// A frame as sent, and a fresh receiver in the state that reads it (a client
// that sent the call a reply answers).
interface Sent {
  readonly frame: Frame;
  readonly receiver: () => Codec;
}

const encoder = new TextEncoder();

function bytesOf(frame: Frame): Uint8Array {
  return typeof frame === "string" ? encoder.encode(frame) : frame;
}

function prefix(frame: Frame, length: number): Frame {
  return typeof frame === "string" ? frame.slice(0, length) : frame.subarray(0, length);
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

// The call a reply answers: the request with its id, or else the first
// request under its id.
function requestFor(messages: readonly RpcMessage[], id: RpcId): RpcMessage | undefined {
  const requests = messages.filter((m) => m.kind === "request");
  return requests.find((m) => m.id === id) ?? (requests[0] && { ...requests[0], id });
}

// How each message travels: through the one codec, or from a fresh client
// to a fresh server (requests) and back (replies, after their request).
function sender(codec: Codec, options: CodecSuiteOptions): (message: RpcMessage) => Sent {
  const pair = options.pair;
  if (pair === undefined) {
    return (message) => ({
      frame: codec.encode(message),
      receiver: () => codec,
    });
  }
  const requests = options.messages ?? EXAMPLES;
  return (message) => {
    if (message.kind === "request" || message.kind === "notification") {
      return { frame: pair()[0].encode(message), receiver: () => pair()[1] };
    }
    const request = message.id === null ? undefined : requestFor(requests, message.id);
    // Fresh pairs are alike, so every client made here sent the same call.
    const connected = () => {
      const [client, server] = pair();
      const call = request === undefined ? undefined : server.decode(client.encode(request));
      return { client, server, id: call !== undefined && "id" in call ? call.id : message.id };
    };
    const { server, id } = connected();
    const frame = server.encode({ ...message, id } as RpcMessage);
    return { frame, receiver: () => connected().client };
  };
}

/**
 * The conformance cases of `codec`.
 *
 * @param name the name the cases are reported under
 * @param codec the codec under test
 * @param options what the codec carries and cannot do, garbage frames, property runs
 * @returns the cases, for {@linkcode testCases} or any runner
 *
 * @example A codec without batches lists its batch cases as skipped, with why
 * ```ts
 * import assert from "node:assert/strict";
 * import { codecSuite } from "./codec_suite.ts";
 * import { msgpackRpc } from "../codecs/msgpack_rpc.ts";
 *
 * const cases = codecSuite("msgpackRpc()", msgpackRpc(), { uint32Ids: true });
 * const batch = cases.find((c) => c.name.includes("round trips a batch"))!;
 * assert.notEqual(batch.skip, undefined);
 * await cases.find((c) => c.name.includes("garbage"))!.fn();
 * ```
 */
export function codecSuite(
  name: string,
  codec: Codec,
  options: CodecSuiteOptions = {},
): SuiteCase[] {
  const { test, skip, cases } = collector();
  const numRuns = Math.min(options.numRuns ?? 100, 100);
  const normalize = options.normalize ?? ((m: RpcMessage) => m);
  const messages = (options.messages ?? EXAMPLES)
    .filter((m) => codec.features.notifications || m.kind !== "notification")
    .map((m, n) => options.uint32Ids ? withUint32Id(m, n) : m);
  const send = sender(codec, options);
  const receiver = options.pair === undefined ? () => codec : () => options.pair!()[1];

  test(`${name}: round trips every message kind`, () => {
    for (const message of messages) {
      const { frame, receiver } = send(message);
      decodesTo(receiver(), frame, normalize(message));
    }
  });

  test(`${name}: decodes its frames as bytes too`, () => {
    for (const message of messages) {
      const { frame, receiver } = send(message);
      decodesTo(receiver(), bytesOf(frame), normalize(message));
    }
  });

  if (!codec.features.notifications) {
    skip(`${name}: round trips notifications`, "the codec has no notifications on the wire");
  }

  const { anyMessage, truncated } = options.skip ?? {};
  if (anyMessage !== undefined) skip(`${name}: round trips any message (property)`, anyMessage);
  else {
    test(`${name}: round trips any message (property)`, () => {
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
  }

  if (truncated !== undefined) skip(`${name}: a truncated frame throws DecodeError`, truncated);
  else {
    test(`${name}: a truncated frame throws DecodeError`, () => {
      for (const message of messages) {
        const { frame, receiver } = send(message);
        const length = typeof frame === "string" ? frame.length : frame.byteLength;
        for (let n = 0; n < length; n++) {
          assert.throws(
            () => receiver().decode(prefix(frame, n)),
            DecodeError,
            `prefix ${n} of ${length} of ${JSON.stringify(message)}`,
          );
        }
      }
    });
  }

  test(`${name}: garbage throws DecodeError`, () => {
    const garbage = options.garbage ?? [new Uint8Array([0xc1, 0xff, 0xfe, 0x00])];
    for (const frame of garbage) assert.throws(() => receiver().decode(frame), DecodeError);
  });

  test(`${name}: random bytes decode or throw DecodeError, nothing else`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          receiver().decode(bytes);
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error;
        }
      }),
      { numRuns },
    );
  });

  if (codec.features.batch) {
    test(`${name}: round trips a batch`, () => {
      const frame = codec.encode(messages);
      decodesTo(codec, frame, { kind: "batch", messages });
    });

    test(`${name}: round trips any batch (property)`, () => {
      fc.assert(
        fc.property(fc.array(messageArbitrary(), { minLength: 1, maxLength: 5 }), (batch) => {
          decodesTo(codec, codec.encode(batch), { kind: "batch", messages: batch });
        }),
        { numRuns },
      );
    });
  } else {
    const why = "the codec has no batches on the wire (features.batch is false)";
    skip(`${name}: round trips a batch`, why);
    skip(`${name}: round trips any batch (property)`, why);
  }

  const measure = codec.measure?.bind(codec);
  if (measure !== undefined) {
    test(`${name}: measure() finds the frames decode() reads`, () => {
      for (const message of messages) {
        const { frame, receiver } = send(message);
        const bytes = bytesOf(frame);
        const two = new Uint8Array(bytes.length * 2);
        two.set(bytes);
        two.set(bytes, bytes.length);
        assert.equal(measure(bytes), bytes.length);
        assert.equal(measure(two), bytes.length);
        for (let n = 0; n < bytes.length; n++) {
          assert.equal(measure(bytes.subarray(0, n)), undefined);
        }
        decodesTo(receiver(), two.subarray(0, bytes.length), normalize(message));
      }
    });
  } else {
    skip(
      `${name}: measure() finds the frames decode() reads`,
      "the codec has no measure(): a framing delimits its frames",
    );
  }

  const cancel = codec.cancelNotification?.bind(codec);
  const read = codec.readCancellation?.bind(codec);
  if (cancel !== undefined && read !== undefined) {
    test(`${name}: a cancellation round trips`, () => {
      for (const id of [0, 7, "call-1"]) {
        const decoded = codec.decode(codec.encode(cancel(id)));
        assert.equal(decoded.kind, "notification");
        if (decoded.kind === "notification") assert.equal(read(decoded), id);
      }
      assert.equal(read({ kind: "notification", method: "other", params: { id: 1 } }), undefined);
    });
  } else {
    skip(`${name}: a cancellation round trips`, "the codec has no cancellation on the wire");
  }
  return cases;
}
