/**
 * Attacks on byte-stream servers, by framing and codec: huge declared
 * lengths, frames declared big and sent in part, endless lines and varints,
 * and payloads built to hurt a decoder inside a well-formed frame (deep
 * nesting, containers declaring 2^31 elements, long literals, bad headers).
 * Thrift's are written with the thrift package's own protocols.
 *
 * @module
 */

import { MessageType, type ProtocolName, TType, writer } from "../../codecs/thrift/_protocol.ts";
import { concat } from "../framing/conformance.ts";
import type { Prng } from "./_prng.ts";

const encoder = new TextEncoder();

/** The wire of a byte-stream pair: its framing and the codec inside. */
export type StreamWire =
  | "json-newline"
  | "json-length-prefix"
  | "msgpack"
  | "protobuf"
  | "thrift-binary-framed"
  | "thrift-compact-buffered";

/** An attack's bytes, and whether to send them in many small writes. */
export interface StreamAttack {
  /** What the attack is. */
  readonly label: string;
  /** What to send. */
  readonly bytes: Uint8Array;
  /** Sent in small writes, each in its own turn, so that the server reads little at a time. */
  readonly drip?: boolean;
}

const u32 = (value: number) => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
};
const bytes = (...values: number[]) => new Uint8Array(values);
const repeat = (byte: number, count: number) => new Uint8Array(count).fill(byte);
const text = (value: string) => encoder.encode(value);

const LENGTH_PREFIXED: ReadonlySet<StreamWire> = new Set([
  "json-length-prefix",
  "protobuf",
  "thrift-binary-framed",
]);

/**
 * One attack at random for `wire`.
 *
 * @param rng the input's PRNG
 * @param wire the pair's framing and codec
 * @param frame wraps a payload in the pair's framing
 * @returns the attack
 *
 * @example
 * ```ts
 * import { Prng } from "./_prng.ts";
 * import { streamAttack } from "./_stream_attacks.ts";
 * const attack = streamAttack(new Prng(9), "msgpack", (payload) => payload);
 * console.log(attack.label, attack.bytes.length);
 * ```
 */
export function streamAttack(
  rng: Prng,
  wire: StreamWire,
  frame: (payload: Uint8Array) => Uint8Array,
): StreamAttack {
  const attacks: (() => StreamAttack)[] = [
    ...payloadAttacks(rng, wire).map((make) => () => {
      const { label, bytes } = make();
      return { label, bytes: frame(bytes) };
    }),
  ];
  if (LENGTH_PREFIXED.has(wire)) attacks.push(...lengthAttacks(rng));
  if (wire === "json-newline") attacks.push(...lineAttacks(rng));
  return rng.pick(attacks)();
}

function lengthAttacks(rng: Prng): (() => StreamAttack)[] {
  return [
    () => {
      const declared = rng.pick([0x7fffffff, 0x80000000, 0xffffffff, 16 * 1024 * 1024 + 1]);
      return {
        label: `a frame declaring ${declared} bytes`,
        bytes: concat([u32(declared), rng.bytes(64)]),
      };
    },
    () => {
      // Declared within the limit, sent in part: the server holds what came.
      const sent = rng.pick([4096, 65536, 262144]);
      return {
        label: `a frame declaring 16 MiB, ${sent} bytes of it sent`,
        bytes: concat([u32(16 * 1024 * 1024), rng.bytes(sent)]),
      };
    },
    () => {
      const sent = rng.range(64, 256);
      return {
        label: `a frame declaring 1 MiB, ${sent} bytes dripped one per write`,
        bytes: concat([u32(1024 * 1024), rng.bytes(sent)]),
        drip: true,
      };
    },
    () => ({ label: "1000 empty frames", bytes: new Uint8Array(4000) }),
    () => ({ label: "a length prefix cut in two", bytes: bytes(0, 0) }),
  ];
}

function lineAttacks(rng: Prng): (() => StreamAttack)[] {
  return [
    () => {
      const size = rng.pick([4096, 65536, 262144]);
      return { label: `a line of ${size} bytes without newline`, bytes: repeat(0x20, size) };
    },
    () => ({
      label: "a JSON string dripped one byte per write, without newline",
      bytes: text(`"${"x".repeat(rng.range(64, 256))}`),
      drip: true,
    }),
    () => ({ label: "1000 empty lines", bytes: repeat(0x0a, 1000) }),
    () => ({
      label: "lines ended by CR LF",
      bytes: text('{"jsonrpc":"2.0","id":1,"method":"ping"}\r\n\r\n'),
    }),
  ];
}

type PayloadAttack = () => { label: string; bytes: Uint8Array };

