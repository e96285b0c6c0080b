/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha) served by parley,
 * over the protobuf envelope on real TCP: every request kind, errors that
 * leave the stream open, bounds, and the descriptors checked by a real
 * protobuf runtime (Debian's python3-protobuf builds a DescriptorPool of
 * them and message classes that encode as parley does).
 *
 * @module
 */

import assert from "node:assert/strict";
import descriptor from "protobufjs/ext/descriptor.js";
import { loadProto, protobufRpc, type ProtoSchema } from "../codecs/protobuf.ts";
import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
import { peerStreams } from "../rpc/peer/streams.ts";
import type { Service } from "../rpc/service.ts";
import { connectTcp, serveTcp } from "../rpc/transports/tcp.ts";
import { REFLECTION_PROTOS, reflectionService, reflectSchema } from "../rpc/transports/grpc.ts";
import {
  CALCULATOR_PROTO,
  converse,
  peerJson,
  reflectedCalculator,
  reflectedSchema,
} from "./_reflection.ts";
import { DEBIAN_PYTHON } from "./interop/_process.ts";
import { needs } from "./_needs.ts";

const POOL_SCRIPT = new URL("./interop/python/reflected_pool.py", import.meta.url).pathname;

type Reply = Record<string, unknown>;

// A server of `service` over the envelope on TCP, and a client peer of `clientSchema`.
async function envelopePair(schema: ProtoSchema, service: Service, clientSchema = schema) {
  const server = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    codec: protobufRpc({ schema }),
    streams: peerStreams,
    framing: lengthPrefix(),
    service,
  });
  const peer = await connectTcp(server.address, {
    codec: protobufRpc({ schema: clientSchema }),
    streams: peerStreams,
    framing: lengthPrefix(),
  });
  return {
    peer,
    async [Symbol.asyncDispose]() {
      await peer.close();
      await server[Symbol.asyncDispose]();
    },
  };
}

// What python3-protobuf's DescriptorPool makes of `files` (reflected_pool.py's output).
async function pythonPool(files: Uint8Array[], service: string, add?: Uint8Array) {
  const input = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(
      input,
      JSON.stringify({
        files: files.map((f) => f.toBase64()),
        service,
        ...(add === undefined ? {} : { add: add.toBase64() }),
      }),
    );
    return await peerJson(DEBIAN_PYTHON, POOL_SCRIPT, "files", input);
  } finally {
    await Deno.remove(input);
  }
}

const filesOf = (replies: Reply[]) =>
  replies.flatMap((reply) =>
    (reply.fileDescriptorResponse as { fileDescriptorProto: Uint8Array[] }).fileDescriptorProto
  );

const fileNames = (reply: Reply) =>
  (reply.fileDescriptorResponse as { fileDescriptorProto: Uint8Array[] }).fileDescriptorProto
    .map((bytes) =>
      (descriptor.FileDescriptorProto.decode(bytes) as unknown as { name: string }).name
    );

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

const EXTENDED = {
  "base.proto": `syntax = "proto2"; package ext;
    message Base { optional int32 a = 1; extensions 100 to 200; }`,
  "more.proto": `syntax = "proto2"; package ext.more; import "base.proto";
    extend ext.Base { optional int32 extra = 100; }
    message Holder { extend ext.Base { optional string note = 101; } optional int32 x = 1; }
    service Ext { rpc Get(ext.Base) returns (Holder); }`,
  ...REFLECTION_PROTOS,
};

