// The values msgpackr cannot carry exactly, both ways.
//
// Encoding: msgpackr writes a whole number as an integer and a string as
// its UTF-8, and has no generic extension value. Hooks on msgpackr's
// extension mechanism (by class, so plain values never reach them) write a
// Float as float 64 whatever its value, a RawString as a str of its bytes,
// and a MsgpackExt as an ext of its type and bytes.
//
// Decoding: msgpackr has no hook for floats, strings or unknown extension
// types. The header walk notes those values (_scan.ts); here each one is
// decoded by parley into a table, and replaced in a copy of the frame by a
// "slot", a fixext 4 of a reserved type holding its index, which msgpackr
// resolves through the table. Frames with nothing noted (the common case)
// never come here.

import { addExtension } from "msgpackr";
import { Float } from "../../rpc/float.ts";
import { isUtf8 } from "./_utf8.ts";
import { MsgpackExt, RawString } from "./_wrappers.ts";

// The slots' type: -128, reserved by MessagePack, used by neither msgpackr
// nor any extension a codec accepts (0..127); it never reaches the wire.
const SLOT = 0x80;
const SLOT_SIZE = 6; // 0xd6, the type, a 32-bit index

/** The table of the decode at work: msgpackr decodes synchronously, one frame at a time. */
let slots: readonly unknown[] = [];

