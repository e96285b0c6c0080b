/**
 * A schema described file by file, as gRPC reflection hands it out: one
 * serialized `google.protobuf.FileDescriptorProto` per `.proto` file that
 * `loadProto` read (well-known imports included), with its package, syntax
 * and dependencies, and an index of the symbols and extensions each file
 * declares.
 *
 * The descriptors are protobufjs's own (`protobufjs/ext/descriptor`), with
 * what protoc writes differently put right, because real descriptor pools
 * (protobuf's C++ and upb, grpc-go's protoregistry) check it: type names
 * are fully qualified (`.interop.AddRequest`, protobufjs writes the shortest
 * relative name); a map field's entry is `FooEntry` (protobufjs calls it
 * `Foo`, which C++ refuses); proto3 `optional`'s synthetic oneofs come after
 * the real ones; a field that another file's extension added to a message
 * stays in that file.
 *
 * @module
 */

import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor.js";
import type { ProtoSchema } from "../../codecs/protobuf.ts";

/** One file of a schema, described. */
export interface DescribedFile {
  /** Its name, as `loadProto` was given it (`calculator.proto`). */
  readonly name: string;
  /** The serialized `FileDescriptorProto`. */
  readonly bytes: Uint8Array;
  /** The files it imports (the ones its declarations use). */
  readonly dependencies: readonly string[];
}

/** A schema described file by file: what a reflection service answers from. */
export interface SchemaFiles {
  /** Every file, by name. */
  readonly files: ReadonlyMap<string, DescribedFile>;
  /**
   * Every symbol (package-qualified, no leading dot) to the file declaring
   * it: services, methods, messages, fields, enums, enum values, extensions,
   * nested ones too.
   */
  readonly symbols: ReadonlyMap<string, string>;
  /** The extensions of each message type: its full name → field number → file. */
  readonly extensions: ReadonlyMap<string, ReadonlyMap<number, string>>;
  /** The full names of the services, in declaration order. */
  readonly services: readonly string[];
  /** The full names of the message types (their extension lists may be asked for). */
  readonly messages: ReadonlySet<string>;
  /**
   * A file and every file it imports, transitively, each once, the file
   * itself first: what a reflection reply carries so that the caller can
   * build it.
   */
  closure(name: string): Uint8Array[];
}

type Declaration = protobuf.Type | protobuf.Enum | protobuf.Service | protobuf.Field;
type Message = Record<string, unknown>;

const isPackage = (object: protobuf.ReflectionObject): object is protobuf.Namespace =>
  object instanceof protobuf.Namespace && !(object instanceof protobuf.Type) &&
  !(object instanceof protobuf.Service);

const packageOf = (object: protobuf.ReflectionObject): string =>
  object.parent === null ? "" : object.parent.fullName.slice(1);

// A declaration's file: its own (schema.ts marks them), or for a schema
// loaded from a JSON descriptor, which has none, one per package.
function fileOf(object: protobuf.ReflectionObject): string {
  let top = object;
  while (top.parent !== null && !isPackage(top.parent)) top = top.parent;
  return top.filename ?? `${packageOf(top).replaceAll(".", "_") || "root"}.proto`;
}

function* declarations(namespace: protobuf.NamespaceBase): Generator<Declaration> {
  for (const nested of namespace.nestedArray) {
    if (isPackage(nested)) yield* declarations(nested);
    else yield nested as Declaration;
  }
}

// protoc's name for a map field's entry message: the field's name in
// upper camel case, then "Entry".
const entryName = (field: string) =>
  field.replace(/(?:^|_)([a-z0-9])/g, (_, c: string) => c.toUpperCase()) + "Entry";

