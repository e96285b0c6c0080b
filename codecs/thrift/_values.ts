// Reading and writing values of a Thrift schema with a protocol: parley's
// plain form (see schema.ts) on one side, the package's protocol calls on
// the other. Checks what the protocol leaves loose: unknown fields on the
// way out, ranges, required fields, container sizes beyond the frame.

import { type Protocol, TType } from "./_protocol.ts";
import type { ThriftField, ThriftStruct, ThriftType } from "./schema.ts";
import { zeroOf } from "./_zero.ts";
import { ThriftReadError, ThriftRequiredError, ThriftValueError } from "./_errors.ts";

const WIRE: Record<ThriftType["kind"], number> = {
  bool: TType.BOOL,
  byte: TType.BYTE,
  i16: TType.I16,
  i32: TType.I32,
  i64: TType.I64,
  double: TType.DOUBLE,
  string: TType.STRING,
  binary: TType.STRING,
  enum: TType.I32,
  list: TType.LIST,
  set: TType.SET,
  map: TType.MAP,
  struct: TType.STRUCT,
};

/** The wire type id of a type. */
export function wireType(type: ThriftType): number {
  return WIRE[type.kind];
}

const RANGES = {
  byte: [-128, 127],
  i16: [-32768, 32767],
  i32: [-(2 ** 31), 2 ** 31 - 1],
} as const;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

