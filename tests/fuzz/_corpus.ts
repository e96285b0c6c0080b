/**
 * The valid inputs that fuzzing starts from: the calculator's calls, encoded
 * by parley's own codecs as each pair's server expects them (requests,
 * notifications, JSON-RPC batches and named params, edge values such as
 * overflowing sums and ids that cannot be echoed), and the Connect bodies.
 * Mutating valid frames reaches deeper into the decoders than random bytes.
 *
 * @module
 */

import { calculatorSchema } from "../../examples/calculator/protobuf.ts";
import { codecByName } from "../../examples/calculator/wiring.ts";
import type { Codec, Frame, RpcMessage } from "../../rpc/types.ts";

// The types of clientCodec's codec, for its documentation.
export type * from "../../rpc/types.ts";

const encoder = new TextEncoder();

// A frame's bytes (text codecs encode to strings).
function bytesOf(frame: Frame): Uint8Array {
  return typeof frame === "string" ? encoder.encode(frame) : frame;
}

/** What the codec of a pair carries in the calculator's params. */
interface Values {
  /** bytes: base64 text in JSON-RPC, bytes elsewhere. */
  readonly bytes: (data: Uint8Array) => unknown;
  /** i64: a number in JSON-RPC (safe integers only), a bigint elsewhere. */
  readonly i64: (value: bigint) => unknown;
}

// The calculator's calls with positional params, valid and not: overflow,
// division by zero, unknown op, wrong arity and types, an unknown method.
function calls({ bytes, i64 }: Values): [string, unknown[]][] {
  const long = "ü".repeat(600);
  return [
    ["ping", []],
    ["add", [1, 2]],
    ["add", [2147483647, 1]],
    ["add", [1]],
    ["add", ["1", 2]],
    ["calculate", [1, { num1: 7, num2: -2, op: 4 }]],
    ["calculate", [2, { num1: 1, num2: 0, op: 4, comment: "zero" }]],
    ["calculate", [3, { num1: 65536, num2: 65536, op: 3 }]],
    ["calculate", [4, { num1: 1, num2: 2, op: 9 }]],
    ["echo", [""]],
    ["echo", [`héllo ${long} 😀`]],
    ["echoBinary", [bytes(new Uint8Array([0, 1, 2, 253, 254, 255]))]],
    [
      "echoShape",
      [{
        name: "square",
        coords: [0, 1.5, -2.25],
        tags: { a: i64(1n), b: i64(-(2n ** 40n)) },
        blob: bytes(new Uint8Array([9, 8, 7])),
        flag: true,
      }],
    ],
    ["sum", [[i64(1n), i64(2n), i64(3n)]]],
    ["sum", [Array.from({ length: 100 }, (_, i) => i64(BigInt(i * 1000)))]],
    ["sum", [[i64(2n ** 52n), i64(2n ** 52n), i64(-1n)]]],
    ["nosuchmethod", [1]],
  ];
}

const RPC_VALUES: Values = { bytes: (data) => data, i64: (value) => value };
const JSON_VALUES: Values = { bytes: (data) => data.toBase64(), i64: (value) => Number(value) };

/**
 * A fresh codec for a command-line codec name, with the per-connection
 * state (Thrift's seqids) of a client of its own.
 */
export function clientCodec(name: string, protocol: "binary" | "compact" = "binary"): Codec {
  const wiring = codecByName(name, protocol);
  if (wiring === undefined) throw new TypeError(`unknown codec ${name}`);
  return wiring.codec.fork?.() ?? wiring.codec;
}

/**
 * The calculator's calls as frames of an RPC codec (JSON-RPC, msgpack-rpc,
 * XML-RPC, Thrift), each as its codec encodes it, ready to be framed.
 *
 * @param name the codec's command-line name
 * @param protocol Thrift's protocol
 * @returns the encoded frames, at least two
 */
