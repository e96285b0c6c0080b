// The `thrift` npm package's protocols (Apache Thrift's own TBinaryProtocol
// and TCompactProtocol), typed for what parley uses, over an in-memory
// transport: writes are collected into one Uint8Array, reads come from one
// frame. The package works on Node Buffers, so this codec runs on Deno and
// Node, not in browsers.

import { Buffer } from "node:buffer";
// @ts-types="./_thrift_js.d.ts"
import TBinaryProtocol from "thrift/lib/nodejs/lib/thrift/binary_protocol.js";
// @ts-types="./_thrift_js.d.ts"
import TCompactProtocol from "thrift/lib/nodejs/lib/thrift/compact_protocol.js";
// @ts-types="./_thrift_js.d.ts"
import TFramedTransport from "thrift/lib/nodejs/lib/thrift/framed_transport.js";
// @ts-types="./_int64.d.ts"
import Int64 from "node-int64";

/** Thrift's type ids on the wire. */
export const TType = {
  STOP: 0,
  BOOL: 2,
  BYTE: 3,
  DOUBLE: 4,
  I16: 6,
  I32: 8,
  I64: 10,
  STRING: 11,
  STRUCT: 12,
  MAP: 13,
  SET: 14,
  LIST: 15,
} as const;

/** Thrift's message types. */
export const MessageType = { CALL: 1, REPLY: 2, EXCEPTION: 3, ONEWAY: 4 } as const;

/** What parley calls on a protocol (the package's own method names). */
export interface Protocol {
  writeMessageBegin(name: string, type: number, seqid: number): void;
  writeMessageEnd(): void;
  writeStructBegin(name: string): void;
  writeStructEnd(): void;
  writeFieldBegin(name: string, type: number, id: number): void;
  writeFieldEnd(): void;
  writeFieldStop(): void;
  writeMapBegin(keyType: number, valueType: number, size: number): void;
  writeMapEnd(): void;
  writeListBegin(elementType: number, size: number): void;
  writeListEnd(): void;
  writeSetBegin(elementType: number, size: number): void;
  writeSetEnd(): void;
  writeBool(value: boolean): void;
  writeByte(value: number): void;
  writeI16(value: number): void;
  writeI32(value: number): void;
  writeI64(value: number | Int64): void;
  writeDouble(value: number): void;
  writeString(value: string): void;
  writeBinary(value: Uint8Array): void;
  readMessageBegin(): { fname: string; mtype: number; rseqid: number };
  readMessageEnd(): void;
  readStructBegin(): void;
  readStructEnd(): void;
  readFieldBegin(): { fname: string; ftype: number; fid: number };
  readFieldEnd(): void;
  readMapBegin(): { ktype: number; vtype: number; size: number };
  readMapEnd(): void;
  readListBegin(): { etype: number; size: number };
  readListEnd(): void;
  readSetBegin(): { etype: number; size: number };
  readSetEnd(): void;
  readBool(): boolean;
  readByte(): number;
  readI16(): number;
  readI32(): number;
  readI64(): Int64;
  readDouble(): number;
  readString(): string;
  readBinary(): Uint8Array;
  skip(type: number): void;
}

/** The two protocols. */
export type ProtocolName = "binary" | "compact";

// Collects what a protocol writes.
class Collector {
  readonly chunks: Uint8Array[] = [];
  size = 0;
  write(chunk: Uint8Array | string): void {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    this.chunks.push(bytes);
    this.size += bytes.length;
  }
  setCurrSeqId(): void {}
  flush(): void {}
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}

const PROTOCOLS = { binary: TBinaryProtocol, compact: TCompactProtocol } as const;

/** A protocol that writes into memory, and the bytes it wrote. */
export function writer(name: ProtocolName): { protocol: Protocol; bytes(): Uint8Array } {
  const collector = new Collector();
  const protocol = new PROTOCOLS[name](collector) as unknown as Protocol;
  // The package computes a double's bits with Math.log and loses the sign
  // of -0; a DataView writes the exact IEEE 754 bits (big-endian for the
  // binary protocol, little-endian for the compact one).
  const littleEndian = name === "compact";
  protocol.writeDouble = (value: number) => {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, value, littleEndian);
    collector.write(bytes);
  };
  return { protocol, bytes: () => collector.bytes() };
}

/** A protocol that reads one frame, and how many of its bytes it has read so far. */
export function reader(
  name: ProtocolName,
  frame: Uint8Array,
): { protocol: Protocol; position(): number; remaining(): number } {
  const transport = new TFramedTransport(
    Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength),
  ) as unknown as { readPos: number; inBuf: Uint8Array };
  const protocol = new PROTOCOLS[name](transport) as unknown as Protocol;
  return {
    protocol,
    position: () => transport.readPos,
    remaining: () => transport.inBuf.length - transport.readPos,
  };
}

const TWO_32 = 0x1_0000_0000n;

/** A bigint (within i64) as the package's Int64. */
export function toInt64(value: bigint): Int64 {
  const bits = BigInt.asUintN(64, value);
  return new Int64(Number(bits / TWO_32), Number(bits % TWO_32));
}

/** The package's Int64 as a bigint. */
export function fromInt64(value: Int64): bigint {
  const buffer = value.buffer;
  const offset = value.offset ?? 0;
  const high = BigInt(buffer.readUInt32BE(offset));
  const low = BigInt(buffer.readUInt32BE(offset + 4));
  return BigInt.asIntN(64, (high << 32n) | low);
}

/** The package's "not enough bytes" error, thrown when a read passes the end of the frame. */
export function isUnderrun(error: unknown): boolean {
  return error instanceof Error && error.name === "InputBufferUnderrunError" ||
    (error as { constructor?: { name?: string } })?.constructor?.name ===
      "InputBufferUnderrunError";
}
