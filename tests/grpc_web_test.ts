/**
 * gRPC-Web on `connectHandler`'s route (unary; binary and `-text`): a raw
 * `fetch` client that builds and reads the frames itself, against the
 * calculator of the interop contract served with `serveHttp`. connect-es's
 * gRPC-Web transport is in `interop/node_grpc_web_test.ts`.
 */

import assert from "node:assert/strict";
import { loadProto, protoService } from "../codecs/protobuf.ts";
import { connectClient, connectHandler } from "../protocols/connect.ts";
import { protoClient } from "../codecs/protobuf.ts";
import { withContext } from "../mod.ts";
import { serveHttp } from "../rpc/transports/http.ts";
import {
  calculatorSchema,
  ERROR_DETAILS,
  protobufCalculator,
} from "../examples/calculator/protobuf.ts";
import { call, frame, statusDetails } from "./_grpc_web_client.ts";

const schema = calculatorSchema();
const AddRequest = schema.message("interop.AddRequest");
const AddReply = schema.message("interop.AddReply");
const EchoMessage = schema.message("interop.EchoMessage");
const InvalidOperation = schema.message("interop.InvalidOperation");

// A client-streaming method beside the calculator's, to see it refused.
const streaming = loadProto(`
  syntax = "proto3";
  package demo;
  message N { int32 n = 1; }
  service Counter { rpc Count(stream N) returns (N); }
`);

function startServer() {
  const aborted: unknown[] = [];
  const service = {
    ...protobufCalculator(schema),
    // A slow Echo, to see deadlines: it waits for its signal.
    "interop.Calculator/Echo": withContext((ctx, request: { text: string }) => {
      if (request.text !== "slow") return request;
      return new Promise((_, reject) => {
        ctx.signal.addEventListener("abort", () => {
          aborted.push(ctx.signal.reason);
          reject(ctx.signal.reason);
        });
      });
    }),
  };
  const server = serveHttp({
    routes: {},
    handlers: {
      "/": connectHandler({
        schema,
        service,
        errorDetails: ERROR_DETAILS,
        errorCode: () => "invalid_argument", // InvalidOperation
      }),
      "/counter/": connectHandler({
        schema: streaming,
        service: protoService(streaming, "demo.Counter", { Count: () => ({ n: 1 }) }),
      }),
    },
  });
  return { server, aborted };
}

const add = (num1: number, num2: number) => frame(AddRequest.encode({ num1, num2 }));

for (const text of [false, true]) {
  const mode = text ? "text" : "binary";

  Deno.test(`gRPC-Web (${mode}): Add answers its message and grpc-status 0`, async () => {
    await using server = startServer().server;
    const reply = await call(server.url, "/interop.Calculator/Add", add(1, 2), { text });
    assert.equal(reply.status, 200);
    assert.equal(
      reply.contentType,
      text ? "application/grpc-web-text+proto" : "application/grpc-web+proto",
    );
    assert.equal(reply.messages.length, 1);
    assert.deepEqual(AddReply.decode(reply.messages[0]!), { sum: 3 });
    assert.deepEqual(reply.trailers, { "grpc-status": "0" });
  });

  Deno.test(`gRPC-Web (${mode}): InvalidOperation is status 3 with a google.rpc.Status`, async () => {
    await using server = startServer().server;
    const reply = await call(server.url, "/interop.Calculator/Add", add(2 ** 31 - 1, 1), { text });
    assert.equal(reply.status, 200);
    assert.equal(reply.trailersOnly, false, "the handler ran: trailers in the body");
    assert.deepEqual(reply.messages, []);
    assert.equal(reply.trailers["grpc-status"], "3");
    assert.equal(reply.trailers["grpc-message"], "overflow");
    const details = statusDetails(reply);
    assert.equal(details.code, 3);
    assert.equal(details.message, "overflow");
    assert.equal(details.details.length, 1);
    assert.equal(details.details[0]!.type_url, "type.googleapis.com/interop.InvalidOperation");
    assert.deepEqual(InvalidOperation.decode(details.details[0]!.value), {
      whatOp: 1,
      why: "overflow",
    });
  });

  Deno.test(`gRPC-Web (${mode}): an unknown method is 12, trailers-only`, async () => {
    await using server = startServer().server;
    const reply = await call(server.url, "/interop.Calculator/Nope", add(1, 2), { text });
    assert.equal(reply.status, 200);
    assert.equal(reply.trailersOnly, true);
    assert.equal(reply.trailers["grpc-status"], "12");
    assert.equal(reply.trailers["grpc-message"], "Method not found: interop.Calculator/Nope");
  });

  Deno.test(`gRPC-Web (${mode}): a message that does not decode is 3, trailers-only`, async () => {
    await using server = startServer().server;
    const reply = await call(
      server.url,
      "/interop.Calculator/Add",
      frame(new Uint8Array([0xff, 0xff, 0xff])),
      { text },
    );
    assert.equal(reply.trailersOnly, true);
    assert.equal(reply.trailers["grpc-status"], "3");
    assert.match(reply.trailers["grpc-message"]!, /not a interop\.AddRequest/);
  });

  Deno.test(`gRPC-Web (${mode}): a passed grpc-timeout is 4, the handler's signal fired`, async () => {
    const { server, aborted } = startServer();
    await using _ = server;
    const reply = await call(
      server.url,
      "/interop.Calculator/Echo",
      frame(EchoMessage.encode({ text: "slow" })),
      { text, headers: { "grpc-timeout": "50m" } },
    );
    assert.equal(reply.trailers["grpc-status"], "4");
    assert.equal(reply.trailers["grpc-message"], "Deadline exceeded");
    assert.equal(aborted.length, 1);
  });
}

