// Walks the headers of one MessagePack value without decoding it: where it
// ends, whether it is complete, and whether it is acceptable — before
// msgpackr sees a byte. Binaries, extensions and (when measuring) strings
// are skipped by their declared length, so the walk costs time in the
// number of values, not bytes. It refuses what a hostile peer could use
// against the decoder: lengths beyond the size limit (a string that
// declares 4 GiB), nesting beyond the depth limit, the never-used byte
// 0xc1, and timestamps of a length the specification does not have.
//
// Before a decode it also notes the values msgpackr must not decode itself
// (their start and end, in `found`), which _slots.ts decodes instead: every
// extension but the timestamp (msgpackr's private types would build Errors,
// RegExps and structured-clone references; others it refuses), strings
// that are not UTF-8 (msgpackr would write U+FFFD), and with `keepFloats`
// every float. That needs the bytes of strings up to LONG_STRING checked
// here, the one cost in bytes; longer ones are noted unchecked, since
// decoding them once natively costs less than checking them.

import { DecodeError } from "../../rpc/errors.ts";
import { isUtf8, WORDS_FROM, wordsOf } from "./_utf8.ts";

/** What a walk found. */
export interface Scan {
  /** Where the value ends. */
  readonly end: number;
  /** A map has a key that is not a string, or a key `"__proto__"`. */
  readonly unusualKeys: boolean;
}

/** The limits of a walk, and what it notes. */
export interface ScanLimits {
  readonly maxSize: number;
  readonly maxDepth: number;
  /** Most array elements and map entries, counted at every depth when decoding. */
  readonly maxItems: number;
  /** Floats are noted too (for `keepFloats`). */
  readonly keepFloats: boolean;
  /** Room for the walk's stack: `maxDepth` entries each. */
  readonly scratch: Uint32Array;
  readonly scratchMaps: Uint8Array;
}

const NAME = "msgpack-rpc";
/** Strings longer than this are noted rather than checked here (see _slots.ts). */
export const LONG_STRING = 2048;
// What a value is, for noting it: nothing to note, str, ext, float.
const PLAIN = 0;
const STR = 1;
const EXT = 2;
const FLOAT = 3;
// "__proto__" in UTF-8.
const PROTO = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f];

/**
 * A message to decode declares more array elements and map entries than
 * `maxItems`: refused before msgpackr allocates them. The message itself is
 * whole (the stream goes on), so the codec answers it rather than failing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scanValue, TooManyItems } from "./_scan.ts";
 *
 * const limits = {
 *   maxSize: 100,
 *   maxDepth: 4,
 *   maxItems: 2,
 *   keepFloats: false,
 *   scratch: new Uint32Array(4),
 *   scratchMaps: new Uint8Array(4),
 * };
 * const array = new Uint8Array([0x93, 1, 2, 3]);
 * assert.throws(() => scanValue(array, 0, limits, []), TooManyItems);
 * assert.equal(scanValue(array, 0, limits)?.end, 4); // measuring does not count
 * ```
 */
export class TooManyItems extends Error {
  constructor(maxItems: number) {
    super(`the message holds more than ${maxItems} items (limit maxItems)`);
    this.name = "TooManyItems";
  }
}

/**
 * Where a walk that ran out of bytes stopped: at the start of a value, with
 * the open containers' counts, so that the next walk over the same bytes
 * grown longer goes on from there.
 */
export class Paused {
  constructor(
    readonly pos: number,
    readonly todo: number,
    readonly inMap: boolean,
    readonly left: Uint32Array,
    readonly isMap: Uint8Array,
  ) {}
}

/**
 * Walks the value starting at `start`. Returns `undefined` when the bytes
 * end before it does.
 *
 * @param found where to note the values msgpackr must not decode, as
 *   start, end pairs in order (emptied first); none are noted without it
 * @param resume for measuring only (without `found`): where a walk over
 *   the start of the same bytes stopped, in `resume.resume`, and where this
 *   one stops when the bytes end first
 * @throws {DecodeError} for bytes that cannot be, or may not be, a value
 */
