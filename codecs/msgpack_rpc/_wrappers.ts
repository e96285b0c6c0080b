// The values that let msgpack-rpc carry what JavaScript has no type for,
// unchanged both ways: a str whose bytes are not UTF-8 (RawString) and an
// extension type the codec was not told about (MsgpackExt). A third, Float
// (rpc/float.ts), keeps a whole double a double.

/**
 * A msgpack `str` whose bytes are not well-formed UTF-8: a Latin-1 line of a
 * Neovim buffer (`caf\xe9`), a Vim blob sent as a String. Decoding it as
 * text would replace bytes with U+FFFD; this keeps them, and encodes as a
 * `str` with exactly these bytes, so what is read can be written back
 * unchanged. Strings that are valid UTF-8 decode as plain `string`s.
 *
 * @example A Latin-1 line, read and written back
 * ```ts
 * import assert from "node:assert/strict";
 * import { msgpackRpc, RawString } from "../msgpack_rpc.ts";
 *
 * const codec = msgpackRpc();
 * // [1, 1, nil, "caf\xe9"]: a result whose str is Latin-1
 * const frame = new Uint8Array([0x94, 1, 1, 0xc0, 0xa4, 0x63, 0x61, 0x66, 0xe9]);
 * const { result } = codec.decode(frame) as { result: RawString };
 * assert.ok(result instanceof RawString);
 * assert.deepEqual(result.bytes, new Uint8Array([0x63, 0x61, 0x66, 0xe9]));
 * assert.equal(String(result), "caf\ufffd");
 * assert.deepEqual(codec.encode({ kind: "result", id: 1, result }), frame);
 * ```
 */
export class RawString {
  /** The str's bytes, as they travel. */
  readonly bytes: Uint8Array;

  /**
   * Wraps the bytes of a str (not copied).
   *
   * @param bytes any bytes; valid UTF-8 is allowed, and decodes as a `string` on the other side
   * @throws {TypeError} when `bytes` is not a `Uint8Array`
   */
  constructor(bytes: Uint8Array) {
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError("a RawString wraps a Uint8Array");
    }
    this.bytes = bytes;
  }

  /** The bytes as text, with U+FFFD for each byte sequence that is not UTF-8: for display only. */
  toString(): string {
    return lossy.decode(this.bytes);
  }
}

const lossy = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * A MessagePack extension value of a type the codec has no
 * {@linkcode MsgpackExtension} for: its type and its bytes, decoded as they
 * are and encoded back as the same `ext`. Neovim's buffers, windows and tab
 * pages (types 0, 1, 2) arrive this way from a codec without
 * `neovimExtensions`, and can still be passed back to Neovim. msgpackr's
 * own types (errors, regular expressions, records, references) are never
 * interpreted: they arrive as `MsgpackExt`s too. The timestamp (-1) is
 * decoded as a `Date`.
 *
 * @example A Neovim buffer handle, without extensions
 * ```ts
 * import assert from "node:assert/strict";
 * import { MsgpackExt, msgpackRpc } from "../msgpack_rpc.ts";
 *
 * const codec = msgpackRpc();
 * // [1, 1, nil, ext 0 (fixext 1) holding 0x01]
 * const frame = new Uint8Array([0x94, 1, 1, 0xc0, 0xd4, 0x00, 0x01]);
 * const { result } = codec.decode(frame) as { result: MsgpackExt };
 * assert.deepEqual(result, new MsgpackExt(0, new Uint8Array([1])));
 * assert.deepEqual(codec.encode({ kind: "result", id: 1, result }), frame);
 * ```
 */
export class MsgpackExt {
  /** The extension type, -128 to 127 (-1 is the timestamp; other negative types are reserved). */
  readonly type: number;
  /** The extension's bytes. */
  readonly data: Uint8Array;

  /**
   * Wraps an extension value (the bytes are not copied).
   *
   * @param type the extension type, an integer from -128 to 127
   * @param data its bytes
   * @throws {RangeError} for a type outside -128..127
   * @throws {TypeError} when `data` is not a `Uint8Array`
   */
  constructor(type: number, data: Uint8Array) {
    if (!Number.isInteger(type) || type < -128 || type > 127) {
      throw new RangeError(`an extension type is an integer from -128 to 127, got ${type}`);
    }
    if (!(data instanceof Uint8Array)) throw new TypeError("a MsgpackExt's data is a Uint8Array");
    this.type = type;
    this.data = data;
  }
}
