/**
 * gRPC server reflection (`grpc.reflection.v1.ServerReflection`, and the
 * same under `grpc.reflection.v1alpha`): how `grpcurl`, Postman, `evans`
 * and parley's own `parley list grpc://…` learn a server's services and
 * their messages without a `.proto` file on hand.
 *
 * @module
 */

import type { ProtoMessage, ProtoSchema } from "../../codecs/protobuf.ts";
import { protoService } from "../../codecs/protobuf.ts";
import type { Service } from "../../rpc/service.ts";
import { describeFiles, type SchemaFiles } from "./_descriptors.ts";

// grpc's src/proto/grpc/reflection/v1/reflection.proto, comments left out;
// v1alpha is the same under another package.
const reflectionProto = (version: string) =>
  `syntax = "proto3";
package grpc.reflection.${version};
service ServerReflection {
  rpc ServerReflectionInfo(stream ServerReflectionRequest) returns (stream ServerReflectionResponse);
}
message ServerReflectionRequest {
  string host = 1;
  oneof message_request {
    string file_by_filename = 3;
    string file_containing_symbol = 4;
    ExtensionRequest file_containing_extension = 5;
    string all_extension_numbers_of_type = 6;
    string list_services = 7;
  }
}
message ExtensionRequest {
  string containing_type = 1;
  int32 extension_number = 2;
}
message ServerReflectionResponse {
  string valid_host = 1;
  ServerReflectionRequest original_request = 2;
  oneof message_response {
    FileDescriptorResponse file_descriptor_response = 4;
    ExtensionNumberResponse all_extension_numbers_response = 5;
    ListServiceResponse list_services_response = 6;
    ErrorResponse error_response = 7;
  }
}
message FileDescriptorResponse { repeated bytes file_descriptor_proto = 1; }
message ExtensionNumberResponse {
  string base_type_name = 1;
  repeated int32 extension_number = 2;
}
message ListServiceResponse { repeated ServiceResponse service = 1; }
message ServiceResponse { string name = 1; }
message ErrorResponse {
  int32 error_code = 1;
  string error_message = 2;
}
`;

/**
 * The reflection service's `.proto` files by file name, as in grpc's tree:
 * `grpc/reflection/v1/reflection.proto` and
 * `grpc/reflection/v1alpha/reflection.proto` (comments left out). Spread
 * them into `loadProto`'s sources beside the application's files, so that
 * one schema holds both and {@linkcode reflectionService} can serve it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto } from "../../codecs/protobuf.ts";
 * import { REFLECTION_PROTOS } from "./reflection.ts";
 *
 * const schema = loadProto({
 *   "greeter.proto": `syntax = "proto3"; package demo; message Name { string name = 1; }
 *     service Greeter { rpc Greet(Name) returns (Name); }`,
 *   ...REFLECTION_PROTOS,
 * });
 * assert.ok(schema.method("grpc.reflection.v1.ServerReflection/ServerReflectionInfo"));
 * assert.ok(schema.method("grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"));
 * ```
 */
export const REFLECTION_PROTOS: Readonly<Record<string, string>> = Object.freeze({
  "grpc/reflection/v1/reflection.proto": reflectionProto("v1"),
  "grpc/reflection/v1alpha/reflection.proto": reflectionProto("v1alpha"),
});

/**
 * The reflection services' full names, newest first: `reflectionService`
 * serves each that the schema has, and `reflectSchema` asks them in turn.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { REFLECTION_SERVICES } from "./reflection.ts";
 *
 * assert.deepEqual(REFLECTION_SERVICES, [
 *   "grpc.reflection.v1.ServerReflection",
 *   "grpc.reflection.v1alpha.ServerReflection",
 * ]);
 * ```
 */
export const REFLECTION_SERVICES: readonly string[] = [
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
];

/** Options of {@linkcode reflectionService}. */
export interface ReflectionOptions {
  /**
   * The services `list_services` names, by full name (`"interop.Calculator"`):
   * by default every service of the schema. Their files, and every symbol of
   * the schema, are described either way.
   */
  readonly services?: readonly string[];
}

// gRPC status codes that reflection's ErrorResponse carries.
const NOT_FOUND = 5;
const UNIMPLEMENTED = 12;
// A name quoted in an error message is cut to this many characters: a
// caller's 4 MB symbol is not sent back inside the message.
const QUOTED = 200;

const quote = (name: string) =>
  JSON.stringify(name.length > QUOTED ? `${name.slice(0, QUOTED)}…` : name);

