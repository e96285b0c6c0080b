/**
 * Thrift IDL at run time: `.thrift` files parsed by
 * `@creditkarma/thrift-parser` into a resolved model (typedefs followed,
 * constants evaluated, includes joined, services with what they extend),
 * which the Thrift codec reads and writes values by. No code generation.
 *
 * Values in parley's plain form:
 *
 * | Thrift | plain form |
 * |---|---|
 * | `bool` | `boolean` |
 * | `byte`, `i16`, `i32`, `double` | `number` |
 * | `i64` | `bigint` when decoded; a safe-integer `number` or a `bigint` is sent |
 * | `string` / `binary` | `string` / `Uint8Array` |
 * | enum | its number |
 * | struct, union, exception | plain object keyed by field name; unset optional fields absent |
 * | `list<T>` | array |
 * | `set<T>` | `Set` (an array is accepted) |
 * | `map<string, V>` | plain object (a `Map` is accepted) |
 * | `map<K, V>`, other keys | `Map` |
 *
 * @module
 */

import { createParser, createScanner } from "@creditkarma/thrift-parser";
import type {
  ThriftField,
  ThriftFunction,
  ThriftSchema,
  ThriftService,
  ThriftStruct,
  ThriftType,
} from "./_model.ts";

export type {
  ThriftField,
  ThriftFunction,
  ThriftSchema,
  ThriftService,
  ThriftStruct,
  ThriftType,
} from "./_model.ts";

// deno-lint-ignore no-explicit-any
type Node = any;

const BASE: Record<string, ThriftType["kind"]> = {
  BoolKeyword: "bool",
  ByteKeyword: "byte",
  I8Keyword: "byte",
  I16Keyword: "i16",
  I32Keyword: "i32",
  I64Keyword: "i64",
  DoubleKeyword: "double",
  StringKeyword: "string",
  BinaryKeyword: "binary",
};

/**
 * Parses `.thrift` files at run time. Reading the files is the caller's
 * part. Several files are given by name; `include "other.thrift"` is
 * resolved among them, and an included file's definitions are named with
 * its base name as prefix (`shared.SharedStruct`), as Thrift does.
 *
 * @param source one file's text, or texts by file name (the first is the main file)
 * @returns the schema
 * @throws {Error} for a syntax error (with the file, line and column), a
 * missing include, or a type that is not defined
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadThrift } from "./schema.ts";
 *
 * const schema = loadThrift(`
 *   struct Pair { 1: i32 a, 2: i64 b = 7 }
 *   service Adder { i64 add(1: Pair p) }
 * `);
 * const add = schema.service("Adder").functions.get("add")!;
 * assert.deepEqual(add.args.fields.map((f) => f.name), ["p"]);
 * assert.equal(schema.structs.get("Pair")!.byName.get("b")!.defaultValue, 7n);
 * ```
 */