function payloadAttacks(rng: Prng, wire: StreamWire): PayloadAttack[] {
  switch (wire) {
    case "json-newline":
    case "json-length-prefix":
      return jsonAttacks(rng);
    case "msgpack":
      return msgpackAttacks(rng);
    case "protobuf":
      return protobufAttacks(rng);
    case "thrift-binary-framed":
      return thriftAttacks(rng, "binary");
    case "thrift-compact-buffered":
      return thriftAttacks(rng, "compact");
  }
}

function jsonAttacks(rng: Prng): PayloadAttack[] {
  const call = (params: string, id = "1") =>
    text(`{"jsonrpc":"2.0","id":${id},"method":"echo","params":[${params}]}`);
  return [
    () => {
      const depth = rng.pick([65, 1000, 100000]);
      return {
        label: `arrays nested ${depth} deep`,
        bytes: call("[".repeat(depth) + "]".repeat(depth)),
      };
    },
    () => {
      const depth = rng.pick([1000, 100000]);
      return { label: `unclosed arrays ${depth} deep`, bytes: call("[".repeat(depth)) };
    },
    () => ({ label: "a 100000-digit number", bytes: call("9".repeat(100000)) }),
    () => ({ label: "an id of 1e400", bytes: call("1", "1e400") }),
    () => ({ label: "an id that is an object", bytes: call("1", '{"a":1}') }),
    () => ({ label: "20000 escaped NULs", bytes: call(`"${"\\u0000".repeat(20000)}"`) }),
    () => ({ label: "a lone surrogate escape", bytes: call('"\\ud800"') }),
    () => ({
      label: "bytes that are not UTF-8",
      bytes: concat([call('"'), bytes(0xc3, 0x28, 0xff)]),
    }),
    () => ({ label: "NaN and Infinity", bytes: call("NaN, Infinity, -Infinity") }),
    () => ({ label: "a byte order mark", bytes: concat([bytes(0xef, 0xbb, 0xbf), call("1")]) }),
    () => ({
      label: "10000 duplicate keys and __proto__",
      bytes: text(
        `{"jsonrpc":"2.0","id":1,"method":"add","params":{${
          '"__proto__":1,'.repeat(10000)
        }"num1":1,"num2":2}}`,
      ),
    }),
    () => {
      const size = rng.pick([1001, 5000]);
      const one = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
      return { label: `a batch of ${size}`, bytes: text(`[${Array(size).fill(one).join(",")}]`) };
    },
    () => ({ label: "an empty batch", bytes: text("[]") }),
    () => ({
      label: "sum of 50000 integers",
      bytes: text(
        `{"jsonrpc":"2.0","id":1,"method":"sum","params":[[${
          Array(50000).fill("12345").join(",")
        }]]}`,
      ),
    }),
  ];
}

function msgpackAttacks(rng: Prng): PayloadAttack[] {
  // [0, msgid, "echo", [ ... ]] with the value after the array header.
  const call = (value: Uint8Array) =>
    concat([bytes(0x94, 0x00, 0x01, 0xa4), text("echo"), bytes(0x91), value]);
  return [
    () => {
      const [name, head] = rng.pick<[string, Uint8Array]>([
        ["str32", bytes(0xdb)],
        ["bin32", bytes(0xc6)],
        ["array32", bytes(0xdd)],
        ["map32", bytes(0xdf)],
        ["ext32", bytes(0xc9)],
      ]);
      const declared = rng.pick([0x7fffffff, 0xffffffff, 16 * 1024 * 1024]);
      return {
        label: `a ${name} declaring ${declared}`,
        bytes: call(concat([head, u32(declared), rng.bytes(16)])),
      };
    },
    () => {
      const depth = rng.pick([65, 1000, 100000]);
      return { label: `arrays nested ${depth} deep`, bytes: call(repeat(0x91, depth)) };
    },
    () => ({ label: "the never-used byte 0xc1", bytes: call(bytes(0xc1)) }),
    () => ({ label: "a timestamp extension of a bad size", bytes: call(bytes(0xd5, 0xff, 1, 2)) }),
    () => ({
      label: "a msgid that is a float",
      bytes: concat([
        bytes(0x94, 0x00, 0xcb),
        rng.bytes(8),
        bytes(0xa4),
        text("ping"),
        bytes(0x90),
      ]),
    }),
    () => ({
      label: "a method that is binary",
      bytes: concat([bytes(0x94, 0x00, 0x01, 0xc4, 0x03), text("add"), bytes(0x92, 1, 2)]),
    }),
    () => ({
      label: "an array16 of 60000 nils",
      bytes: call(concat([bytes(0xdc, 0xea, 0x60), repeat(0xc0, 60000)])),
    }),
    () => ({
      label: "sum of 60000 int64",
      bytes: concat([
        bytes(0x94, 0x00, 0x01, 0xa3),
        text("sum"),
        bytes(0x91, 0xdc, 0xea, 0x60),
        repeat(0x05, 60000),
      ]),
    }),
  ];
}

