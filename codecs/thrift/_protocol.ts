// The `thrift` npm package's protocols (Apache Thrift's own TBinaryProtocol
// and TCompactProtocol), typed for what parley uses, over in-memory
// transports. The package's protocols lay out messages, structs, fields and
// containers; the primitives underneath (bytes, integers, doubles, strings)
// are replaced on each instance by ones that write into one growing
// Uint8Array and read from the frame through a DataView. The package's own
// primitives allocate a Node Buffer per value (two thirds of a call's time
// under Deno went to Buffer's constructor), write -0 as 0, and carry 64-bit
// integers as node-int64 objects; these carry them as `bigint`.

// @ts-types="./_thrift_js.d.ts"
import TBinaryProtocol from "thrift/lib/nodejs/lib/thrift/binary_protocol.js";
// @ts-types="./_thrift_js.d.ts"
import TCompactProtocol from "thrift/lib/nodejs/lib/thrift/compact_protocol.js";

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
  writeI64(value: bigint): void;
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
  readI64(): bigint;
  readDouble(): number;
  readString(): string;
  readBinary(): Uint8Array;
  skip(type: number): void;
}

/** The two protocols. */
export type ProtocolName = "binary" | "compact";

const encoder = new TextEncoder();
// Each string is decoded on its own: a leading U+FEFF is the string's
// first character, not a byte order mark to strip.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** The bytes a protocol writes, in one buffer that grows. */
class Sink {
  bytes = new Uint8Array(256);
  view = new DataView(this.bytes.buffer);
  length = 0;