export function scanValue(
  buf: Uint8Array,
  start: number,
  limits: ScanLimits,
  found?: number[],
  resume?: { resume: unknown },
): Scan | undefined {
  const length = buf.length;
  const maxSize = limits.maxSize;
  // Per open container: values still to read, and whether it is a map (its
  // keys are the values read while the count is even). Depth 0 is the top.
  const left = limits.scratch;
  const isMap = limits.scratchMaps;
  let depth = 0;
  let unusualKeys = false;
  let counted = 0; // elements and entries declared so far, counted before a decode
  let pos = start;
  let todo = 1;
  let inMap = false;
  const from = resume?.resume;
  if (from instanceof Paused) {
    depth = from.left.length;
    left.set(from.left);
    isMap.set(from.isMap);
    pos = from.pos;
    todo = from.todo;
    inMap = from.inMap;
  }
  if (found !== undefined && found.length !== 0) found.length = 0;
  let words: Int32Array | undefined; // the frame's buffer in words, for the first string that needs it
  for (;;) {
    if (todo === 0) {
      // The current container is complete: back to its parent.
      if (depth === 0) return { end: pos, unusualKeys };
      depth--;
      todo = left[depth]!;
      inMap = isMap[depth] === 1;
      continue;
    }
    if (pos >= length) return pause(resume, pos, todo, inMap, depth, limits);
    const atKey = inMap && (todo & 1) === 0;
    todo--;
    const byte = buf[pos]!;
    let size = 1; // header bytes
    let body = 0; // bytes after the header
    let items = 0; // values inside, for containers
    let map = false;
    let kind = PLAIN;
    if (byte <= 0x7f || byte >= 0xe0) {
      // fixint
    } else if (byte <= 0x8f) {
      items = (byte & 0x0f) * 2;
      map = true;
    } else if (byte <= 0x9f) {
      items = byte & 0x0f;
    } else if (byte <= 0xbf) {
      body = byte & 0x1f;
      kind = STR;
    } else {
      // Every longer header: its size first, so that it is known to be there.
      size = HEADER[byte - 0xc0]!;
      if (size === 0) {
        throw new DecodeError(NAME, `byte 0xc1 at offset ${pos} is never used in MessagePack`);
      }
      if (pos + size > length) return pause(resume, pos, todo + 1, inMap, depth, limits);
      switch (byte) {
        case 0xc4:
          body = buf[pos + 1]!;
          break;
        case 0xc5:
          body = uint16(buf, pos + 1);
          break;
        case 0xc6:
          body = uint32(buf, pos + 1);
          break;
        case 0xd9:
          body = buf[pos + 1]!;
          kind = STR;
          break;
        case 0xda:
          body = uint16(buf, pos + 1);
          kind = STR;
          break;
        case 0xdb:
          body = uint32(buf, pos + 1);
          kind = STR;
          break;
        case 0xca:
        case 0xcb:
          kind = FLOAT;
          break;
        case 0xc7:
          body = buf[pos + 1]!;
          kind = extension(buf[pos + 2]!, body, pos);
          break;
        case 0xc8:
          body = uint16(buf, pos + 1);
          kind = extension(buf[pos + 3]!, body, pos);
          break;
        case 0xc9:
          body = uint32(buf, pos + 1);
          kind = extension(buf[pos + 5]!, body, pos);
          break;
        case 0xd4:
        case 0xd5:
        case 0xd6:
        case 0xd7:
        case 0xd8:
          body = 1 << (byte - 0xd4);
          kind = extension(buf[pos + 1]!, body, pos);
          break;
        case 0xdc:
          items = uint16(buf, pos + 1);
          break;
        case 0xdd:
          items = uint32(buf, pos + 1);
          break;
        case 0xde:
          items = uint16(buf, pos + 1) * 2;
          map = true;
          break;
        case 0xdf:
          items = uint32(buf, pos + 1) * 2;
          map = true;
          break;
      }
    }
    if (body > maxSize || items > maxSize) {
      throw new DecodeError(
        NAME,
        `a value at offset ${pos} declares ${items > 0 ? items : body} ${
          items > 0 ? "items" : "bytes"
        }, over the limit of ${maxSize}`,
      );
    }
    if (pos + size + body > length) return pause(resume, pos, todo + 1, inMap, depth, limits);
    if (atKey) {
      if (!isString(byte)) unusualKeys = true;
      else if (body === PROTO.length && isProto(buf, pos + size)) unusualKeys = true;
    }
    if (kind !== PLAIN && found !== undefined) {
      const end = pos + size + body;
      let note = kind === EXT || (kind === FLOAT && limits.keepFloats);
      if (kind === STR) {
        // Short ASCII, the common case, right here; the rest in isUtf8.
        let i = pos + size;
        if (body < WORDS_FROM) { while (i < end && buf[i]! < 0x80) i++; }
        if (i < end) {
          if (body > LONG_STRING) note = true;
          else {
            if (body >= WORDS_FROM) words ??= wordsOf(buf);
            note = !isUtf8(buf, i, end, words);
          }
        }
      }
      if (note) {
        found.push(pos, end);
        // A key msgpackr does not read as a string: maps with it are read as `Map`s.
        if (atKey) unusualKeys = true;
      }
    }
    pos += size + body;
    if (items > 0) {
      if (found !== undefined && (counted += map ? items / 2 : items) > limits.maxItems) {
        throw new TooManyItems(limits.maxItems);
      }
      if (depth >= limits.maxDepth) {
        throw new DecodeError(NAME, `nesting deeper than ${limits.maxDepth} at offset ${pos}`);
      }
      left[depth] = todo;
      isMap[depth] = inMap ? 1 : 0;
      depth++;
      todo = items;
      inMap = map;
    }
    if (pos - start > maxSize) {
      throw new DecodeError(NAME, `a value longer than the limit of ${maxSize} bytes`);
    }
  }
}