export function rpcFrames(name: string, protocol: "binary" | "compact" = "binary"): Uint8Array[] {
  const codec = clientCodec(name, protocol);
  const json = name === "jsonrpc";
  const messages: RpcMessage[] = calls(json ? JSON_VALUES : RPC_VALUES).map((
    [method, params],
    i,
  ) => ({ kind: "request", id: i + 1, method, params }));
  // Thrift's one-way call and the others' notifications.
  messages.push({ kind: "notification", method: "zip", params: [] });
  if (name !== "xmlrpc") messages.push({ kind: "notification", method: "add", params: [1, 2] });
  // A codec with a schema (Thrift) refuses to write params of the wrong type:
  // those calls are left out, and mutations make the wrong types instead.
  const frames = messages.flatMap((message) => {
    try {
      return [bytesOf(codec.encode(message))];
    } catch {
      return [];
    }
  });
  if (json) {
    frames.push(
      bytesOf(codec.encode([
        { kind: "request", id: "a", method: "add", params: [1, 2] },
        { kind: "notification", method: "zip", params: [] },
        { kind: "request", id: "b", method: "echo", params: ["x"] },
      ])),
      // Named params, ids a reply cannot echo as read, and JSON oddities.
      encoder.encode('{"jsonrpc":"2.0","id":7,"method":"add","params":{"num1":3,"num2":4}}'),
      encoder.encode('{"jsonrpc":"2.0","id":1e308,"method":"add","params":[1,2]}'),
      encoder.encode('{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}'),
      encoder.encode('{"jsonrpc":"2.0","id":-0.5,"method":"echo","params":["\\u00e9\\ud83d"]}'),
      encoder.encode('[{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]},1,[],{}]'),
    );
  }
  return frames;
}

/**
 * The calculator's calls in the protobuf envelope (`rpc.Request`), as the
 * TCP server reads them.
 *
 * @returns the encoded envelopes
 */
export function envelopeFrames(): Uint8Array[] {
  const codec = clientCodec("protobuf");
  return protobufCalls().map(({ method, message }, i) =>
    bytesOf(codec.encode({ kind: "request", id: i + 1, method, params: message }))
  );
}

/** A Connect request: its path, content type and body. */
export interface ConnectBody {
  /** The method's path, such as `/interop.Calculator/Add`. */
  readonly path: string;
  /** `application/proto` or `application/json`. */
  readonly contentType: string;
  /** The request message. */
  readonly body: Uint8Array;
}

/**
 * The calculator's calls as Connect unary bodies, in binary protobuf and in
 * proto3 JSON.
 *
 * @returns the requests
 */
export function connectBodies(): ConnectBody[] {
  const schema = calculatorSchema();
  return protobufCalls().flatMap(({ method, message }) => {
    const type = schema.unary(method).request;
    return [
      { path: `/${method}`, contentType: "application/proto", body: type.encode(message) },
      {
        path: `/${method}`,
        contentType: "application/json",
        body: encoder.encode(JSON.stringify(type.toJson(message))),
      },
    ];
  });
}

function protobufCalls(): { method: string; message: Record<string, unknown> }[] {
  const m = (name: string, message: Record<string, unknown>) => ({
    method: `interop.Calculator/${name}`,
    message,
  });
  return [
    m("Ping", {}),
    m("Add", { num1: 1, num2: 2 }),
    m("Add", { num1: 2147483647, num2: 1 }),
    m("Calculate", { logid: 1, w: { num1: 7, num2: -2, op: 4, comment: "c" } }),
    m("Calculate", { logid: 2, w: { num1: 1, num2: 0, op: 4 } }),
    m("Echo", { text: `héllo ${"ü".repeat(300)}` }),
    m("EchoBinary", { data: new Uint8Array([0, 1, 254, 255]) }),
    m("EchoShape", {
      name: "s",
      coords: [1.5, -2],
      tags: { a: 1n, b: -(2n ** 40n) },
      blob: new Uint8Array([9]),
      flag: true,
    }),
    m("Sum", { values: [1n, 2n ** 62n, 2n ** 62n] }),
    m("Sum", { values: Array.from({ length: 100 }, (_, i) => BigInt(i)) }),
    m("Zip", {}),
  ];
}
