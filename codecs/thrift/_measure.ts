// Where a Thrift message ends, for the buffered transport (which has no
// lengths): a walk over the binary or compact encoding that can stop at any
// value for want of bytes and go on from there once more have arrived.
// Walking the message from its start at every read, as the package's
// protocols must, cost time in its length times the reads (quadratic when
// it is dripped). The walk only finds the end: decoding checks the rest.

import { ThriftReadError } from "./_errors.ts";
import { MAX_DEPTH } from "./_values.ts";

// Wire types as the walk sees them: the binary protocol's numbers.
const BOOL = 2;
const BYTE = 3;
const DOUBLE = 4;
const I16 = 6;
const I32 = 8;
const I64 = 10;
const STRING = 11;
const STRUCT = 12;
const MAP = 13;
const SET = 14;
const LIST = 15;
const UUID = 16;
// The compact protocol's element types, by their binary numbers (its
// field types 1 and 2 are booleans whose value is the type itself).
const FROM_COMPACT = [
  0,
  BOOL,
  BOOL,
  BYTE,
  I16,
  I32,
  I64,
  DOUBLE,
  STRING,
  LIST,
  SET,
  MAP,
  STRUCT,
  UUID,
];
// The fewest bytes a value of each type takes, to refuse container sizes
// that the rest of the message cannot hold.
const BINARY_MIN: Record<number, number> = {
  [DOUBLE]: 8,
  [I16]: 2,
  [I32]: 4,
  [I64]: 8,
  [STRING]: 4,
  [MAP]: 6,
  [SET]: 5,
  [LIST]: 5,
  [UUID]: 16,
};
const COMPACT_MIN: Record<number, number> = { [DOUBLE]: 8, [UUID]: 16 };
const BINARY_VERSION_1 = 0x80010000 | 0;

/** An open struct (`left` unused), list or set (`left` elements), or map (`left` keys and values). */
interface Open {
  readonly type: number;
  left: number;
  readonly first: number;
  readonly second: number;
}

/**
 * A walk over one message: where it is and what is open there. Kept between
 * calls while the message is incomplete.
 *
 * @example A compact call to `ping()` arriving in two parts
 * ```ts
 * import assert from "node:assert/strict";
 * import { MessageWalk } from "./_measure.ts";
 *
 * // 0x82, version 1 and CALL, seqid 1, name "ping", an empty args struct.
 * const bytes = new Uint8Array([0x82, 0x21, 0x01, 0x04, 0x70, 0x69, 0x6e, 0x67, 0x00]);
 * const walk = new MessageWalk("compact", 1024);
 * assert.equal(walk.walk(bytes.subarray(0, 5)), undefined);
 * assert.equal(walk.walk(bytes), 9);
 * ```
 */
export class MessageWalk {
  #pos = 0;
  #headerDone = false;
  readonly #open: Open[] = [];
  readonly #compact: boolean;
  readonly #maxSize: number;

  /**
   * @param protocol the encoding
   * @param maxSize the largest message in bytes
   */
  constructor(protocol: "binary" | "compact", maxSize: number) {
    this.#compact = protocol === "compact";
    this.#maxSize = maxSize;
  }

  /**
   * Walks on over `buf`, which holds the message from its start (the bytes
   * walked already unchanged).
   *
   * @returns the message's length, or `undefined` when it goes on past `buf`
   * @throws {ThriftReadError} for bytes that cannot be a message, nesting
   * beyond 64, or sizes beyond `maxSize`
   */
  walk(buf: Uint8Array): number | undefined {
    if (!this.#headerDone) {
      const end = this.#compact ? this.#compactHeader(buf) : this.#binaryHeader(buf);
      if (end === undefined) return undefined;
      this.#pos = end;
      this.#headerDone = true;
      this.#open.push({ type: STRUCT, left: 0, first: 0, second: 0 });
    }
    const open = this.#open;
    while (open.length > 0) {
      const top = open[open.length - 1]!;
      let type: number;
      let at = this.#pos;
      if (top.type === STRUCT) {
        // A field header: its type, then (unless the compact one carries it) its id.
        if (at >= buf.length) return undefined;
        const head = buf[at++]!;
        if (head === 0) {
          open.pop();
          this.#pos = at;
          continue;
        }
        if (this.#compact) {
          type = this.#compactType(head & 0x0f);
          if ((head & 0xf0) === 0 && (at = varint(buf, at)) < 0) return undefined;
          if ((head & 0x0f) === 1 || (head & 0x0f) === 2) {
            this.#pos = at; // a boolean field: its value is its type
            continue;
          }
        } else {
          type = head;
          if ((at += 2) > buf.length) return undefined;
        }
      } else {
        if (top.left === 0) {
          open.pop();
          continue;
        }
        type = top.type === MAP && top.left % 2 === 1 ? top.second : top.first;
      }
      const end = this.#value(buf, at, type);
      if (end === undefined) return undefined;
      // The value (or the head of a container, now open) is whole: go on.
      if (top.type !== STRUCT) top.left--;
      this.#pos = end;
      if (end > this.#maxSize) {
        throw new ThriftReadError(`a message larger than ${this.#maxSize} bytes`);
      }
    }
    return this.#pos;
  }