// Out of bytes at the value at `pos`, with `todo` values to go (it included):
// notes where, when the caller resumes walks.
function pause(
  resume: { resume: unknown } | undefined,
  pos: number,
  todo: number,
  inMap: boolean,
  depth: number,
  limits: ScanLimits,
): undefined {
  if (resume !== undefined) {
    resume.resume = new Paused(
      pos,
      todo,
      inMap,
      limits.scratch.slice(0, depth),
      limits.scratchMaps.slice(0, depth),
    );
  }
  return undefined;
}

// Header sizes of the bytes 0xc0..0xdf (0 for 0xc1, which is never used).
const HEADER = [
  1,
  0,
  1,
  1,
  2,
  3,
  5,
  3,
  4,
  6,
  5,
  9,
  2,
  3,
  5,
  9, //
  2,
  3,
  5,
  9,
  2,
  2,
  2,
  2,
  2,
  2,
  3,
  5,
  3,
  5,
  3,
  5,
];

function uint16(buf: Uint8Array, at: number): number {
  return (buf[at]! << 8) | buf[at + 1]!;
}

function uint32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) >>> 0) + ((buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!);
}

function isProto(buf: Uint8Array, at: number): boolean {
  for (let i = 0; i < PROTO.length; i++) if (buf[at + i] !== PROTO[i]) return false;
  return true;
}

function isString(byte: number): boolean {
  return (byte >= 0xa0 && byte <= 0xbf) || byte === 0xd9 || byte === 0xda || byte === 0xdb;
}

// The timestamp (-1) is msgpackr's to decode, once its length is checked;
// every other extension is noted.
function extension(type: number, body: number, pos: number): number {
  if (type !== 0xff) return EXT;
  if (body !== 4 && body !== 8 && body !== 12) {
    throw new DecodeError(NAME, `a timestamp of ${body} bytes at offset ${pos}`);
  }
  return PLAIN;
}
