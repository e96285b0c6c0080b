/**
 * The FileDescriptorProtos that parley's reflection hands out, checked by a
 * real protobuf runtime: Debian's python3-protobuf adds them to a fresh
 * DescriptorPool (which checks names, packages, dependencies, map entries
 * and oneofs as protoc's own output must pass), finds the services, and
 * builds message classes that encode as parley does
 * (tests/interop/python/reflected_pool.py).
 *
 * @module
 */

import assert from "node:assert/strict";
import { loadProto } from "../codecs/protobuf.ts";
import { REFLECTION_PROTOS, reflectionService } from "../rpc/transports/grpc.ts";
import {
  converse,
  envelopePair,
  EXTENDED_PROTOS,
  filesOf,
  peerJson,
  reflectedCalculator,
  reflectedSchema,
} from "./_reflection.ts";
import { DEBIAN_PYTHON } from "./interop/_process.ts";
import { needs } from "./_needs.ts";

const POOL_SCRIPT = new URL("./interop/python/reflected_pool.py", import.meta.url).pathname;

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
    const schema = loadProto(EXTENDED_PROTOS);
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
