// Values between parley and msgpackr: the packer and unpackers, extension
// types registered per codec on top of msgpackr's global registry, and the
// two passes msgpackr does not do for us — integers beyond 32 bits sent as
// integers (msgpackr sends them as doubles), and maps with keys other than
// strings decoded as `Map` (msgpackr would turn the keys into strings).

import { addExtension, Packr, Unpackr } from "msgpackr";
import type { ExtensionDecoder } from "./_slots.ts";
import { MsgpackExt } from "./_wrappers.ts";

/** An extension type: how instances of a class travel as MessagePack `ext` values. */
export interface MsgpackExtension<T = unknown> {
  /** The extension type, 0 to 127 (negative types are reserved by MessagePack). */
  readonly type: number;
  /** Instances of this class (subclasses included) are encoded with it. */
  // deno-lint-ignore no-explicit-any
  readonly Class: abstract new (...args: any[]) => T;
  /** The value's bytes. */
  encode(value: T): Uint8Array;
  /** The value from its bytes. */
  decode(data: Uint8Array): T;
}

/**
 * Declares an extension type, inferring `T` from its class.
 *
 * @param extension the type number, the class and its two conversions
 * @returns the extension, for the codec's `extensions` option
 *
 * @example A class of your own as extension type 7
 * ```ts
 * import assert from "node:assert/strict";
 * import { msgpackExtension, msgpackRpc } from "../msgpack_rpc.ts";
 *
 * class Rgb {
 *   constructor(readonly r: number, readonly g: number, readonly b: number) {}
 * }
 * const rgb = msgpackExtension({
 *   type: 7,
 *   Class: Rgb,
 *   encode: (color) => new Uint8Array([color.r, color.g, color.b]), // color: Rgb, inferred
 *   decode: (data) => new Rgb(data[0]!, data[1]!, data[2]!),
 * });
 * const codec = msgpackRpc({ extensions: [rgb] });
 * const reply = { kind: "result", id: 1, result: new Rgb(255, 128, 0) } as const;
 * const frame = codec.encode(reply) as Uint8Array;
 * // The result is an ext 8 of type 7 holding the three bytes.
 * assert.deepEqual([...frame.subarray(4)], [0xc7, 3, 7, 255, 128, 0]);
 * assert.deepEqual(codec.decode(frame), reply);
 * ```
 */
export function msgpackExtension<T>(extension: MsgpackExtension<T>): MsgpackExtension<T> {
  return extension;
}

/** The extensions of the codec that is encoding or decoding right now. */
let active: readonly MsgpackExtension[] = [];
const registered = new Map<number, Set<unknown>>();

/** Registers the extensions with msgpackr (once per type and class). */
export function registerExtensions(extensions: readonly MsgpackExtension[]): void {
  for (const extension of extensions) {
    const { type, Class } = extension;
    if (!Number.isInteger(type) || type < 0 || type > 127) {
      throw new RangeError(`extension type must be an integer from 0 to 127, got ${type}`);
    }
    const classes = registered.get(type) ?? new Set();
    if (classes.has(Class)) continue;
    classes.add(Class);
    registered.set(type, classes);
    // msgpackr's registry is global: what it calls dispatches to the codec
    // at work, so that codecs with different extensions do not see each other's.
    addExtension({
      Class,
      // msgpackr refuses a falsy type, but 0 is a valid one (Neovim's Buffer):
      // a Number object passes its check and still writes and keys as 0.
      type: type === 0 ? Object(0) as number : type,
      pack(value: unknown) {
        const own = active.find((e) => e.type === type && value instanceof e.Class);
        if (own === undefined) {
          throw new TypeError(`no msgpack extension for ${Class.name} in this codec`);
        }
        return own.encode(value);
      },
      // parley's codecs decode extension values themselves (_slots.ts), so
      // msgpackr meets this type only in another user's unpack.
      unpack() {
        throw new TypeError(`extension type ${type} is decoded by parley's msgpack-rpc codec`);
      },
    });
  }
}

/** Decodes extension values with the codec's own extensions; other types become `MsgpackExt`s. */
export function extensionDecoder(extensions: readonly MsgpackExtension[]): ExtensionDecoder {
  const byType = new Map<number, MsgpackExtension>();
  for (const extension of extensions) {
    if (!byType.has(extension.type)) byType.set(extension.type, extension);
  }
  return (type, data) => {
    const own = byType.get(type);
    return own === undefined ? new MsgpackExt(type, data) : own.decode(data);
  };
}

/** Runs `fn` with these extensions active. */
export function withExtensions<T>(extensions: readonly MsgpackExtension[], fn: () => T): T {
  if (extensions.length === 0 && active.length === 0) return fn();
  const before = active;
  active = extensions;
  try {
    return fn();
  } finally {
    active = before;
  }
}

/** The packer: standard MessagePack only, `undefined` as nil, smallest map headers. */
export const packr = new Packr({
  useRecords: false,
  moreTypes: false,
  encodeUndefinedAsNil: true,
  // The smallest map header, as the specification asks (msgpackr writes map16 by default).
  variableMapSize: true,
});

// "auto" (a number within ±2^53, a bigint beyond) is newer than msgpackr's types.
const unpackOptions = {
  useRecords: false,
  moreTypes: false,
  int64AsType: "auto" as "bigint",
  copyBuffers: true,
} as const;
/** Maps become objects: for values whose map keys are all strings (other than `__proto__`). */
export const objectUnpackr = new Unpackr({ ...unpackOptions, mapsAsObjects: true });
/** Maps become `Map`s: for the rest, then {@linkcode objectsFromMaps}. */
export const mapUnpackr = new Unpackr({ ...unpackOptions, mapsAsObjects: false });

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The value with every integer `number` beyond 32 bits (within the safe
 * range) as a `bigint`, so that it travels as a MessagePack integer. The
 * value itself when there is none, copies only where there are.
 */
export function widenIntegers(value: unknown): unknown {
  if (typeof value === "number") {
    return (value < INT32_MIN || value > INT32_MAX) && Number.isSafeInteger(value)
      ? BigInt(value)
      : value;
  }
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const widened = widenIntegers(item);
      if (widened !== item) (copy ??= value.slice())[i] = widened;
    }
    return copy ?? value;
  }
  if (value instanceof Map) {
    let changed = false;
    const entries = [...value].map(([k, v]) => {
      const wk = widenIntegers(k);
      const wv = widenIntegers(v);
      if (wk !== k || wv !== v) changed = true;
      return [wk, wv] as const;
    });
    return changed ? new Map(entries) : value;
  }
  if (!isPlain(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key];
    const widened = widenIntegers(item);
    if (widened !== item) {
      copy ??= { ...value };
      Object.defineProperty(copy, key, { value: widened, enumerable: true, writable: true });
    }
  }
  return copy ?? value;
}

/** A value decoded with maps as `Map`: those whose keys are all strings become objects. */
export function objectsFromMaps(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(objectsFromMaps);
  if (!(value instanceof Map)) return value;
  const entries: [unknown, unknown][] = [];
  let strings = true;
  for (const [k, v] of value) {
    if (typeof k !== "string") strings = false;
    entries.push([k, objectsFromMaps(v)]);
  }
  // Object.fromEntries defines own properties, so "__proto__" stays a key.
  return strings ? Object.fromEntries(entries) : new Map(entries);
}