  // The end of a value of `type` at `at`, or of its head for a container
  // (which is then open); `undefined` when `buf` ends first.
  #value(buf: Uint8Array, at: number, type: number): number | undefined {
    const compact = this.#compact;
    let end: number;
    switch (type) {
      case BOOL:
      case BYTE:
        end = at + 1;
        break;
      case DOUBLE:
        end = at + 8;
        break;
      case UUID:
        end = at + 16;
        break;
      case I16:
      case I32:
      case I64:
        if (compact) return orUndefined(varint(buf, at));
        end = at + (type === I16 ? 2 : type === I32 ? 4 : 8);
        break;
      case STRING: {
        const length = compact ? varintValue(buf, at) : int32(buf, at);
        if (length === undefined) return undefined;
        if (length.value < 0) throw new ThriftReadError(`a string of ${length.value} bytes`);
        this.#fits(length.end, length.value, 1);
        end = length.end + length.value;
        break;
      }
      case STRUCT:
        end = at;
        this.#enter(STRUCT, 0, 0, 0);
        break;
      case LIST:
      case SET: {
        let size: number;
        let etype: number;
        if (compact) {
          if (at >= buf.length) return undefined;
          const head = buf[at++]!;
          etype = this.#compactType(head & 0x0f);
          size = head >>> 4;
          if (size === 15) {
            const long = varintValue(buf, at);
            if (long === undefined) return undefined;
            ({ value: size, end: at } = long);
          }
        } else {
          if (at + 5 > buf.length) return undefined;
          etype = buf[at]!;
          size = (buf[at + 1]! << 24) | (buf[at + 2]! << 16) | (buf[at + 3]! << 8) | buf[at + 4]!;
          at += 5;
        }
        this.#fits(at, size, this.#min(etype));
        this.#enter(type, size, etype, 0);
        return at;
      }
      case MAP: {
        let size: number;
        let types = 0;
        if (compact) {
          const long = varintValue(buf, at);
          if (long === undefined) return undefined;
          ({ value: size, end: at } = long);
          if (size === 0) return at; // no types, nothing to open
          if (at >= buf.length) return undefined;
          types = buf[at++]!;
        } else {
          if (at + 6 > buf.length) return undefined;
          types = (buf[at]! << 4) | buf[at + 1]!;
          size = (buf[at + 2]! << 24) | (buf[at + 3]! << 16) | (buf[at + 4]! << 8) | buf[at + 5]!;
          at += 6;
        }
        const ktype = compact ? this.#compactType(types >>> 4) : types >>> 4;
        const vtype = compact ? this.#compactType(types & 0x0f) : types & 0x0f;
        this.#fits(at, size, size === 0 ? 0 : this.#min(ktype) + this.#min(vtype));
        this.#enter(MAP, 2 * size, ktype, vtype);
        return at;
      }
      default:
        throw new ThriftReadError(`invalid type ${type}`);
    }
    return end > buf.length ? undefined : end;
  }

  #enter(type: number, left: number, first: number, second: number): void {
    if (this.#open.length >= MAX_DEPTH) {
      throw new ThriftReadError(`nesting deeper than ${MAX_DEPTH}`);
    }
    this.#open.push({ type, left, first, second });
  }

  // Refuses `count` values of `each` bytes at least that cannot fit.
  #fits(at: number, count: number, each: number): void {
    if (count < 0 || at + count * Math.max(each, 1) > this.#maxSize) {
      throw new ThriftReadError(
        `a container of ${count} elements does not fit in the rest of the message`,
      );
    }
  }

  #min(type: number): number {
    return (this.#compact ? COMPACT_MIN[type] : BINARY_MIN[type]) ?? 1;
  }

  #compactType(code: number): number {
    const type = FROM_COMPACT[code];
    if (type === undefined || type === 0) throw new ThriftReadError(`invalid compact type ${code}`);
    return type;
  }

  // Protocol id 0x82, version 1 and the type, seqid, name.
  #compactHeader(buf: Uint8Array): number | undefined {
    if (buf.length < 2) return undefined;
    if (buf[0] !== 0x82) throw new ThriftReadError(`bad protocol identifier ${buf[0]}`);
    if ((buf[1]! & 0x1f) !== 1) throw new ThriftReadError(`bad protocol version ${buf[1]! & 0x1f}`);
    const seqid = varint(buf, 2);
    if (seqid < 0) return undefined;
    return this.#value(buf, seqid, STRING);
  }

  // Strict (version, name, seqid) or old (name, type, seqid).
  #binaryHeader(buf: Uint8Array): number | undefined {
    const first = int32(buf, 0);
    if (first === undefined) return undefined;
    if (first.value < 0) {
      if ((first.value & 0xffff0000) !== BINARY_VERSION_1) {
        throw new ThriftReadError(`bad version in the message header: ${first.value}`);
      }
      const name = this.#value(buf, 4, STRING);
      return name === undefined || name + 4 > buf.length ? undefined : name + 4;
    }
    this.#fits(4, first.value, 1);
    const end = 4 + first.value + 5;
    return end > buf.length ? undefined : end;
  }
}

function orUndefined(end: number): number | undefined {
  return end < 0 ? undefined : end;
}

// The end of the varint at `at`; -1 when `buf` ends first.
function varint(buf: Uint8Array, at: number): number {
  for (let i = 0; i < 10; i++) {
    if (at + i >= buf.length) return -1;
    if (buf[at + i]! < 0x80) return at + i + 1;
  }
  throw new ThriftReadError("a varint longer than 10 bytes");
}

// A 32-bit varint's value (as a signed 32-bit number) and end.
function varintValue(buf: Uint8Array, at: number): { value: number; end: number } | undefined {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (at + i >= buf.length) return undefined;
    const byte = buf[at + i]!;
    value |= (byte & 0x7f) << (7 * i);
    if (byte < 0x80) return { value, end: at + i + 1 };
  }
  throw new ThriftReadError("a 32-bit varint longer than 5 bytes");
}

function int32(buf: Uint8Array, at: number): { value: number; end: number } | undefined {
  if (at + 4 > buf.length) return undefined;
  const value = (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!;
  return { value, end: at + 4 };
}