// What protoc writes where protobufjs writes otherwise (the module doc).
function fixMessage(type: protobuf.Type, out: Message): void {
  const fields = out.field as Message[];
  const nestedTypes = out.nestedType as Message[];
  // protobufjs adds a map entry per map field, in field order, before the nested types.
  let entry = 0;
  type.fieldsArray.forEach((field, i) => {
    const written = fields[i]!;
    if (field instanceof protobuf.MapField) {
      const name = entryName(String(written.name));
      const map = nestedTypes[entry++]!;
      map.name = name;
      written.typeName = `${type.fullName}.${name}`;
      const value = (map.field as Message[])[1]!;
      if (field.resolvedType !== null) value.typeName = field.resolvedType.fullName;
    } else if (field.resolvedType !== null) {
      written.typeName = field.resolvedType.fullName;
    }
  });
  let at = entry;
  for (const object of type.nestedArray) {
    if (object instanceof protobuf.Type) fixMessage(object, nestedTypes[at++]!);
    else if (object instanceof protobuf.Field) fixExtension(object, fields);
  }
  // Fields that extensions declared elsewhere added are not this message's;
  // extensions declared here are extensions, not fields (protobufjs mixes both).
  const own = fields.filter((_, i) => (type.fieldsArray[i]?.declaringField ?? null) === null);
  for (const field of own) {
    const options = field.options as object | null | undefined;
    if (options != null && Object.keys(options).length === 0) delete field.options;
  }
  out.field = own.filter((field) => !field.extendee);
  out.extension = own.filter((field) => field.extendee);
  orderOneofs(out);
}

// Synthetic oneofs (proto3 `optional`) after the real ones, as descriptor
// pools require; fields' oneof indexes follow.
function orderOneofs(out: Message): void {
  const oneofs = out.oneofDecl as Message[];
  const fields = out.field as Message[];
  const synthetic = new Set(
    fields.filter((f) => f.proto3Optional === true).map((f) => f.oneofIndex as number),
  );
  const indexes = oneofs.map((_, i) => i);
  const order = [
    ...indexes.filter((i) => !synthetic.has(i)),
    ...indexes.filter((i) => synthetic.has(i)),
  ];
  out.oneofDecl = order.map((i) => oneofs[i]!);
  for (const field of fields) {
    // A Message's own property: its prototype answers 0 for every field.
    if (Object.hasOwn(field, "oneofIndex")) {
      field.oneofIndex = order.indexOf(field.oneofIndex as number);
    }
  }
}

// An extension's descriptor (among `written`): its type name fully qualified.
function fixExtension(field: protobuf.Field, written: Message[]): void {
  const out = written.find((f) => f.name === (field.protoName ?? field.name) && f.extendee);
  if (out !== undefined && field.resolvedType !== null) {
    out.typeName = field.resolvedType.fullName;
  }
}

// The syntax fields of a file whose declarations were written in `edition`.
function syntaxOf(edition: string | undefined): Message {
  if (edition === undefined || edition === "proto2") return { syntax: "proto2" };
  if (edition === "proto3") return { syntax: "proto3" };
  const editions: Record<string, number> = { "2023": 1000, "2024": 1001 };
  return { syntax: "editions", edition: editions[edition] ?? 1000 };
}

// The files that a declaration's types come from.
function* usedFiles(object: protobuf.ReflectionObject): Generator<string> {
  if (object instanceof protobuf.Service) {
    for (const method of object.methodsArray) {
      method.resolve();
      if (method.resolvedRequestType) yield fileOf(method.resolvedRequestType);
      if (method.resolvedResponseType) yield fileOf(method.resolvedResponseType);
    }
  } else if (object instanceof protobuf.Type) {
    for (const field of object.fieldsArray) {
      if (field.declaringField === null) yield* usedFiles(field);
    }
    for (const nested of object.nestedArray) yield* usedFiles(nested);
  } else if (object instanceof protobuf.Field) {
    if (object.resolvedType !== null) yield fileOf(object.resolvedType);
    if (object.extensionField?.parent) yield fileOf(object.extensionField.parent);
  }
}

function* symbolsOf(object: protobuf.ReflectionObject): Generator<string> {
  yield object.fullName.slice(1);
  if (object instanceof protobuf.Service) {
    for (const method of object.methodsArray) yield method.fullName.slice(1);
  } else if (object instanceof protobuf.Type) {
    for (const field of object.fieldsArray) {
      if (field.declaringField === null) {
        yield `${object.fullName.slice(1)}.${field.protoName ?? field.name}`;
      }
    }
    for (const nested of object.nestedArray) yield* symbolsOf(nested);
  } else if (object instanceof protobuf.Enum) {
    const scope = object.parent === null ? "" : `${object.parent.fullName.slice(1)}.`;
    for (const value of Object.keys(object.values)) yield `${scope}${value}`.replace(/^\./, "");
  }
}