Deno.test("gRPC-Web: a method whose request streams is 12 with a clear message", async () => {
  await using server = startServer().server;
  const reply = await call(server.url, "/counter/demo.Counter/Count", frame(new Uint8Array()));
  assert.equal(reply.trailersOnly, true);
  assert.equal(reply.trailers["grpc-status"], "12");
  assert.equal(
    reply.trailers["grpc-message"],
    "demo.Counter/Count takes a stream of messages: gRPC-Web carries one request message " +
      "(a browser cannot stream a request body), so it serves unary and server-streaming calls",
  );
});

Deno.test("gRPC-Web: a length prefix of 2^31 is 8, refused from its prefix", async () => {
  await using server = startServer().server;
  const reply = await call(
    server.url,
    "/interop.Calculator/Add",
    frame(new Uint8Array(), 2 ** 31),
  );
  assert.equal(reply.trailersOnly, true);
  assert.equal(reply.trailers["grpc-status"], "8");
  assert.match(reply.trailers["grpc-message"]!, /2147483648 bytes exceeds the limit/);
});

Deno.test("gRPC-Web: a malformed grpc-timeout is 3; two messages in a unary call 13", async () => {
  await using server = startServer().server;
  const badTimeout = await call(server.url, "/interop.Calculator/Add", add(1, 2), {
    headers: { "grpc-timeout": "soon" },
  });
  assert.equal(badTimeout.trailers["grpc-status"], "3");
  assert.equal(badTimeout.trailers["grpc-message"], "Malformed grpc-timeout: soon");
  const two = await call(
    server.url,
    "/interop.Calculator/Add",
    new Uint8Array([...add(1, 2), ...add(3, 4)]),
  );
  assert.equal(two.trailers["grpc-status"], "13");
});

Deno.test("gRPC-Web text: base64 split anywhere across chunks, each message padded on its own", async () => {
  await using server = startServer().server;
  // The frame's base64 in two padded pieces ("…==" then the rest), as a
  // client writing each piece on its own does, sent one byte per chunk.
  const framed = add(1, 2);
  const padded = framed.subarray(0, 4).toBase64() + framed.subarray(4).toBase64();
  assert.match(padded, /^[^=]+==[^=]/);
  const bytes = new TextEncoder().encode(padded);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const byte of bytes) controller.enqueue(new Uint8Array([byte]));
      controller.close();
    },
  });
  const reply = await call(server.url, "/interop.Calculator/Add", body, { text: true });
  assert.deepEqual(AddReply.decode(reply.messages[0]!), { sum: 3 });
  // Not base64 at all.
  const garbage = await call(server.url, "/interop.Calculator/Add", "!!!!", {
    contentType: "application/grpc-web-text",
    text: true,
  });
  assert.equal(garbage.trailers["grpc-status"], "3");
  assert.match(garbage.trailers["grpc-message"]!, /not base64/);
});

Deno.test("one route answers Connect and gRPC-Web, told apart by content type", async () => {
  await using server = startServer().server;
  await using client = connectClient(server.url, { schema });
  type Adder = { Add(r: { num1: number; num2: number }): { sum: number } };
  const calculator = protoClient<Adder>(client, schema, "interop.Calculator");
  assert.deepEqual(await calculator.Add({ num1: 20, num2: 22 }), { sum: 42 });
  const reply = await call(server.url, "/interop.Calculator/Add", add(20, 22), {
    contentType: "application/grpc-web",
  });
  assert.deepEqual(AddReply.decode(reply.messages[0]!), { sum: 42 });
  assert.equal(reply.trailers["grpc-status"], "0");
});
