/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha) served by parley,
 * over the protobuf envelope on real TCP: every request kind, errors that
 * leave the stream open, bounds, files and their imports, and reflectSchema
 * (tests/grpc_reflection_pool_test.ts checks the descriptors with a real
 * protobuf runtime, tests/grpc_reflection_interop_test.ts over gRPC).
 *
 * @module
 */

import assert from "node:assert/strict";
import descriptor from "protobufjs/ext/descriptor.js";
import { loadProto } from "../codecs/protobuf.ts";
import { REFLECTION_PROTOS, reflectionService, reflectSchema } from "../rpc/transports/grpc.ts";
import {
  CALCULATOR_PROTO,
  converse,
  envelopePair,
  EXTENDED_PROTOS,
  fileNames,
  filesOf,
  reflectedCalculator,
} from "./_reflection.ts";

type Reply = Record<string, unknown>;

const errorOf = (reply: Reply) =>
  reply.errorResponse as { errorCode: number; errorMessage: string };

Deno.test("reflection lists every service served and finds each symbol's file", async () => {
  const { schema, service } = reflectedCalculator();
  await using pair = await envelopePair(schema, service);
  const symbols = [
    "interop.Calculator", // a service
    "interop.Calculator.Add", // a method
    "interop.AddRequest", // a message
    "interop.Shape.tags", // a field
    "interop.Operation", // an enum
    "interop.DIVIDE", // an enum value (scoped beside its enum, as in protobuf)
    "grpc.health.v1.HealthCheckResponse.ServingStatus", // a nested enum
  ];
  const replies = await converse(pair.peer, [
    { listServices: "*" },
    ...symbols.map((fileContainingSymbol) => ({ fileContainingSymbol })),
    { fileByFilename: "grpc/health/v1/health.proto" },
  ]);
  assert.equal(replies.length, symbols.length + 2);
  assert.deepEqual(
    (replies[0]!.listServicesResponse as { service: { name: string }[] }).service,
    [
      { name: "grpc.health.v1.Health" },
      { name: "grpc.reflection.v1.ServerReflection" },
      { name: "grpc.reflection.v1alpha.ServerReflection" },
      { name: "interop.Calculator" },
    ],
  );
  for (const [i, symbol] of symbols.entries()) {
    const reply = replies[i + 1]!;
    assert.deepEqual(reply.originalRequest, { host: "", fileContainingSymbol: symbol });
    assert.deepEqual(
      fileNames(reply),
      [symbol.startsWith("grpc.") ? "grpc/health/v1/health.proto" : "calculator.proto"],
    );
  }
  assert.deepEqual(fileNames(replies.at(-1)!), ["grpc/health/v1/health.proto"]);
});

Deno.test("reflection: what is not found is an error response, and the stream goes on", async () => {
  const { schema, service } = reflectedCalculator();
  await using pair = await envelopePair(schema, service);
  const huge = "x".repeat(200_000);
  const replies = await converse(pair.peer, [
    { fileContainingSymbol: "interop.Nothing" },
    { fileByFilename: "nothing.proto" },
    { fileContainingExtension: { containingType: "interop.AddRequest", extensionNumber: 100 } },
    { allExtensionNumbersOfType: "interop.Nothing" },
    { allExtensionNumbersOfType: "interop.AddRequest" },
    {}, // no request at all
    { fileContainingSymbol: huge },
    { listServices: "" },
  ]);
  assert.equal(replies.length, 8);
  for (const reply of replies.slice(0, 4)) assert.equal(errorOf(reply).errorCode, 5);
  assert.match(errorOf(replies[0]!).errorMessage, /interop\.Nothing/);
  assert.deepEqual(replies[4]!.allExtensionNumbersResponse, {
    baseTypeName: "interop.AddRequest",
    extensionNumber: [],
  });
  assert.equal(errorOf(replies[5]!).errorCode, 12);
  // The huge name is not sent back in the message (only in original_request, as gRPC has it).
  assert.equal(errorOf(replies[6]!).errorCode, 5);
  assert.ok(errorOf(replies[6]!).errorMessage.length < 300);
  assert.ok("listServicesResponse" in replies[7]!);
});

