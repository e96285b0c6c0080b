// Walks the headers of one MessagePack value without decoding it: where it
// ends, whether it is complete, and whether it is acceptable — before
// msgpackr sees a byte. Strings, binaries and extensions are skipped by
// their declared length, so the walk costs time in the number of values,
// not bytes. It refuses what a hostile peer could use against the decoder:
// lengths beyond the size limit (a string that declares 4 GiB), nesting
// beyond the depth limit, the never-used byte 0xc1, and extension types
// the codec did not accept (msgpackr's private ones would build Errors,
// RegExps and structured-clone references).

import { DecodeError } from "../../rpc/errors.ts";

/** What a walk found. */
export interface Scan {
  /** Where the value ends. */
  readonly end: number;
  /** A map has a key that is not a string, or a key `"__proto__"`. */
  readonly unusualKeys: boolean;
}

/** The limits and accepted extensions of a walk. */
export interface ScanLimits {
  readonly maxSize: number;
  readonly maxDepth: number;
  /** Accepted extension types (as signed bytes; -1 is the timestamp). */
  readonly extensions: ReadonlySet<number>;
}

const NAME = "msgpack-rpc";
// "__proto__" in UTF-8.
const PROTO = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f];

/**
 * Walks the value starting at `start`. Returns `undefined` when the bytes
 * end before it does.
 *
 * @throws {DecodeError} for bytes that cannot be, or may not be, a value
 */
export function scanValue(buf: Uint8Array, start: number, limits: ScanLimits): Scan | undefined {
  const length = buf.length;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  // Per open container: values still to read, and whether it is a map (its
  // keys are the values read when the count is even).
  const left: number[] = [];
  const isMap: boolean[] = [];
  let unusualKeys = false;
  let pos = start;
  let todo = 1;
  for (;;) {
    if (todo === 0) {
      // The current container is complete: back to its parent.
      if (left.length === 0) return { end: pos, unusualKeys };
      todo = left.pop()!;
      isMap.pop();
      continue;
    }
    if (pos >= length) return undefined;
    const atKey = isMap.length > 0 && isMap[isMap.length - 1] && todo % 2 === 0;
    todo--;
    const byte = buf[pos]!;
    let size = 1; // header bytes
    let body = 0; // bytes after the header
    let items = -1; // values inside, for containers
    let map = false;
    if (byte <= 0x7f || byte >= 0xe0) {
      // fixint
    } else if (byte <= 0x8f) {
      items = (byte & 0x0f) * 2;
      map = true;
    } else if (byte <= 0x9f) {
      items = byte & 0x0f;
    } else if (byte <= 0xbf) {
      body = byte & 0x1f;
    } else {
      switch (byte) {
        case 0xc0:
        case 0xc2:
        case 0xc3:
          break;
        case 0xc1:
          throw new DecodeError(NAME, `byte 0xc1 at offset ${pos} is never used in MessagePack`);
        case 0xc4:
        case 0xd9:
          if (pos + 2 > length) return undefined;
          size = 2;
          body = buf[pos + 1]!;
          break;
        case 0xc5:
        case 0xda:
          if (pos + 3 > length) return undefined;
          size = 3;
          body = view.getUint16(pos + 1);
          break;
        case 0xc6:
        case 0xdb:
          if (pos + 5 > length) return undefined;
          size = 5;
          body = view.getUint32(pos + 1);
          break;
        case 0xc7:
        case 0xc8:
        case 0xc9: {
          const width = byte === 0xc7 ? 1 : byte === 0xc8 ? 2 : 4;
          if (pos + 2 + width > length) return undefined;
          size = 2 + width;
          body = width === 1
            ? buf[pos + 1]!
            : width === 2
            ? view.getUint16(pos + 1)
            : view.getUint32(pos + 1);
          checkExtension(view.getInt8(pos + 1 + width), body, pos, limits);
          break;
        }
        case 0xca:
          size = 5;
          break;
        case 0xcb:
          size = 9;
          break;
        case 0xcc:
        case 0xd0:
          size = 2;
          break;
        case 0xcd:
        case 0xd1:
          size = 3;
          break;
        case 0xce:
        case 0xd2:
          size = 5;
          break;
        case 0xcf:
        case 0xd3:
          size = 9;
          break;
        case 0xd4:
        case 0xd5:
        case 0xd6:
        case 0xd7:
        case 0xd8: {
          if (pos + 2 > length) return undefined;
          size = 2;
          body = 1 << (byte - 0xd4);
          checkExtension(view.getInt8(pos + 1), body, pos, limits);
          break;
        }
        case 0xdc:
        case 0xde:
          if (pos + 3 > length) return undefined;
          size = 3;
          items = view.getUint16(pos + 1);
          break;
        case 0xdd:
        case 0xdf:
          if (pos + 5 > length) return undefined;
          size = 5;
          items = view.getUint32(pos + 1);
          break;
      }
      if (byte === 0xde || byte === 0xdf) {
        map = true;
        items *= 2;
      }
    }
    if (atKey && !isString(byte)) unusualKeys = true;
    if (body > limits.maxSize || items > limits.maxSize) {
      throw new DecodeError(
        NAME,
        `a value at offset ${pos} declares ${items >= 0 ? items : body} ${
          items >= 0 ? "items" : "bytes"
        }, over the limit of ${limits.maxSize}`,
      );
    }
    if (pos + size + body > length) return undefined;
    if (atKey && body === PROTO.length && isString(byte)) {
      if (PROTO.every((b, i) => buf[pos + size + i] === b)) unusualKeys = true;
    }
    pos += size + body;
    if (items > 0) {
      if (left.length >= limits.maxDepth) {
        throw new DecodeError(NAME, `nesting deeper than ${limits.maxDepth} at offset ${pos}`);
      }
      left.push(todo);
      isMap.push(map);
      todo = items;
    }
    if (pos - start > limits.maxSize) {
      throw new DecodeError(NAME, `a value longer than the limit of ${limits.maxSize} bytes`);
    }
  }
}

function isString(byte: number): boolean {
  return (byte >= 0xa0 && byte <= 0xbf) || byte === 0xd9 || byte === 0xda || byte === 0xdb;
}

function checkExtension(type: number, body: number, pos: number, limits: ScanLimits): void {
  if (!limits.extensions.has(type)) {
    throw new DecodeError(NAME, `extension type ${type} at offset ${pos} is not accepted`);
  }
  if (type === -1 && body !== 4 && body !== 8 && body !== 12) {
    throw new DecodeError(NAME, `a timestamp of ${body} bytes at offset ${pos}`);
  }
}
