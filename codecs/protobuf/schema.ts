/**
 * protobuf schemas at run time: `.proto` source text (or protobufjs's JSON
 * descriptor) parsed by protobufjs, with no code-generation step. A schema
 * knows every service method by its wire name (`interop.Calculator/Add`)
 * and converts messages between bytes, proto3 JSON and parley's plain form.
 *
 * The plain form of a message is a plain object keyed by field name (lower
 * camel case, as protobufjs and protobuf-es name them, unless `keepCase`):
 *
 * | protobuf | plain form |
 * |---|---|
 * | int32, uint32, sint32, fixed32, sfixed32, float, double | `number` |
 * | int64, uint64, sint64, fixed64, sfixed64 | `bigint` when decoded; `number` (safe integers) or `bigint` accepted |
 * | bool, string | `boolean`, `string` |
 * | bytes | `Uint8Array` |
 * | enum | its number (proto3 enums are open: unknown numbers pass) |
 * | message | plain object; absent when not set |
 * | repeated, map | array, plain object (a `Map` is accepted) |
 *
 * Decoding fills in proto3's defaults (0, "", empty), except for fields of
 * a oneof and proto3 `optional` fields, which are present only when set.
 *
 * @module
 */

import protobuf from "./_protobufjs.ts";
import { decodeMessage, encodeMessage, ProtoValueError } from "./_values.ts";
import { messageFromJson, messageToJson } from "./_json.ts";

export { ProtoValueError };

/** A message in parley's plain form. */
export type ProtoMessage = Record<string, unknown>;

/** One message type of a schema, with its conversions. */
export interface ProtoMessageType {
  /** The full name, such as `"interop.AddRequest"`. */
  readonly name: string;
  /** protobufjs's reflection of the type, for anything not covered here. */
  readonly type: protobuf.Type;
  /**
   * Encodes a plain message.
   *
   * @throws {ProtoValueError} for an unknown field or a value that does not fit
   */
  encode(value: unknown): Uint8Array;
  /**
   * Decodes a message.
   *
   * @throws {Error} protobufjs's error for truncated or malformed bytes
   */
  decode(bytes: Uint8Array): ProtoMessage;
  /**
   * Reads the proto3 JSON form.
   *
   * @throws {ProtoValueError} for an unknown field or a value that does not fit
   */
  fromJson(json: unknown): ProtoMessage;
  /** Writes the proto3 JSON form (a value for `JSON.stringify`). */
  toJson(value: ProtoMessage): Record<string, unknown>;
}

/** One method of a service. */
export interface ProtoMethod {
  /** The wire name: `package.Service/Method`. */
  readonly name: string;
  /** The service's full name, such as `"interop.Calculator"`. */
  readonly service: string;
  /** The method's own name, such as `"Add"`. */
  readonly method: string;
  /** The request message type. */
  readonly request: ProtoMessageType;
  /** The response message type. */
  readonly response: ProtoMessageType;
  /** Whether the client streams (not supported by parley's codecs: such methods are refused). */
  readonly clientStreaming: boolean;
  /** Whether the server streams (not supported by parley's codecs: such methods are refused). */
  readonly serverStreaming: boolean;
}

/** A parsed set of `.proto` files. */
export interface ProtoSchema {
  /** protobufjs's root, for anything not covered here. */
  readonly root: protobuf.Root;
  /** Every unary method of every service, by wire name. */
  readonly methods: ReadonlyMap<string, ProtoMethod>;
  /**
   * A method by wire name (`"interop.Calculator/Add"`).
   *
   * @returns the method, or `undefined` when the schema has no such method
   */
  method(name: string): ProtoMethod | undefined;
  /**
   * A unary method by wire name, for calling it.
   *
   * @throws {TypeError} when the schema has no such method, or it streams
   */
  unary(name: string): ProtoMethod;
  /**
   * A message type by full name (`"interop.AddRequest"`).
   *
   * @throws {Error} when the schema has no such message type
   */
  message(name: string): ProtoMessageType;
}

/** Options of {@linkcode loadProto}. */
export interface LoadProtoOptions {
  /** Keep field names as written in the `.proto` file instead of lower camel case. */
  readonly keepCase?: boolean;
}

/**
 * What {@linkcode loadProto} reads: one `.proto` file's text; several by
 * file name (imports are resolved among them, and protobuf's well-known
 * types such as `google/protobuf/timestamp.proto` are built in); or a
 * protobufjs JSON descriptor (what `pbjs -t json` writes, or
 * `root.toJSON()`).
 */
export type ProtoSource = string | Readonly<Record<string, string>> | protobuf.INamespace;

function isDescriptor(source: ProtoSource): source is protobuf.INamespace {
  return typeof source === "object" && "nested" in source &&
    typeof (source as { nested: unknown }).nested === "object";
}