Deno.test("reflection answers many requests on one stream, in order, v1alpha too", async () => {
  const { schema, service } = reflectedCalculator();
  await using pair = await envelopePair(schema, service);
  const names = ["interop.AddRequest", "interop.Nothing", "interop.Calculator.Range"];
  const requests = Array.from({ length: 600 }, (_, i) => ({ fileContainingSymbol: names[i % 3] }));
  for (const version of ["v1", "v1alpha"]) {
    const replies = await converse(pair.peer, requests, version);
    assert.equal(replies.length, 600);
    replies.forEach((reply, i) => {
      assert.equal((reply.originalRequest as Reply).fileContainingSymbol, names[i % 3]);
      assert.equal("errorResponse" in reply, i % 3 === 1);
    });
  }
});

Deno.test("reflection sends a file with every file it imports, transitively", async () => {
  const schema = loadProto({
    "app.proto": `syntax = "proto3"; package app; import "shared/money.proto";
      service Shop { rpc Buy(app.shared.Price) returns (app.shared.Price); }`,
    "shared/money.proto": `syntax = "proto3"; package app.shared;
      import "google/protobuf/timestamp.proto";
      message Price { int64 cents = 1; google.protobuf.Timestamp at = 2; }`,
    "unused.proto": `syntax = "proto2"; package other; message Lonely { optional int32 x = 1; }`,
    ...REFLECTION_PROTOS,
  });
  await using pair = await envelopePair(
    schema,
    reflectionService(schema, { services: ["app.Shop"] }),
  );
  const replies = await converse(pair.peer, [
    { listServices: "" },
    { fileContainingSymbol: "app.Shop.Buy" },
    { fileByFilename: "unused.proto" },
  ]);
  assert.deepEqual(replies[0]!.listServicesResponse, { service: [{ name: "app.Shop" }] });
  assert.deepEqual(fileNames(replies[1]!), [
    "app.proto",
    "shared/money.proto",
    "google/protobuf/timestamp.proto",
  ]);
  const files = (replies[1]!.fileDescriptorResponse as { fileDescriptorProto: Uint8Array[] })
    .fileDescriptorProto.map((bytes) =>
      descriptor.FileDescriptorProto.toObject(descriptor.FileDescriptorProto.decode(bytes))
    );
  assert.deepEqual(files.map((f) => [f.package, f.dependency ?? [], f.syntax]), [
    ["app", ["shared/money.proto"], "proto3"],
    ["app.shared", ["google/protobuf/timestamp.proto"], "proto3"],
    ["google.protobuf", [], "proto3"],
  ]);
  const unused = descriptor.FileDescriptorProto.decode(
    (replies[2]!.fileDescriptorResponse as { fileDescriptorProto: Uint8Array[] })
      .fileDescriptorProto[0]!,
  ) as unknown as { syntax: string };
  assert.equal(unused.syntax, "proto2");
});

Deno.test("reflection of a schema loaded from a JSON descriptor: one file per package", async () => {
  const json = loadProto({
    "x.proto": `syntax = "proto3"; package a.b; message X { int64 v = 1; }
      service S { rpc Go(X) returns (X); }`,
    ...REFLECTION_PROTOS,
  }).root.toJSON();
  const schema = loadProto(json);
  await using pair = await envelopePair(schema, reflectionService(schema));
  const replies = await converse(pair.peer, [
    { fileContainingSymbol: "a.b.S" },
    { fileByFilename: "grpc_reflection_v1.proto" },
  ]);
  assert.deepEqual(fileNames(replies[0]!), ["a_b.proto"]);
  assert.deepEqual(fileNames(replies[1]!), ["grpc_reflection_v1.proto"]);
});