export function loadThrift(source: string | Readonly<Record<string, string>>): ThriftSchema {
  const files: Record<string, string> = typeof source === "string"
    ? { "main.thrift": source }
    : { ...source };
  const names = Object.keys(files);
  if (names.length === 0) throw new Error("loadThrift needs at least one .thrift file");
  const structs = new Map<string, ThriftStruct>();
  const services = new Map<string, ThriftService>();
  const constants = new Map<string, unknown>();
  const typedefs = new Map<string, { node: Node; file: string }>();
  const enums = new Map<string, Map<string, number>>();
  const pending: (() => void)[] = [];
  const loaded = new Set<string>();

  const baseName = (file: string) => file.replace(/^.*\//, "").replace(/\.thrift$/, "");
  const qualify = (file: string, name: string) =>
    file === names[0] ? name : `${baseName(file)}.${name}`;

  // A name as written in `file`: local, or `include.Name`.
  const lookupName = (file: string, name: string): string => {
    if (name.includes(".")) {
      const [prefix, rest] = [
        name.slice(0, name.lastIndexOf(".")),
        name.slice(name.lastIndexOf(".") + 1),
      ];
      const target = Object.keys(files).find((f) => baseName(f) === prefix);
      if (target !== undefined) return qualify(target, rest);
    }
    return qualify(file, name);
  };

  const typeOf = (node: Node, file: string, seen = new Set<string>()): ThriftType => {
    const base = BASE[node.type as string];
    if (base !== undefined) return { kind: base } as ThriftType;
    switch (node.type) {
      case "ListType":
        return { kind: "list", element: typeOf(node.valueType, file) };
      case "SetType":
        return { kind: "set", element: typeOf(node.valueType, file) };
      case "MapType":
        return {
          kind: "map",
          key: typeOf(node.keyType, file),
          value: typeOf(node.valueType, file),
        };
      case "Identifier": {
        const name = lookupName(file, node.value);
        const typedef = typedefs.get(name);
        if (typedef !== undefined) {
          if (seen.has(name)) throw new Error(`${file}: typedef ${name} refers to itself`);
          seen.add(name);
          return typeOf(typedef.node, typedef.file, seen);
        }
        const values = enums.get(name);
        if (values !== undefined) return { kind: "enum", name, values };
        let cached: ThriftStruct | undefined;
        return {
          kind: "struct",
          name,
          resolve: () => {
            cached ??= structs.get(name);
            if (cached === undefined) throw new Error(`${file}: type ${node.value} is not defined`);
            return cached;
          },
        };
      }
      default:
        throw new Error(`${file}: unsupported type ${node.type}`);
    }
  };

  const valueOf = (node: Node, type: ThriftType | undefined, file: string): unknown => {
    switch (node.type) {
      case "IntConstant": {
        const text: string = node.value.value;
        const value = BigInt(text.startsWith("-0x") ? -BigInt(text.slice(1)) : text);
        return type?.kind === "i64" || type === undefined ? value : Number(value);
      }
      case "DoubleConstant":
        return Number(node.value.value);
      case "StringLiteral":
        return node.value;
      case "BooleanLiteral":
        return node.value;
      case "ConstList": {
        const element = type?.kind === "list" || type?.kind === "set" ? type.element : undefined;
        const list = node.elements.map((e: Node) => valueOf(e, element, file));
        return type?.kind === "set" ? new Set(list) : list;
      }
      case "ConstMap": {
        const [k, v] = type?.kind === "map" ? [type.key, type.value] : [undefined, undefined];
        const entries = node.properties.map((
          p: Node,
        ) => [valueOf(p.name, k, file), valueOf(p.initializer, v, file)]);
        if (type?.kind === "struct") return Object.fromEntries(entries);
        return k === undefined || k.kind === "string"
          ? Object.fromEntries(entries)
          : new Map(entries);
      }
      case "Identifier": {
        const name = lookupName(file, node.value);
        if (constants.has(name)) return constants.get(name);
        // An enum value: `Operation.ADD`.
        const dot = node.value.lastIndexOf(".");
        const values = enums.get(lookupName(file, node.value.slice(0, dot)));
        const value = values?.get(node.value.slice(dot + 1));
        if (value !== undefined) return value;
        throw new Error(`${file}: constant ${node.value} is not defined`);
      }
      default:
        throw new Error(`${file}: unsupported constant ${node.type}`);
    }
  };

  const fieldsOf = (nodes: Node[], file: string, owner: string): ThriftField[] => {
    let implicit = 0;
    return nodes.map((f: Node) => {
      const type = typeOf(f.fieldType, file);
      // Fields without an id get negative ones, as Thrift's compiler gives them.
      const id = f.fieldID === null ? --implicit : f.fieldID.value;
      const field: ThriftField = {
        id,
        name: f.name.value,
        type,
        requiredness: f.requiredness ?? "default",
        ...(f.defaultValue !== null && f.defaultValue !== undefined
          ? { defaultValue: valueOf(f.defaultValue, type, file) }
          : {}),
      };
      if (nodes.filter((g: Node) => g.fieldID?.value === id).length > 1) {
        throw new Error(`${file}: ${owner} has two fields with id ${id}`);
      }
      return field;
    });
  };

  const makeStruct = (
    name: string,
    kind: ThriftStruct["kind"],
    fields: ThriftField[],
  ): ThriftStruct => ({
    name,
    kind,
    fields,
    byId: new Map(fields.map((f) => [f.id, f])),
    byName: new Map(fields.map((f) => [f.name, f])),
  });

  const load = (file: string) => {
    if (loaded.has(file)) return;
    loaded.add(file);
    const text = files[file];
    if (text === undefined) {
      throw new Error(`include "${file}" is not among the sources given to loadThrift`);
    }
    const document = parseDocument(text, file);
    // Includes first, so that their names exist.
    for (const node of document.body) {
      if (node.type === "IncludeDefinition") load(node.path.value);
    }
    for (const node of document.body) {
      const name = node.name?.value === undefined ? undefined : qualify(file, node.name.value);
      switch (node.type) {
        case "TypedefDefinition":
          typedefs.set(name!, { node: node.definitionType, file });
          break;
        case "EnumDefinition": {
          const values = new Map<string, number>();
          let next = 0;
          for (const member of node.members) {
            const value = member.initializer === null
              ? next
              : Number(valueOf(member.initializer, undefined, file));
            values.set(member.name.value, value);
            next = value + 1;
          }
          enums.set(name!, values);
          break;
        }
      }
    }
    for (const node of document.body) {
      const name = node.name?.value === undefined ? undefined : qualify(file, node.name.value);
      switch (node.type) {
        case "ConstDefinition":
          constants.set(name!, valueOf(node.initializer, typeOf(node.fieldType, file), file));
          break;
        case "StructDefinition":
        case "UnionDefinition":
        case "ExceptionDefinition": {
          const kind = node.type === "StructDefinition"
            ? "struct"
            : node.type === "UnionDefinition"
            ? "union"
            : "exception";
          structs.set(name!, makeStruct(name!, kind, fieldsOf(node.fields, file, name!)));
          break;
        }
        case "ServiceDefinition":
          pending.push(() => services.set(name!, serviceOf(node, name!, file)));
          break;
      }
    }
  };

  const serviceOf = (node: Node, name: string, file: string): ThriftService => {
    const functions = new Map<string, ThriftFunction>();
    if (node.extends !== null && node.extends !== undefined) {
      const parent = services.get(lookupName(file, node.extends.value));
      if (parent === undefined) {
        throw new Error(
          `${file}: ${name} extends ${node.extends.value}, which is not defined before it`,
        );
      }
      for (const [fname, fn] of parent.functions) functions.set(fname, fn);
    }
    for (const f of node.functions) {
      const fname: string = f.name.value;
      const returns = f.returnType.type === "VoidKeyword" ? undefined : typeOf(f.returnType, file);
      const throws = fieldsOf(f.throws ?? [], file, `${name}.${fname}`);
      const args = makeStruct(
        `${name}.${fname}_args`,
        "args",
        fieldsOf(f.fields, file, `${name}.${fname}`),
      );
      const resultFields: ThriftField[] = [
        ...(returns === undefined
          ? []
          : [{ id: 0, name: "success", type: returns, requiredness: "optional" as const }]),
        ...throws.map((t) => ({ ...t, requiredness: "optional" as const })),
      ];
      functions.set(fname, {
        name: fname,
        oneway: f.oneway === true,
        args,
        returns,
        throws,
        result: makeStruct(`${name}.${fname}_result`, "result", resultFields),
      });
    }
    return { name, functions };
  };

  for (const file of names) load(file);
  for (const make of pending) make();
  // Every struct reference must resolve: a typo fails here, not on the first call.
  for (const struct of structs.values()) {
    for (const field of struct.fields) check(field.type);
  }
  for (const service of services.values()) {
    for (const fn of service.functions.values()) {
      for (const field of [...fn.args.fields, ...fn.result.fields]) check(field.type);
    }
  }
  return {
    services,
    structs,
    constants,
    service(name) {
      const found = services.get(name);
      if (found === undefined) {
        throw new Error(
          `The schema has no service "${name}" (it has: ${
            [...services.keys()].join(", ") || "none"
          })`,
        );
      }
      return found;
    },
  };
}

// The parser's scanner and parser with an error handler of our own: its
// `parse()` prints every syntax error to the console.
function parseDocument(text: string, file: string): Node {
  const errors: Node[] = [];
  const scanner: Node = createScanner(text, (error: Node) => {
    errors.push(error);
    scanner.syncronize();
  });
  const tokens = scanner.scan();
  const parser: Node = createParser(tokens, (error: Node) => {
    errors.push(error);
    parser.synchronize();
  });
  const document = parser.parse();
  if (errors.length > 0) {
    const first = errors[0];
    const at = first?.loc?.start;
    throw new Error(
      `${file}${at ? `:${at.line}:${at.column}` : ""}: ${first?.message ?? "syntax error"}`,
    );
  }
  return document;
}

function check(type: ThriftType): void {
  switch (type.kind) {
    case "struct":
      type.resolve();
      break;
    case "list":
    case "set":
      check(type.element);
      break;
    case "map":
      check(type.key);
      check(type.value);
      break;
  }
}