/**
 * Parses `.proto` files at run time. Reading files is the caller's part
 * (`Deno.readTextFile`, `fetch`), so that this runs in a browser too.
 *
 * @param source the `.proto` text, texts by file name, or a JSON descriptor
 * @param options field naming
 * @returns the schema
 * @throws {Error} for a syntax error, an import that is not among the
 * sources, or a type that cannot be resolved (protobufjs's message, with the
 * file name)
 *
 * @example The calculator's schema, one message each way
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto } from "./schema.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Sum { repeated int64 values = 1; }
 *   message Total { int64 total = 1; }
 *   service Adder { rpc Add(Sum) returns (Total); }
 * `);
 * const add = schema.method("demo.Adder/Add")!;
 * const bytes = add.request.encode({ values: [1, 2n ** 62n] });
 * assert.deepEqual(add.request.decode(bytes), { values: [1n, 2n ** 62n] });
 * assert.deepEqual(add.response.fromJson({ total: "42" }), { total: 42n });
 * ```
 */
export function loadProto(source: ProtoSource, options: LoadProtoOptions = {}): ProtoSchema {
  const root = new protobuf.Root();
  if (isDescriptor(source)) {
    root.addJSON(source.nested ?? {});
  } else {
    const files: Record<string, string> = typeof source === "string"
      ? { "schema.proto": source }
      : { ...source };
    const parsed = new Set<string>();
    const parse = (file: string, from: string | undefined) => {
      if (parsed.has(file)) return;
      parsed.add(file);
      const text = files[file];
      if (text === undefined) {
        const common = protobuf.common.get(file);
        if (common?.nested === undefined) {
          throw new Error(
            `${from}: imports "${file}", which is not among the sources given to loadProto`,
          );
        }
        root.addJSON(common.nested);
        markFile(root, file);
        return;
      }
      let result: protobuf.IParserResult;
      try {
        // alternateCommentMode keeps `//` comments too, for the generated types' docs.
        result = protobuf.parse(text, root, {
          keepCase: options.keepCase ?? false,
          alternateCommentMode: true,
        });
      } catch (error) {
        throw new Error(`${file}: ${(error as Error).message}`, { cause: error });
      }
      markFile(root, file);
      for (const imported of [...(result.imports ?? []), ...(result.weakImports ?? [])]) {
        parse(imported, file);
      }
    };
    for (const file of Object.keys(files)) parse(file, undefined);
  }
  root.resolveAll();
  return createSchema(root);
}

// Each file's declarations keep its name (protobufjs's `filename`, which its
// own loader sets and `protobuf.parse` leaves null), so that reflection can
// describe the schema file by file. The declarations not marked yet are the
// ones the file just read added: imports are read after it.
function markFile(namespace: protobuf.NamespaceBase, file: string): void {
  for (const nested of namespace.nestedArray) {
    const plain = nested instanceof protobuf.Namespace && !(nested instanceof protobuf.Type) &&
      !(nested instanceof protobuf.Service);
    if (plain) markFile(nested, file); // a package: its declarations come from many files
    else nested.filename ??= file;
  }
}

function messageType(type: protobuf.Type): ProtoMessageType {
  const name = type.fullName.slice(1);
  return {
    name,
    type,
    encode: (value) => encodeMessage(type, value, name),
    decode: (bytes) => decodeMessage(type, bytes),
    fromJson: (json) => messageFromJson(type, json, name),
    toJson: (value) => messageToJson(type, value),
  };
}

function* servicesOf(namespace: protobuf.NamespaceBase): Generator<protobuf.Service> {
  for (const nested of namespace.nestedArray) {
    if (nested instanceof protobuf.Service) yield nested;
    if (nested instanceof protobuf.Namespace) yield* servicesOf(nested);
  }
}

function createSchema(root: protobuf.Root): ProtoSchema {
  const types = new Map<protobuf.Type, ProtoMessageType>();
  const typeOf = (type: protobuf.Type) => {
    let found = types.get(type);
    if (found === undefined) types.set(type, found = messageType(type));
    return found;
  };
  const methods = new Map<string, ProtoMethod>();
  for (const service of servicesOf(root)) {
    const serviceName = service.fullName.slice(1);
    for (const m of service.methodsArray) {
      m.resolve();
      const name = `${serviceName}/${m.name}`;
      methods.set(name, {
        name,
        service: serviceName,
        method: m.name,
        request: typeOf(m.resolvedRequestType!),
        response: typeOf(m.resolvedResponseType!),
        clientStreaming: m.requestStream === true,
        serverStreaming: m.responseStream === true,
      });
    }
  }
  return {
    root,
    methods,
    method: (name) => methods.get(name),
    unary: (name) => {
      const method = methods.get(name);
      if (method === undefined) {
        throw new TypeError(
          `"${name}" is not a method of the schema (expected package.Service/Method)`,
        );
      }
      if (method.clientStreaming || method.serverStreaming) {
        throw new TypeError(`"${name}" is a streaming method; only unary methods are supported`);
      }
      return method;
    },
    message: (name) => typeOf(root.lookupType(name)),
  };
}