  reserve(n: number): number {
    const at = this.length;
    if (at + n > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, at + n));
      grown.set(this.bytes.subarray(0, at));
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
    }
    this.length = at + n;
    return at;
  }
  // The package's transports are written to with `write(buffer)`.
  write(chunk: Uint8Array): void {
    const at = this.reserve(chunk.length); // first: it may replace this.bytes
    this.bytes.set(chunk, at);
  }
  setCurrSeqId(): void {}
  flush(): void {}
  u8(value: number): void {
    const at = this.reserve(1);
    this.bytes[at] = value;
  }
  varint(value: number): void {
    let n = value >>> 0;
    while (n > 0x7f) {
      this.u8((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    this.u8(n);
  }
  varint64(value: bigint): void {
    let n = BigInt.asUintN(64, value);
    while (n > 0x7fn) {
      this.u8(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.u8(Number(n));
  }
  // UTF-8 with room for the worst case, then the real length. Short ASCII
  // text (method and field names, most keys) is copied a character at a
  // time: cheaper than a call into the encoder.
  utf8(text: string): { at: number; length: number } {
    if (text.length <= 64) {
      const at = this.reserve(text.length);
      let i = 0;
      for (; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c > 0x7f) break;
        this.bytes[at + i] = c;
      }
      if (i === text.length) return { at, length: text.length };
      this.length = at;
    }
    const at = this.reserve(text.length * 3);
    const { written } = encoder.encodeInto(text, this.bytes.subarray(at));
    this.length = at + written;
    return { at, length: written };
  }
}

/** An error the package's code recognises as "not enough bytes yet". */
class InputBufferUnderrunError extends Error {
  constructor() {
    super("not enough bytes");
    this.name = "InputBufferUnderrunError";
  }
}

/** The bytes of one frame, read the way the package's transports are. */
class Source {
  readonly inBuf: Uint8Array;
  readonly view: DataView;
  readPos = 0;

  constructor(frame: Uint8Array) {
    this.inBuf = frame;
    this.view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  }
  ensureAvailable(n: number): void {
    if (n < 0 || this.readPos + n > this.inBuf.length) throw new InputBufferUnderrunError();
  }
  read(n: number): Uint8Array {
    this.ensureAvailable(n);
    const bytes = this.inBuf.subarray(this.readPos, this.readPos + n);
    this.readPos += n;
    return bytes;
  }
  readByte(): number {
    this.ensureAvailable(1);
    return this.view.getInt8(this.readPos++);
  }
  readI16(): number {
    this.ensureAvailable(2);
    const value = this.view.getInt16(this.readPos);
    this.readPos += 2;
    return value;
  }
  readI32(): number {
    this.ensureAvailable(4);
    const value = this.view.getInt32(this.readPos);
    this.readPos += 4;
    return value;
  }
  readDouble(): number {
    this.ensureAvailable(8);
    const value = this.view.getFloat64(this.readPos);
    this.readPos += 8;
    return value;
  }
  readString(n: number): string {
    const bytes = this.read(n);
    // Short ASCII text without the decoder, which costs more than the text.
    if (n <= 64) {
      let text = "";
      for (let i = 0; i < n; i++) {
        const c = bytes[i]!;
        if (c > 0x7f) return decoder.decode(bytes);
        text += String.fromCharCode(c);
      }
      return text;
    }
    return decoder.decode(bytes);
  }
  borrow(): { buf: Uint8Array; readIndex: number; writeIndex: number } {
    return { buf: this.inBuf, readIndex: this.readPos, writeIndex: this.inBuf.length };
  }
  consume(n: number): void {
    this.readPos += n;
  }
}

// deno-lint-ignore no-explicit-any
type Instance = any;

function binaryWriter(sink: Sink): Protocol {
  const p: Instance = new TBinaryProtocol(sink);
  p.writeByte = (value: number) => sink.u8(value & 0xff);
  // reserve() may grow the buffer and replace the view: it runs first.
  p.writeI16 = (value: number) => {
    const at = sink.reserve(2);
    sink.view.setInt16(at, value);
  };
  p.writeI32 = (value: number) => {
    const at = sink.reserve(4);
    sink.view.setInt32(at, value);
  };
  p.writeI64 = (value: bigint) => {
    const at = sink.reserve(8);
    sink.view.setBigInt64(at, value);
  };
  p.writeDouble = (value: number) => {
    const at = sink.reserve(8);
    sink.view.setFloat64(at, value);
  };
  p.writeString = (text: string) => {
    const header = sink.reserve(4);
    const { length } = sink.utf8(text);
    sink.view.setInt32(header, length);
  };
  p.writeBinary = (bytes: Uint8Array) => {
    const at = sink.reserve(4);
    sink.view.setInt32(at, bytes.length);
    sink.write(bytes);
  };
  return p as Protocol;
}

// ASCII text is its own UTF-8: its length is known without encoding it.
function utf8Length(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return encoder.encode(text).length;
  }
  return text.length;
}

function compactWriter(sink: Sink): Protocol {
  const p: Instance = new TCompactProtocol(sink);
  p.writeByte = (value: number) => sink.u8(value & 0xff);
  p.writeVarint32 = (value: number) => sink.varint(value);
  p.writeI64 = (value: bigint) => sink.varint64((value << 1n) ^ (value >> 63n));
  p.writeDouble = (value: number) => {
    const at = sink.reserve(8);
    sink.view.setFloat64(at, value, true);
  };
  p.writeString = (text: string) => {
    sink.varint(utf8Length(text));
    sink.utf8(text);
  };
  p.writeBinary = (bytes: Uint8Array) => {
    sink.varint(bytes.length);
    sink.write(bytes);
  };
  return p as Protocol;
}

function binaryReader(source: Source): Protocol {
  const p: Instance = new TBinaryProtocol(source);
  p.readI64 = () => {
    source.ensureAvailable(8);
    const value = source.view.getBigInt64(source.readPos);
    source.readPos += 8;
    return value;
  };
  p.readBinary = () => {
    const length = source.readI32();
    if (length < 0) throw new RangeError("Negative binary size");
    return source.read(length);
  };
  return p as Protocol;
}

function compactReader(source: Source): Protocol {
  const p: Instance = new TCompactProtocol(source);
  p.readVarint32 = () => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = source.readByte() & 0xff;
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value >>> 0;
    }
    throw new RangeError("A varint longer than 5 bytes");
  };
  p.readI64 = () => {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = source.readByte() & 0xff;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        const unsigned = BigInt.asUintN(64, value);
        return BigInt.asIntN(64, (unsigned >> 1n) ^ -(unsigned & 1n));
      }
    }
    throw new RangeError("A varint longer than 10 bytes");
  };
  p.readDouble = () => {
    source.ensureAvailable(8);
    const value = source.view.getFloat64(source.readPos, true);
    source.readPos += 8;
    return value;
  };
  p.readBinary = () => source.read(p.readVarint32());
  return p as Protocol;
}

// Messages are written one at a time (encoding is synchronous), so one
// buffer serves them all and each message leaves as a copy of its bytes.
const shared = new Sink();

/**
 * A protocol that writes into memory, and the bytes it wrote. One writer at
 * a time: a new one starts over in the same buffer.
 */
export function writer(name: ProtocolName): { protocol: Protocol; bytes(): Uint8Array } {
  shared.length = 0;
  const protocol = name === "binary" ? binaryWriter(shared) : compactWriter(shared);
  return { protocol, bytes: () => shared.bytes.slice(0, shared.length) };
}

/** A protocol that reads one frame, and how many of its bytes it has read so far. */
export function reader(
  name: ProtocolName,
  frame: Uint8Array,
): { protocol: Protocol; position(): number; remaining(): number } {
  const source = new Source(frame);
  const protocol = name === "binary" ? binaryReader(source) : compactReader(source);
  return {
    protocol,
    position: () => source.readPos,
    remaining: () => source.inBuf.length - source.readPos,
  };
}

/** The "not enough bytes" error, thrown when a read passes the end of the frame. */
export function isUnderrun(error: unknown): boolean {
  return error instanceof Error && error.name === "InputBufferUnderrunError";
}
