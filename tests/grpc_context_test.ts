// serveGrpc's connection details and per-connection context, over real
// HTTP/2 connections from connectGrpc.

import assert from "node:assert/strict";
import { calculatorSchema } from "../examples/calculator/protobuf.ts";
import { ConnectError } from "../protocols/connect.ts";
import { connectionOf, typedContext } from "../rpc/connection.ts";
import type { Interceptor } from "../rpc/interceptors.ts";
import { connectGrpc, serveGrpc } from "../rpc/transports/grpc.ts";
import { rejection } from "./_rejection.ts";

const schema = calculatorSchema();

Deno.test("serveGrpc builds the context once per HTTP/2 connection; handlers and interceptors see it", async () => {
  const app = typedContext<{ n: number; port: number }>();
  let built = 0;
  const seen: string[] = [];
  const audit: Interceptor = (next) => (call) => {
    if (call.context !== undefined) {
      seen.push(`${connectionOf(call.context)?.transport} ${app.of(call.context)?.n}`);
    }
    return next(call);
  };
  await using server = await serveGrpc({
    schema,
    interceptors: [audit],
    context: app.build((connection) => ({
      n: ++built,
      port: (connection.remoteAddr as { port: number }).port,
    })),
    service: {
      "interop.Calculator/Add": app.handler((context, request: { num1: number; num2: number }) => ({
        sum: request.num1 + request.num2 + context.n * 1000,
      })),
    },
  });
  await using a = connectGrpc(server.url, { schema });
  await using b = connectGrpc(server.url, { schema });
  const sums = await Promise.all(
    Array.from({ length: 10 }, (_, i) => a.call("interop.Calculator/Add", { num1: i, num2: 0 })),
  );
  assert.deepEqual(
    sums.map((r) => (r as { sum: number }).sum),
    [...Array(10).keys()].map((i) => 1000 + i),
  );
  assert.deepEqual(await b.call("interop.Calculator/Add", { num1: 1, num2: 1 }), { sum: 2002 });
  assert.equal(built, 2);
  assert.equal(seen.length, 11);
  assert.ok(seen.every((line) => /^grpc [12]$/.test(line)), seen.join());
});

Deno.test("serveGrpc: a context that throws answers every call of the connection 16 UNAUTHENTICATED", async () => {
  const errors: unknown[] = [];
  let handled = 0;
  await using server = await serveGrpc({
    schema,
    onError: (error) => errors.push(error),
    context: () => {
      throw new Error("not from this network");
    },
    service: { "interop.Calculator/Add": () => ({ sum: ++handled }) },
  });
  await using client = connectGrpc(server.url, { schema });
  for (let i = 0; i < 2; i++) {
    const error = await rejection(
      client.call("interop.Calculator/Add", { num1: 1, num2: 2 }),
      ConnectError,
    );
    assert.equal(error.connectCode, "unauthenticated");
    assert.match(error.message, /not from this network/);
  }
  assert.equal(handled, 0);
  assert.equal(errors.length, 1, "told once per connection");
});