Deno.test("reflection finds proto2 extensions, declared at the top and inside a message", async () => {
  const schema = loadProto(EXTENDED_PROTOS);
  await using pair = await envelopePair(schema, reflectionService(schema));
  const replies = await converse(pair.peer, [
    { fileContainingExtension: { containingType: "ext.Base", extensionNumber: 100 } },
    { fileContainingExtension: { containingType: "ext.Base", extensionNumber: 101 } },
    { fileContainingExtension: { containingType: "ext.Base", extensionNumber: 102 } },
    { allExtensionNumbersOfType: "ext.Base" },
    { fileContainingSymbol: "ext.more.Holder.note" },
    { fileContainingSymbol: "ext.Base" },
  ]);
  assert.deepEqual(fileNames(replies[0]!), ["more.proto", "base.proto"]);
  assert.deepEqual(fileNames(replies[1]!), ["more.proto", "base.proto"]);
  assert.equal(errorOf(replies[2]!).errorCode, 5);
  assert.deepEqual(replies[3]!.allExtensionNumbersResponse, {
    baseTypeName: "ext.Base",
    extensionNumber: [100, 101],
  });
  assert.deepEqual(fileNames(replies[4]!), ["more.proto", "base.proto"]);
  // The extended message's own file does not carry the fields other files added to it.
  const base = descriptor.FileDescriptorProto.toObject(
    descriptor.FileDescriptorProto.decode(filesOf([replies[5]!])[0]!),
  );
  assert.deepEqual(base.messageType[0].field.map((f: { name: string }) => f.name), ["a"]);
});

Deno.test("reflectionService refuses a schema without reflection and services it does not have", () => {
  const { schema } = reflectedCalculator();
  assert.throws(
    () => reflectionService(loadProto(`syntax = "proto3"; package a; message M {}`)),
    (error) => error instanceof TypeError && /REFLECTION_PROTOS/.test(error.message),
  );
  assert.throws(
    () => reflectionService(schema, { services: ["interop.Calcualtor"] }),
    (error) => error instanceof TypeError && /interop\.Calcualtor/.test(error.message),
  );
});

Deno.test("reflectSchema rebuilds the calculator's schema from the server's descriptors", async () => {
  const { schema, service } = reflectedCalculator();
  await using pair = await envelopePair(schema, service, loadProto(REFLECTION_PROTOS));
  const reflected = await reflectSchema(pair.peer);
  assert.equal(reflected.via, "grpc.reflection.v1.ServerReflection");
  assert.ok(reflected.services.includes("interop.Calculator"));
  for (const [name, method] of schema.methods) {
    const found = reflected.schema.method(name);
    assert.ok(found, name);
    assert.equal(found.clientStreaming, method.clientStreaming, name);
    assert.equal(found.serverStreaming, method.serverStreaming, name);
    assert.equal(found.request.name, method.request.name);
  }
  // The same bytes both ways, int64, doubles, maps, bytes and optional fields included.
  const shape = {
    name: "s",
    coords: [1.5, -0],
    tags: { big: 2n ** 62n },
    blob: new Uint8Array([0, 255]),
    flag: true,
  };
  const bytes = schema.message("interop.Shape").encode(shape);
  assert.deepEqual(reflected.schema.message("interop.Shape").encode(shape), bytes);
  assert.deepEqual(reflected.schema.message("interop.Shape").decode(bytes), shape);
  const work = schema.message("interop.Work").encode({ num1: 1, num2: 2, op: 4 });
  assert.deepEqual(reflected.schema.message("interop.Work").decode(work), {
    num1: 1,
    num2: 2,
    op: 4,
  });
});

Deno.test("reflectSchema falls back to v1alpha when the server has only that", async () => {
  const ALPHA = "grpc/reflection/v1alpha/reflection.proto";
  const alpha = loadProto({
    "calculator.proto": CALCULATOR_PROTO,
    [ALPHA]: REFLECTION_PROTOS[ALPHA]!,
  });
  await using pair = await envelopePair(
    alpha,
    reflectionService(alpha),
    loadProto(REFLECTION_PROTOS),
  );
  const reflected = await reflectSchema(pair.peer);
  assert.equal(reflected.via, "grpc.reflection.v1alpha.ServerReflection");
  assert.deepEqual(reflected.services, [
    "grpc.reflection.v1alpha.ServerReflection",
    "interop.Calculator",
  ]);
});