/** One request's answer: the part of ServerReflectionResponse's oneof. */
function answer(files: SchemaFiles, services: readonly string[], request: ProtoMessage) {
  const notFound = (what: string) => ({
    errorResponse: { errorCode: NOT_FOUND, errorMessage: what },
  });
  const descriptors = (file: string) => ({
    fileDescriptorResponse: { fileDescriptorProto: files.closure(file) },
  });
  if (typeof request.listServices === "string") {
    return { listServicesResponse: { service: services.map((name) => ({ name })) } };
  }
  if (typeof request.fileByFilename === "string") {
    const name = request.fileByFilename;
    return files.files.has(name) ? descriptors(name) : notFound(`File not found: ${quote(name)}`);
  }
  if (typeof request.fileContainingSymbol === "string") {
    const file = files.symbols.get(request.fileContainingSymbol);
    return file !== undefined
      ? descriptors(file)
      : notFound(`Symbol not found: ${quote(request.fileContainingSymbol)}`);
  }
  if (typeof request.fileContainingExtension === "object") {
    const { containingType, extensionNumber } = request.fileContainingExtension as {
      containingType: string;
      extensionNumber: number;
    };
    const file = files.extensions.get(containingType)?.get(extensionNumber);
    return file !== undefined
      ? descriptors(file)
      : notFound(`Extension not found: ${extensionNumber} of ${quote(containingType)}`);
  }
  if (typeof request.allExtensionNumbersOfType === "string") {
    const type = request.allExtensionNumbersOfType;
    if (!files.messages.has(type)) return notFound(`Type not found: ${quote(type)}`);
    const numbers = [...files.extensions.get(type)?.keys() ?? []].sort((a, b) => a - b);
    return { allExtensionNumbersResponse: { baseTypeName: type, extensionNumber: numbers } };
  }
  // No request we know of: a newer client's, its field unknown to us.
  return {
    errorResponse: { errorCode: UNIMPLEMENTED, errorMessage: "The request is not implemented" },
  };
}

/**
 * The gRPC reflection service of `schema`: `ServerReflectionInfo`, a
 * bidirectional stream answering each request with one response, in order:
 * `list_services`, `file_by_filename`, `file_containing_symbol` (services,
 * methods, messages, fields, enums, enum values, nested ones too),
 * `file_containing_extension` and `all_extension_numbers_of_type`. Files are
 * serialized `google.protobuf.FileDescriptorProto`s, one per `.proto` file
 * given to `loadProto` (imported well-known types included), each sent with
 * every file it imports, transitively, as grpc's own servers do. A request
 * that finds nothing is answered with an `error_response` (5 NOT_FOUND), and
 * the stream goes on.
 *
 * The schema must hold {@linkcode REFLECTION_PROTOS}' services (v1, v1alpha
 * or both: each one it has is served), so that reflection describes itself
 * like any other service; serve the result beside the application's own
 * with `combineServices`, as with `healthService`.
 *
 * @param schema the schema served, holding the reflection services
 * @param options which services `list_services` names
 * @returns the service, keyed by wire name
 * @throws {TypeError} when the schema holds no reflection service, or
 * `services` names one it does not have
 *
 * @example Over the protobuf envelope (on gRPC, the same service is given to serveGrpc)
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protobufRpc, protoService } from "../../codecs/protobuf.ts";
 * import { combineServices } from "../../rpc/dispatch.ts";
 * import { Peer } from "../../rpc/peer.ts";
 * import { peerStreams } from "../../rpc/peer/streams.ts";
 * import { memoryPair } from "../../rpc/testing.ts";
 * import { REFLECTION_PROTOS, reflectionService } from "./reflection.ts";
 *
 * const schema = loadProto({
 *   "greeter.proto": `syntax = "proto3"; package demo; message Name { string name = 1; }
 *     service Greeter { rpc Greet(Name) returns (Name); }`,
 *   ...REFLECTION_PROTOS,
 * });
 * const greeter = protoService(schema, "demo.Greeter", { Greet: (name: object) => name });
 * const [a, b] = memoryPair();
 * const server = new Peer(a, {
 *   codec: protobufRpc({ schema }),
 *   streams: peerStreams,
 *   service: combineServices(greeter, reflectionService(schema)),
 * });
 * const peer = new Peer(b, { codec: protobufRpc({ schema }), streams: peerStreams });
 * async function* ask() {
 *   yield { listServices: "" };
 *   yield { fileContainingSymbol: "demo.Greeter.Greet" };
 * }
 * const stream = peer.openStream(
 *   "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
 *   undefined,
 *   { input: ask() },
 * );
 * const replies = [];
 * for await (const reply of stream.messages) replies.push(reply as Record<string, any>);
 * assert.deepEqual(replies[0]!.listServicesResponse.service.map((s: { name: string }) => s.name), [
 *   "demo.Greeter",
 *   "grpc.reflection.v1.ServerReflection",
 *   "grpc.reflection.v1alpha.ServerReflection",
 * ]);
 * assert.equal(replies[1]!.fileDescriptorResponse.fileDescriptorProto.length, 1); // greeter.proto
 * await peer.close();
 * await server.closed;
 * ```
 */
export function reflectionService(schema: ProtoSchema, options: ReflectionOptions = {}): Service {
  const versions = REFLECTION_SERVICES.filter((name) =>
    schema.method(`${name}/ServerReflectionInfo`) !== undefined
  );
  if (versions.length === 0) {
    throw new TypeError(
      "The schema has no reflection service: give loadProto REFLECTION_PROTOS beside your files",
    );
  }
  const files = describeFiles(schema);
  const known = new Set(files.services);
  for (const name of options.services ?? []) {
    if (!known.has(name)) {
      throw new TypeError(
        `The schema has no service "${name}" (it has: ${[...known].join(", ")})`,
      );
    }
  }
  const services = [...options.services ?? files.services].sort();
  async function* ServerReflectionInfo(requests: AsyncIterable<ProtoMessage>) {
    for await (const request of requests) {
      yield {
        validHost: request.host,
        originalRequest: request,
        ...answer(files, services, request),
      };
    }
  }
  return Object.assign(
    {},
    ...versions.map((name) => protoService(schema, name, { ServerReflectionInfo })),
  );
}