function readSlot(data: Uint8Array): unknown {
  return slots[((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0];
}

type Allocate = (size: number) => { target: Uint8Array; targetView: DataView; position: number };

// msgpackr's built-in extensions (Date, Set…) are written by a `pack(value,
// allocate)` that writes into msgpackr's own buffer and returns nothing; its
// typings declare only `pack(value) => bytes`, written as an ext of the
// extension's type. These hooks use the first form (msgpackr is pinned; the
// byte-exact tests catch a change), so the type given is unused; `unpack`
// makes the slot type resolve.
function hook<T>(
  Class: new (...args: never[]) => T,
  write: (value: T, allocate: Allocate) => void,
) {
  const extension = { Class, type: SLOT, pack: write, unpack: readSlot };
  addExtension(extension as unknown as Parameters<typeof addExtension>[0]);
}

hook(Float, (value, allocate) => {
  const { target, targetView, position } = allocate(9);
  target[position] = 0xcb;
  targetView.setFloat64(position + 1, value.value);
});
hook(RawString, (value, allocate) => {
  const length = value.bytes.length;
  const header = length < 0x20 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
  const { target, targetView, position } = allocate(header + length);
  if (header === 1) target[position] = 0xa0 | length;
  else writeLength(target, targetView, position, 0xd9, header, length);
  target.set(value.bytes, position + header);
});
hook(MsgpackExt, (value, allocate) => {
  const length = value.data.length;
  const fixed = FIXEXT.indexOf(length);
  const header = fixed >= 0 ? 2 : length < 0x100 ? 3 : length < 0x10000 ? 4 : 6;
  const { target, targetView, position } = allocate(header + length);
  if (fixed >= 0) target[position] = 0xd4 + fixed;
  else writeLength(target, targetView, position, 0xc7, header - 1, length);
  target[position + header - 1] = value.type & 0xff;
  target.set(value.data, position + header);
});

// The data lengths of fixext 1, 2, 4, 8 and 16 (0xd4..0xd8).
const FIXEXT = [1, 2, 4, 8, 16];

// A header with an 8-, 16- or 32-bit length: `first` is the 8-bit form's
// byte (str 8 0xd9, ext 8 0xc7); the wider forms follow it.
function writeLength(
  target: Uint8Array,
  view: DataView,
  at: number,
  first: number,
  size: number,
  length: number,
): void {
  if (size === 2) {
    target[at] = first;
    target[at + 1] = length;
  } else if (size === 3) {
    target[at] = first + 1;
    view.setUint16(at + 1, length);
  } else {
    target[at] = first + 2;
    view.setUint32(at + 1, length);
  }
}

/** How an extension value is decoded: by the codec's own extension, else as a `MsgpackExt`. */
export type ExtensionDecoder = (type: number, data: Uint8Array) => unknown;

const decoder = new TextDecoder("utf-8", { ignoreBOM: true }); // a leading U+FEFF is text
// Floats are read big-endian through one small view, not a DataView per frame.
const floatBytes = new Uint8Array(8);
const floatView = new DataView(floatBytes.buffer);

// The frame msgpackr reads, slots in place: reused, since a new buffer
// costs more than the rest of a small decode (Deno allocates each
// ArrayBuffer for some 300 ns, and msgpackr caches a DataView on each
// source). msgpackr keeps no view of it (copyBuffers). Frames larger than
// KEEP get a buffer of their own, so that one large frame is not held.
let scratch = new Uint8Array(1024);
const KEEP = 64 * 1024;

/**
 * Decodes a frame whose noted values (start, end pairs from the header
 * walk) are decoded here, the rest by `unpack` (msgpackr).
 *
 * @throws whatever `unpack` or an extension's `decode` throws
 */
export function unpackWithSlots(
  frame: Uint8Array,
  noted: readonly number[],
  decodeExtension: ExtensionDecoder,
  unpack: (frame: Uint8Array, end: number) => unknown,
): unknown {
  // Our own copy: an extension's decode may decode a frame with the same
  // codec, whose walk notes into the same array.
  const found = noted.slice();
  const count = found.length / 2;
  let length = frame.length + count * SLOT_SIZE;
  for (let i = 0; i < found.length; i += 2) length -= found[i + 1]! - found[i]!;
  // Every value first: an extension's decode may decode a frame itself.
  const table = new Array<unknown>(count);
  for (let n = 0; n < count; n++) {
    table[n] = valueAt(frame, found[2 * n]!, found[2 * n + 1]!, decodeExtension);
  }
  if (length > scratch.length) {
    const size = Math.max(length, 2 * scratch.length);
    if (size <= KEEP) scratch = new Uint8Array(size);
  }
  const copy = length <= scratch.length ? scratch : new Uint8Array(length);
  let from = 0;
  let to = 0;
  for (let n = 0; n < count; n++) {
    const start = found[2 * n]!;
    to = copyBytes(frame, from, start, copy, to);
    copy[to] = 0xd6;
    copy[to + 1] = SLOT;
    copy[to + 2] = n >>> 24;
    copy[to + 3] = (n >>> 16) & 0xff;
    copy[to + 4] = (n >>> 8) & 0xff;
    copy[to + 5] = n & 0xff;
    to += SLOT_SIZE;
    from = found[2 * n + 1]!;
  }
  copyBytes(frame, from, frame.length, copy, to);
  const outer = slots;
  slots = table;
  try {
    return unpack(copy, length);
  } finally {
    slots = outer;
  }
}

// Copies source[from..end) to target[to..] and returns where it ended:
// short runs (the headers between slots) byte by byte, as a subarray to
// copy from costs more than they do.
function copyBytes(source: Uint8Array, from: number, end: number, target: Uint8Array, to: number) {
  if (end - from > 32) {
    target.set(source.subarray(from, end), to);
    return to + end - from;
  }
  while (from < end) target[to++] = source[from++]!;
  return to;
}

// The noted value at frame[start..end): a float, a str or an ext.
function valueAt(
  frame: Uint8Array,
  start: number,
  end: number,
  decodeExtension: ExtensionDecoder,
): unknown {
  const byte = frame[start]!;
  if (byte === 0xca || byte === 0xcb) {
    floatBytes.set(frame.subarray(start + 1, end));
    return new Float(byte === 0xca ? floatView.getFloat32(0) : floatView.getFloat64(0));
  }
  if (byte <= 0xbf || (byte >= 0xd9 && byte <= 0xdb)) {
    const from = start + (byte <= 0xbf ? 1 : byte === 0xd9 ? 2 : byte === 0xda ? 3 : 5);
    // Decoded once, natively (long strings come here unchecked, the others
    // because the walk found them not UTF-8): U+FFFD in the text is either a
    // replaced byte or an encoded U+FFFD, which only a check tells apart.
    const text = decoder.decode(frame.subarray(from, end));
    return !text.includes("\ufffd") || isUtf8(frame, from, end)
      ? text
      : new RawString(Uint8Array.prototype.slice.call(frame, from, end));
  }
  // fixext 1..16 (0xd4..0xd8): the type follows the byte; ext 8/16/32
  // (0xc7..0xc9): it follows a 1-, 2- or 4-byte length.
  const at = byte >= 0xd4 ? start + 1 : start + 1 + (1 << (byte - 0xc7));
  const type = frame[at]!;
  const data = Uint8Array.prototype.slice.call(frame, at + 1, end);
  return decodeExtension(type > 127 ? type - 256 : type, data);
}
