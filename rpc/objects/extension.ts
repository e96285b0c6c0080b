/**
 * References as a msgpack extension type, for sessions over msgpack-rpc:
 * `msgpackRpc({ extensions: [referenceExtension] })` with
 * `new ObjectSession({ references: "extension" })` on both ends. Plain
 * maps then never need escaping: a reference is never a map.
 *
 * The extension's type is 80; its data is one byte for the tag (0 `$ref`,
 * 1 `$you`, 2 `$answer`), the id as an unsigned 64-bit big-endian integer,
 * and for `$ref` one more byte for the type (0 object, 1 function,
 * 2 iterator).
 *
 * @module
 */

/** A reference as it travels in the extension type; the session reads and writes them. */
export class ReferenceTag {
  /**
   * Creates a tag.
   *
   * @param tag the tagged object of the JSON form, such as `{ $ref: 3, type: "function" }`
   */
  constructor(readonly tag: Readonly<Record<string, unknown>>) {}
}

const KINDS = ["$ref", "$you", "$answer"] as const;
const TYPES = ["object", "function", "iterator"] as const;

/** The extension type number of references. */
export const REFERENCE_EXTENSION_TYPE = 80;

/**
 * The msgpack extension for references (structurally a `MsgpackExtension`
 * of `@parley/rpc/msgpack-rpc`).
 */
export const referenceExtension: {
  readonly type: number;
  readonly Class: typeof ReferenceTag;
  encode(value: ReferenceTag): Uint8Array;
  decode(data: Uint8Array): ReferenceTag;
} = {
  type: REFERENCE_EXTENSION_TYPE,
  Class: ReferenceTag,
  encode(value) {
    const kind = KINDS.findIndex((k) => typeof value.tag[k] === "number");
    if (kind === -1) throw new TypeError("Not a reference tag");
    const bytes = new Uint8Array(kind === 0 ? 10 : 9);
    const view = new DataView(bytes.buffer);
    bytes[0] = kind;
    view.setBigUint64(1, BigInt(value.tag[KINDS[kind]!] as number));
    if (kind === 0) bytes[9] = Math.max(0, TYPES.indexOf(value.tag.type as typeof TYPES[number]));
    return bytes;
  },
  decode(data) {
    const kind = KINDS[data[0] ?? 255];
    if (kind === undefined || data.length < 9) throw new RangeError("Not a reference extension");
    const id = Number(new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(1));
    return new ReferenceTag(
      kind === "$ref" ? { $ref: id, type: TYPES[data[9] ?? 0] ?? "object" } : { [kind]: id },
    );
  },
};
