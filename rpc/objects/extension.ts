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

/**
 * A reference as it travels in the extension type; the session reads and writes them.
 *
 * @example A callback's reference, as bytes and back
 * ```ts
 * import assert from "node:assert/strict";
 * import { referenceExtension, ReferenceTag } from "./extension.ts";
 *
 * const tag = new ReferenceTag({ $ref: 3, type: "function" });
 * const bytes = referenceExtension.encode(tag); // $ref, id 3, a function
 * assert.deepEqual([...bytes], [0, 0, 0, 0, 0, 0, 0, 0, 3, 1]);
 * assert.deepEqual(referenceExtension.decode(bytes), tag);
 * ```
 */
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

/**
 * The extension type number of references.
 *
 * @example Telling a reference in a frame read without the extension (a log, say)
 * ```ts
 * import assert from "node:assert/strict";
 * import { MsgpackExt, msgpackRpc } from "../../codecs/msgpack_rpc.ts";
 * import { REFERENCE_EXTENSION_TYPE, referenceExtension, ReferenceTag } from "./extension.ts";
 *
 * const frame = msgpackRpc({ extensions: [referenceExtension] })
 *   .encode({ kind: "result", id: 1, result: new ReferenceTag({ $you: 7 }) });
 * const { result } = msgpackRpc().decode(frame) as { result: MsgpackExt };
 * assert.equal(result.type, REFERENCE_EXTENSION_TYPE);
 * assert.deepEqual(referenceExtension.decode(result.data), new ReferenceTag({ $you: 7 }));
 * ```
 */
export const REFERENCE_EXTENSION_TYPE = 80;

/**
 * The msgpack extension for references (structurally a `MsgpackExtension`
 * of `@parley/rpc/msgpack-rpc`).
 *
 * @example Both ends of a msgpack-rpc session with references as extensions
 * ```ts
 * import assert from "node:assert/strict";
 * import { Peer } from "../peer.ts";
 * import { memoryPair } from "../testing.ts";
 * import { msgpackRpc } from "../../codecs/msgpack_rpc.ts";
 * import { referenceExtension } from "./extension.ts";
 * import { ObjectSession } from "./session.ts";
 *
 * const codec = () => msgpackRpc({ extensions: [referenceExtension] });
 * const root = {
 *   apply: (f: (n: number) => number, n: number) => f(n),
 *   echo: (value: unknown) => value,
 * };
 * const [a, b] = memoryPair();
 * const served = new ObjectSession({ root, references: "extension" });
 * served.attach(new Peer(a, { codec: codec(), service: served.service }));
 * const used = new ObjectSession({ references: "extension" });
 * await using peer = new Peer(b, { codec: codec(), service: used.service });
 * used.attach(peer);
 * const api = used.root<typeof root>();
 * assert.equal(await api.apply((n) => n * 2, 21), 42); // the callback went as extension 80
 * assert.deepEqual(await api.echo({ $ref: 5 }), { $ref: 5 }); // a map is never a reference
 * ```
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