// Protobuf wire: a key is (field << 3) | type; type 2 is length-delimited.
function protobufAttacks(rng: Prng): PayloadAttack[] {
  return [
    () => ({ label: "an endless varint", bytes: repeat(0xff, rng.range(11, 64)) }),
    () => ({
      label: "a field declaring 2^31 bytes",
      bytes: bytes(0x0a, 0xff, 0xff, 0xff, 0xff, 0x07, 0x41),
    }),
    () => {
      const type = rng.pick([3, 4, 6, 7]);
      return { label: `wire type ${type}`, bytes: bytes((1 << 3) | type, 0x01, 0x02) };
    },
    () => {
      // rpc.Request {id 1, method, payload}: a payload of messages nested in field 2 (Work).
      const method = text("interop.Calculator/Calculate");
      const depth = rng.pick([100, 1000, 3000]);
      let inner: Uint8Array = new Uint8Array(0);
      for (let i = 0; i < depth; i++) inner = concat([bytes(0x12), varint(inner.length), inner]);
      return {
        label: `a payload nested ${depth} deep`,
        bytes: concat([
          bytes(0x08, 0x01, 0x12),
          varint(method.length),
          method,
          bytes(0x1a),
          varint(inner.length),
          inner,
        ]),
      };
    },
    () => ({ label: "a field number of 0", bytes: bytes(0x02, 0x00) }),
  ];
}

function varint(value: number): Uint8Array {
  const out: number[] = [];
  while (value > 0x7f) {
    out.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return new Uint8Array(out);
}

function thriftAttacks(rng: Prng, protocol: ProtocolName): PayloadAttack[] {
  // A CALL of `method` whose args struct `args` writes.
  const message = (method: string, args: (p: ReturnType<typeof writer>["protocol"]) => void) => {
    const out = writer(protocol);
    out.protocol.writeMessageBegin(method, MessageType.CALL, 1);
    out.protocol.writeStructBegin("args");
    args(out.protocol);
    out.protocol.writeFieldStop();
    out.protocol.writeStructEnd();
    out.protocol.writeMessageEnd();
    return out.bytes();
  };
  const attacks: PayloadAttack[] = [
    () => {
      const size = rng.pick([0x7fffffff, 16 * 1024 * 1024, 100000]);
      return {
        label: `sum(values) declaring a list of ${size}`,
        bytes: message("sum", (p) => {
          p.writeFieldBegin("values", TType.LIST, 1);
          p.writeListBegin(TType.I64, size);
        }),
      };
    },
    () => ({
      label: "a map declaring 2^31 - 1 entries in echoShape's tags",
      bytes: message("echoShape", (p) => {
        p.writeFieldBegin("s", TType.STRUCT, 1);
        p.writeStructBegin("Shape");
        p.writeFieldBegin("tags", TType.MAP, 3);
        p.writeMapBegin(TType.STRING, TType.I64, 0x7fffffff);
      }),
    }),
    () => {
      const depth = rng.pick([65, 1000, 10000]);
      return {
        label: `an unknown field of structs nested ${depth} deep`,
        bytes: message("ping", (p) => {
          for (let i = 0; i < depth; i++) {
            p.writeFieldBegin("f", TType.STRUCT, 99);
            p.writeStructBegin("s");
          }
        }),
      };
    },
    () => ({
      label: "a field of type id 17",
      bytes: message("add", (p) => p.writeFieldBegin("f", 17, 1)),
    }),
    () => ({
      label: "a method name declaring 2^31 - 1 bytes",
      bytes: protocol === "binary"
        ? concat([bytes(0x80, 0x01, 0x00, 0x01), u32(0x7fffffff), text("add")])
        : concat([bytes(0x82, 0x21, 0x01), bytes(0xff, 0xff, 0xff, 0xff, 0x07), text("add")]),
    }),
    () => ({
      label: "a message of unknown type 7",
      bytes: protocol === "binary"
        ? concat([bytes(0x80, 0x01, 0x00, 0x07), u32(3), text("add"), u32(1), bytes(0)])
        : concat([bytes(0x82, 0xe1, 0x01, 0x03), text("add"), bytes(0)]),
    }),
    () => ({
      label: "a bad protocol id or version",
      bytes: bytes(0x80, 0x02, 0x00, 0x01, 0x82, 0x3f, 0x00),
    }),
  ];
  if (protocol === "compact") {
    attacks.push(() => ({
      label: "an endless varint seqid",
      bytes: concat([bytes(0x82, 0x21), repeat(0xff, rng.range(11, 64))]),
    }));
  }
  return attacks;
}