function fail(where: string, what: string): never {
  throw new ThriftValueError(`${where}: ${what}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !ArrayBuffer.isView(value) && !(value instanceof Map) && !(value instanceof Set);
}

/**
 * Writes a value of `type`.
 *
 * @throws {ThriftValueError} when the value does not fit
 */
export function writeValue(p: Protocol, type: ThriftType, value: unknown, where: string): void {
  switch (type.kind) {
    case "bool":
      if (typeof value !== "boolean") fail(where, "a boolean expected");
      return p.writeBool(value);
    case "byte":
    case "i16":
    case "i32":
    case "enum": {
      const [low, high] = RANGES[type.kind === "enum" ? "i32" : type.kind];
      if (typeof value !== "number" || !Number.isInteger(value) || value < low || value > high) {
        fail(where, `an integer from ${low} to ${high} expected`);
      }
      if (type.kind === "byte") return p.writeByte(value);
      if (type.kind === "i16") return p.writeI16(value);
      return p.writeI32(value);
    }
    case "i64": {
      if (typeof value === "number") {
        if (!Number.isSafeInteger(value)) fail(where, "a safe integer or a bigint expected");
        return p.writeI64(BigInt(value));
      }
      if (typeof value !== "bigint") fail(where, "an integer (number or bigint) expected");
      if (value < I64_MIN || value > I64_MAX) fail(where, `${value} is outside the i64 range`);
      return p.writeI64(value);
    }
    case "double":
      if (typeof value !== "number") fail(where, "a number expected");
      return p.writeDouble(value);
    case "string":
      if (typeof value !== "string") fail(where, "a string expected");
      return p.writeString(value);
    case "binary":
      if (!(value instanceof Uint8Array)) fail(where, "a Uint8Array expected");
      return p.writeBinary(value);
    case "list":
    case "set": {
      const items = value instanceof Set ? [...value] : value;
      if (!Array.isArray(items)) {
        fail(where, `an array${type.kind === "set" ? " or a Set" : ""} expected`);
      }
      const element = wireType(type.element);
      if (type.kind === "list") p.writeListBegin(element, items.length);
      else p.writeSetBegin(element, items.length);
      items.forEach((item, i) => writeValue(p, type.element, item, `${where}[${i}]`));
      if (type.kind === "list") p.writeListEnd();
      else p.writeSetEnd();
      return;
    }
    case "map": {
      const entries = value instanceof Map
        ? [...value]
        : isPlainObject(value)
        ? Object.entries(value)
        : fail(where, "a Map or an object expected");
      p.writeMapBegin(wireType(type.key), wireType(type.value), entries.length);
      for (const [k, v] of entries) {
        writeValue(p, type.key, k, `${where} key`);
        writeValue(p, type.value, v, `${where}[${String(k)}]`);
      }
      return p.writeMapEnd();
    }
    case "struct":
      return writeStruct(p, type.resolve(), value, where);
  }
}

/**
 * Writes a struct (plain object). Absent fields with a default are written
 * with it; absent required fields are an error; unknown names are an error.
 *
 * @throws {ThriftValueError} when the value does not fit
 */
export function writeStruct(
  p: Protocol,
  struct: ThriftStruct,
  value: unknown,
  where: string,
): void {
  if (!isPlainObject(value)) fail(where, `an object expected for ${struct.name}`);
  for (const key of Object.keys(value)) {
    if (!struct.byName.has(key)) fail(`${where}.${key}`, `not a field of ${struct.name}`);
  }
  if (struct.kind === "union") {
    const set = struct.fields.filter((f) => value[f.name] !== undefined && value[f.name] !== null);
    if (set.length !== 1) fail(where, `a union holds exactly one field, not ${set.length}`);
  }
  p.writeStructBegin(struct.name);
  for (const field of struct.fields) {
    let item = value[field.name];
    if (item === undefined || item === null) {
      if (field.requiredness === "required") fail(`${where}.${field.name}`, "is required");
      if (field.requiredness === "optional" || field.defaultValue === undefined) continue;
      item = field.defaultValue;
    }
    p.writeFieldBegin(field.name, wireType(field.type), field.id);
    writeValue(p, field.type, item, `${where}.${field.name}`);
    p.writeFieldEnd();
  }
  p.writeFieldStop();
  p.writeStructEnd();
}

/** How deep structs and containers may nest when read. */
export const MAX_DEPTH = 64;

// The fewest bytes one element of a wire type takes, to refuse container
// sizes that the rest of the frame cannot hold before looping over them.
const MIN_SIZE: Record<number, number> = {
  [TType.BOOL]: 1,
  [TType.BYTE]: 1,
  [TType.DOUBLE]: 8,
  [TType.I16]: 1,
  [TType.I32]: 1,
  [TType.I64]: 1,
  [TType.STRING]: 1,
  [TType.STRUCT]: 1,
  [TType.MAP]: 1,
  [TType.SET]: 1,
  [TType.LIST]: 1,
};

/** What reading needs besides the protocol. */
export interface ReadState {
  /** Bytes left in the frame. */
  remaining(): number;
  /** Current nesting. */
  depth: number;
  /**
   * Reading a call's arguments: an absent field of default requiredness
   * (never sent, or skipped for its type) without an IDL default reads as
   * its type's zero value, as Apache Thrift's C++ reader leaves it (default
   * constructed), so that a handler gets a value for every argument as a
   * Thrift server's does. Replies keep such fields absent.
   */
  zeros?: boolean;
}

// What readValue returns for a value that was read through (every byte of
// it consumed) but does not have the IDL's type: a container whose element
// types differ, at any depth. The field holding it is skipped.
const WRONG_TYPE: unique symbol = Symbol("wrong type");

function checkSize(state: ReadState, size: number, ...types: number[]): void {
  const each = types.reduce((sum, t) => sum + (MIN_SIZE[t] ?? 1), 0);
  if (size < 0 || size * each > state.remaining()) {
    throw new ThriftReadError(
      `a container of ${size} elements does not fit in the rest of the message`,
    );
  }
}

/**
 * Skips a value of wire type `type`, refusing containers that the bytes
 * that can still come cannot hold and nesting beyond {@linkcode MAX_DEPTH}
 * (the package's own `skip` would loop over 2^31 elements waiting for them).
 *
 * @throws {ThriftReadError} for sizes and nesting beyond limits
 */
export function skipValue(p: Protocol, type: number, state: ReadState): void {
  switch (type) {
    case TType.STRUCT: {
      if (++state.depth > MAX_DEPTH) throw new ThriftReadError(`nesting deeper than ${MAX_DEPTH}`);
      p.readStructBegin();
      for (;;) {
        const { ftype } = p.readFieldBegin();
        if (ftype === TType.STOP) break;
        skipValue(p, ftype, state);
        p.readFieldEnd();
      }
      p.readStructEnd();
      state.depth--;
      return;
    }
    case TType.LIST:
    case TType.SET: {
      if (++state.depth > MAX_DEPTH) throw new ThriftReadError(`nesting deeper than ${MAX_DEPTH}`);
      const { etype, size } = type === TType.LIST ? p.readListBegin() : p.readSetBegin();
      checkSize(state, size, etype);
      for (let i = 0; i < size; i++) skipValue(p, etype, state);
      if (type === TType.LIST) p.readListEnd();
      else p.readSetEnd();
      state.depth--;
      return;
    }
    case TType.MAP: {
      if (++state.depth > MAX_DEPTH) throw new ThriftReadError(`nesting deeper than ${MAX_DEPTH}`);
      const { ktype, vtype, size } = p.readMapBegin();
      checkSize(state, size, ktype, vtype);
      for (let i = 0; i < size; i++) {
        skipValue(p, ktype, state);
        skipValue(p, vtype, state);
      }
      p.readMapEnd();
      state.depth--;
      return;
    }
    default:
      p.skip(type);
  }
}

/**
 * Reads a value of `type` whose wire type has been checked.
 *
 * A non-empty container whose element (key, value) wire types differ from
 * the IDL's, at any depth, is read through and comes back as
 * `WRONG_TYPE`: the field that holds it is skipped like a field of the wrong
 * type. Apache Thrift's generated readers never look at a container's
 * element types (they read the declared type, misreading the bytes when the
 * two differ) and its accelerated Python reader refuses such a message;
 * skipping is the one of the three that keeps reading in step and answers.
 * An empty container's element types are not checked (as that reader).
 *
 * @throws {ThriftReadError} for sizes and nesting beyond limits, and the
 * package's errors for truncated or malformed bytes
 */
function readValue(p: Protocol, type: ThriftType, state: ReadState): unknown {
  switch (type.kind) {
    case "bool":
      return p.readBool();
    case "byte":
      return p.readByte();
    case "i16":
      return p.readI16();
    case "i32":
    case "enum":
      return p.readI32();
    case "i64":
      return p.readI64();
    case "double":
      return p.readDouble();
    case "string":
      return p.readString();
    case "binary":
      return p.readBinary();
    case "list":
    case "set": {
      if (++state.depth > MAX_DEPTH) throw new ThriftReadError(`nesting deeper than ${MAX_DEPTH}`);
      const { etype, size } = type.kind === "list" ? p.readListBegin() : p.readSetBegin();
      checkSize(state, size, etype);
      const fits = etype === wireType(type.element);
      let wrong = !fits && size > 0;
      const items: unknown[] = [];
      for (let i = 0; i < size; i++) {
        if (!fits) {
          skipValue(p, etype, state);
          continue;
        }
        const item = readValue(p, type.element, state);
        if (item === WRONG_TYPE) wrong = true;
        else items.push(item);
      }
      if (type.kind === "list") p.readListEnd();
      else p.readSetEnd();
      state.depth--;
      if (wrong) return WRONG_TYPE;
      return type.kind === "set" ? new Set(items) : items;
    }
    case "map": {
      if (++state.depth > MAX_DEPTH) throw new ThriftReadError(`nesting deeper than ${MAX_DEPTH}`);
      const { ktype, vtype, size } = p.readMapBegin();
      checkSize(state, size, ktype, vtype);
      const fits = ktype === wireType(type.key) && vtype === wireType(type.value);
      let wrong = !fits && size > 0;
      const entries: [unknown, unknown][] = [];
      for (let i = 0; i < size; i++) {
        if (!fits) {
          skipValue(p, ktype, state);
          skipValue(p, vtype, state);
          continue;
        }
        const key = readValue(p, type.key, state);
        const value = readValue(p, type.value, state);
        if (key === WRONG_TYPE || value === WRONG_TYPE) wrong = true;
        else entries.push([key, value]);
      }
      p.readMapEnd();
      state.depth--;
      if (wrong) return WRONG_TYPE;
      return type.key.kind === "string" ? Object.fromEntries(entries) : new Map(entries);
    }
    case "struct":
      return readStruct(p, type.resolve(), state);
  }
}

/**
 * Reads a struct: unknown fields and fields of the wrong type (a wire type
 * other than the IDL's, or a container of other element types) are skipped,
 * as Thrift requires; absent fields get their defaults (and, reading a
 * call's arguments, their zero values: see {@linkcode ReadState.zeros}).
 *
 * @throws {ThriftRequiredError} when a required field is absent (or was skipped)
 * @throws {ThriftReadError} for sizes and nesting beyond limits, and the
 * package's errors for truncated or malformed bytes
 */
export function readStruct(
  p: Protocol,
  struct: ThriftStruct,
  state: ReadState,
): Record<string, unknown> {
  if (++state.depth > MAX_DEPTH) throw new ThriftReadError(`nesting deeper than ${MAX_DEPTH}`);
  const out: Record<string, unknown> = {};
  p.readStructBegin();
  for (;;) {
    const { ftype, fid } = p.readFieldBegin();
    if (ftype === TType.STOP) break;
    const field: ThriftField | undefined = struct.byId.get(fid);
    if (field !== undefined && ftype === wireType(field.type)) {
      const value = readValue(p, field.type, state);
      if (value !== WRONG_TYPE) out[field.name] = value;
    } else {
      skipValue(p, ftype, state);
    }
    p.readFieldEnd();
  }
  p.readStructEnd();
  for (const field of struct.fields) {
    if (field.name in out) continue;
    if (field.requiredness === "required") {
      throw new ThriftRequiredError(`${struct.name}.${field.name} is required`);
    }
    if (field.requiredness === "optional") continue;
    const value = field.defaultValue ??
      (state.zeros === true && struct.kind !== "union" ? zeroOf(field.type, [struct]) : undefined);
    if (value !== undefined) out[field.name] = value;
  }
  state.depth--;
  return out;
}