function* extensionsOf(object: protobuf.ReflectionObject): Generator<protobuf.Field> {
  if (object instanceof protobuf.Field && object.extensionField) yield object;
  if (object instanceof protobuf.Type) {
    for (const nested of object.nestedArray) yield* extensionsOf(nested);
  }
}

function* messagesOf(object: protobuf.ReflectionObject): Generator<string> {
  if (!(object instanceof protobuf.Type)) return;
  yield object.fullName.slice(1);
  for (const nested of object.nestedArray) yield* messagesOf(nested);
}

/**
 * Describes `schema` file by file.
 *
 * @param schema what `loadProto` made
 * @returns the files, their symbols and extensions
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto } from "../../codecs/protobuf.ts";
 * import { describeFiles } from "./_descriptors.ts";
 *
 * const described = describeFiles(loadProto({
 *   "pair.proto": `syntax = "proto3"; package demo; message Pair { int64 a = 1; }`,
 *   "adder.proto": `syntax = "proto3"; package demo; import "pair.proto";
 *     service Adder { rpc Add(Pair) returns (Pair); }`,
 * }));
 * assert.equal(described.symbols.get("demo.Adder.Add"), "adder.proto");
 * assert.deepEqual(described.files.get("adder.proto")!.dependencies, ["pair.proto"]);
 * assert.equal(described.closure("adder.proto").length, 2);
 * ```
 */
export function describeFiles(schema: ProtoSchema): SchemaFiles {
  const byFile = new Map<string, Declaration[]>();
  for (const declaration of declarations(schema.root)) {
    const file = fileOf(declaration);
    byFile.set(file, [...byFile.get(file) ?? [], declaration]);
  }
  const files = new Map<string, DescribedFile>();
  const symbols = new Map<string, string>();
  const extensions = new Map<string, Map<number, string>>();
  const messages = new Set<string>();
  const services: string[] = [];
  for (const [name, declared] of byFile) {
    const edition = (declared[0] as { _edition?: string })._edition;
    const syntax = syntaxOf(edition);
    const dependencies = [
      ...new Set(declared.flatMap((d) => [...usedFiles(d)]).filter((f) => f !== name)),
    ].sort();
    const file: Message = {
      name,
      ...(packageOf(declared[0]!) === "" ? {} : { package: packageOf(declared[0]!) }),
      dependency: dependencies,
      messageType: [],
      enumType: [],
      service: [],
      extension: [],
      ...syntax,
    };
    const asEdition = syntax.syntax === "editions" ? edition : String(syntax.syntax);
    for (const declaration of declared) {
      if (declaration instanceof protobuf.Type) {
        const out = declaration.toDescriptor(asEdition) as unknown as Message;
        fixMessage(declaration, out);
        (file.messageType as Message[]).push(out);
      } else if (declaration instanceof protobuf.Enum) {
        (file.enumType as Message[]).push(declaration.toDescriptor() as unknown as Message);
      } else if (declaration instanceof protobuf.Service) {
        services.push(declaration.fullName.slice(1));
        (file.service as Message[]).push(declaration.toDescriptor() as unknown as Message);
      } else {
        const out = declaration.toDescriptor(asEdition) as unknown as Message;
        (file.extension as Message[]).push(out);
        fixExtension(declaration, [out]);
      }
      for (const symbol of symbolsOf(declaration)) symbols.set(symbol, name);
      for (const message of messagesOf(declaration)) messages.add(message);
      for (const extension of extensionsOf(declaration)) {
        const extended = extension.extensionField!.parent!.fullName.slice(1);
        if (!extensions.has(extended)) extensions.set(extended, new Map());
        extensions.get(extended)!.set(extension.id, name);
      }
    }
    const type = descriptor.FileDescriptorProto;
    files.set(name, {
      name,
      bytes: type.encode(type.fromObject(file)).finish(),
      dependencies,
    });
  }
  return {
    files,
    symbols,
    extensions,
    services,
    messages,
    closure(name) {
      const seen = new Set<string>();
      const out: Uint8Array[] = [];
      const visit = (file: string) => {
        const described = files.get(file);
        if (described === undefined || seen.has(file)) return;
        seen.add(file);
        out.push(described.bytes);
        described.dependencies.forEach(visit);
      };
      visit(name);
      return out;
    },
  };
}