Deno.test("reflection finds proto2 extensions, declared at the top and inside a message", async () => {
  const schema = loadProto(EXTENDED);
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

Deno.test({
  name:
    "python3-protobuf builds a DescriptorPool of the reflected files, and encodes as parley does",
  ignore: needs("py:google.protobuf"),
  fn: async () => {
    const schema = reflectedSchema();
    const { service } = reflectedCalculator(schema);
    await using pair = await envelopePair(schema, service);
    const replies = await converse(pair.peer, [
      { fileContainingSymbol: "interop.Calculator" },
      { fileContainingSymbol: "grpc.health.v1.Health" },
      { fileContainingSymbol: "grpc.reflection.v1.ServerReflection" },
      { fileContainingSymbol: "grpc.reflection.v1alpha.ServerReflection" },
    ]);
    const add = schema.message("interop.AddRequest").encode({ num1: -7, num2: 2 ** 31 - 1 });
    const seen = await pythonPool(filesOf(replies), "interop.Calculator", add);
    // The pool took every file: names, packages and oneofs (the reflection messages') checked.
    assert.deepEqual(seen.files, [
      { name: "calculator.proto", package: "interop", dependencies: [], syntax: "proto3" },
      ...[
        ["grpc/health/v1/health.proto", "grpc.health.v1"],
        ["grpc/reflection/v1/reflection.proto", "grpc.reflection.v1"],
        ["grpc/reflection/v1alpha/reflection.proto", "grpc.reflection.v1alpha"],
      ].map(([name, pkg]) => ({ name, package: pkg, dependencies: [], syntax: "proto3" })),
    ]);
    assert.equal(seen.file, "calculator.proto");
    const kinds = Object.fromEntries(
      seen.methods.map((
        m: { name: string; client_streaming: boolean; server_streaming: boolean },
      ) => [
        m.name,
        [m.client_streaming, m.server_streaming],
      ]),
    );
    assert.deepEqual(kinds, {
      Ping: [false, false],
      Add: [false, false],
      Calculate: [false, false],
      Echo: [false, false],
      EchoBinary: [false, false],
      EchoShape: [false, false],
      Sum: [false, false],
      Zip: [false, false],
      Range: [false, true],
      Total: [true, false],
      Running: [true, true],
    });
    const addMethod = seen.methods.find((m: { name: string }) => m.name === "Add");
    assert.deepEqual([addMethod.input, addMethod.output], [
      "interop.AddRequest",
      "interop.AddReply",
    ]);
    assert.deepEqual(
      Uint8Array.fromBase64(seen.add_encoded),
      schema.message("interop.AddRequest").encode({ num1: 1, num2: 2 }),
    );
    assert.deepEqual(seen.add_decoded, { num1: -7, num2: 2 ** 31 - 1 });
    assert.deepEqual(seen.shape_tags, { big: String(2n ** 62n) });
    assert.deepEqual(seen.shape_coords, [1.5, -0.25]);
    assert.equal(seen.work_has_comment, true); // proto3 optional: a synthetic oneof
  },
});

Deno.test({
  name: "python3-protobuf's DescriptorPool takes imports, maps of messages, nested enums, proto2",
  ignore: needs("py:google.protobuf"),
  fn: async () => {
    const schema = loadProto({
      "shop/v1/shop.proto": `syntax = "proto3"; package shop.v1;
        import "shop/v1/money.proto";
        import "google/protobuf/empty.proto";
        message Order {
          optional string note = 1;
          oneof payment { string card = 2; string cash = 3; }
          map<string, shop.common.Price> items = 4;
          map<int32, Status> history = 5;
          enum Status { STATUS_UNKNOWN = 0; PAID = 1; }
          message Line { shop.common.Price price = 1; Status status = 3; repeated Line sub = 2; }
          repeated Line lines = 6;
        }
        service Shop {
          rpc Place(Order) returns (google.protobuf.Empty);
          rpc Watch(google.protobuf.Empty) returns (stream Order);
        }`,
      "shop/v1/money.proto": `syntax = "proto2"; package shop.common;
        message Price {
          required int64 cents = 1;
          optional Currency currency = 2 [default = EUR];
          enum Currency { EUR = 1; USD = 2; }
        }`,
      ...REFLECTION_PROTOS,
    });
    await using pair = await envelopePair(schema, reflectionService(schema));
    const replies = await converse(pair.peer, [{ fileContainingSymbol: "shop.v1.Shop" }]);
    const seen = await pythonPool(filesOf(replies), "shop.v1.Shop");
    assert.deepEqual(seen.files, [
      {
        name: "shop/v1/shop.proto",
        dependencies: ["google/protobuf/empty.proto", "shop/v1/money.proto"],
      },
      { name: "google/protobuf/empty.proto", dependencies: [] },
      { name: "shop/v1/money.proto", dependencies: [] },
    ]);
    assert.deepEqual(seen.messages, [
      "google.protobuf.Empty",
      "shop.common.Price",
      "shop.v1.Order",
      "shop.v1.Order.HistoryEntry",
      "shop.v1.Order.ItemsEntry",
      "shop.v1.Order.Line",
    ]);
    assert.deepEqual(seen.methods, ["shop.v1.Shop.Place", "shop.v1.Shop.Watch"]);
  },
});

Deno.test({
  name: "python3-protobuf's DescriptorPool takes files with proto2 extensions",
  ignore: needs("py:google.protobuf"),
  fn: async () => {
    const schema = loadProto(EXTENDED);
    await using pair = await envelopePair(schema, reflectionService(schema));
    const replies = await converse(pair.peer, [{ fileContainingSymbol: "ext.more.Ext" }]);
    const seen = await pythonPool(filesOf(replies), "ext.more.Ext");
    assert.deepEqual(seen.files, [
      { name: "more.proto", dependencies: ["base.proto"] },
      { name: "base.proto", dependencies: [] },
    ]);
    assert.deepEqual(seen.messages, ["ext.Base", "ext.more.Holder"]);
  },
});
