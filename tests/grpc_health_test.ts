/**
 * `grpc.health.v1.Health` on `serveGrpc`, beside an application service:
 * Check through parley's own gRPC client, and through Debian's python3-grpcio
 * (tests/interop/python/grpc_health_client.py, a generic call); Watch over
 * gRPC (connectGrpc, grpcio) and over the protobuf envelope on TCP (its
 * status at once, each change, the latest only for a caller that does not
 * read, the end when the caller cancels).
 *
 * @module
 */

import assert from "node:assert/strict";
import { loadProto, protobufRpc, protoClient, protoService } from "../codecs/protobuf.ts";
import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
import { peerStreams } from "../rpc/peer/streams.ts";
import { connectTcp, serveTcp } from "../rpc/transports/tcp.ts";
import { combineServices } from "../rpc/dispatch.ts";
import { RpcError } from "../rpc/errors.ts";
import {
  connectGrpc,
  type GrpcServer,
  HEALTH_PROTO,
  HEALTH_PROTO_FILE,
  healthService,
  serveGrpc,
} from "../rpc/transports/grpc.ts";
import { DEBIAN_PYTHON, formatOutput, run } from "./interop/_process.ts";
import { needs } from "./_needs.ts";

const CLIENT = new URL("./interop/python/grpc_health_client.py", import.meta.url).pathname;

const schema = loadProto({
  "greeter.proto": `
    syntax = "proto3";
    package demo;
    message Name { string name = 1; }
    service Greeter { rpc Greet(Name) returns (Name); }`,
  [HEALTH_PROTO_FILE]: HEALTH_PROTO,
});

type Health = { Check(request: { service: string }): Promise<{ status?: number }> };
type Watcher = { Watch(request: { service: string }): AsyncIterable<{ status: number }> };
type Greeter = { Greet(request: { name: string }): Promise<{ name: string }> };

async function start() {
  const health = healthService(schema);
  const greeter = protoService(schema, "demo.Greeter", {
    Greet: ({ name }: { name: string }) => ({ name: `Hello, ${name}` }),
  });
  const server = await serveGrpc({ schema, service: combineServices(greeter, health.service) });
  return { health, server };
}

Deno.test("health Check through connectGrpc: the server, a known and an unknown service", async () => {
  const { health, server } = await start();
  await using _server = server;
  await using client = connectGrpc(server.url, { schema });
  const check = protoClient<Health>(client, schema, "grpc.health.v1.Health");
  const greeter = protoClient<Greeter>(client, schema, "demo.Greeter");

  assert.deepEqual(await check.Check({ service: "" }), { status: 1 }); // SERVING
  await assert.rejects(
    check.Check({ service: "demo.Greeter" }),
    (error) => error instanceof RpcError && error.code === 5 && /demo\.Greeter/.test(error.message),
  );
  health.setStatus("demo.Greeter", "SERVING");
  assert.equal(health.status("demo.Greeter"), "SERVING");
  assert.deepEqual(await check.Check({ service: "demo.Greeter" }), { status: 1 });
  health.setStatus("demo.Greeter", "NOT_SERVING");
  health.setStatus("", "NOT_SERVING");
  assert.deepEqual(await check.Check({ service: "demo.Greeter" }), { status: 2 });
  assert.deepEqual(await check.Check({ service: "" }), { status: 2 });
  await assert.rejects(
    check.Check({ service: "demo.Missing" }),
    (error) => error instanceof RpcError && error.code === 5,
  );
  // The application's service is served beside it, on the same server.
  assert.deepEqual(await greeter.Greet({ name: "Ada" }), { name: "Hello, Ada" });
});

Deno.test("healthService() alone serves its own schema", async () => {
  const health = healthService();
  const alone = loadProto(HEALTH_PROTO);
  await using server = await serveGrpc({ schema: alone, service: health.service });
  await using client = connectGrpc(server.url, { schema: alone });
  const check = protoClient<Health>(client, alone, "grpc.health.v1.Health");
  assert.deepEqual(await check.Check({ service: "" }), { status: 1 });
});

async function grpcio(server: GrpcServer, ...args: string[]): Promise<unknown> {
  const result = await run(DEBIAN_PYTHON, {
    args: [CLIENT, `127.0.0.1:${server.addr.port}`, ...args],
    timeout: 60_000,
  });
  assert.equal(result.code, 0, formatOutput(result));
  return JSON.parse(result.stdout);
}

Deno.test({
  name: "grpcio calls Check and Watch generically",
  ignore: needs("py:grpc", "py:google.protobuf", "protoc"),
  fn: async () => {
    const { health, server } = await start();
    await using _server = server;
    assert.deepEqual(await grpcio(server, ""), { code: 0, status: 1 });
    const unknown = await grpcio(server, "demo.Greeter") as { code: number };
    assert.equal(unknown.code, 5);
    health.setStatus("demo.Greeter", "NOT_SERVING");
    assert.deepEqual(await grpcio(server, "demo.Greeter"), { code: 0, status: 2 });
    // Watch's first message: the status now; SERVICE_UNKNOWN (3) for a name never set.
    assert.deepEqual(await grpcio(server, "", "Watch"), { code: 0, status: 1 });
    assert.deepEqual(await grpcio(server, "demo.Greeter", "Watch"), { code: 0, status: 2 });
    assert.deepEqual(await grpcio(server, "demo.Nobody", "Watch"), { code: 0, status: 3 });
  },
});

Deno.test("health Watch over gRPC: the status, a change, and the end when the caller leaves", async () => {
  const { health, server } = await start();
  await using _server = server;
  await using client = connectGrpc(server.url, { schema });
  const watch = protoClient<Watcher>(client, schema, "grpc.health.v1.Health");
  const seen: number[] = [];
  for await (const { status } of watch.Watch({ service: "demo.Greeter" })) {
    seen.push(status);
    if (seen.length === 1) health.setStatus("demo.Greeter", "NOT_SERVING");
    else break;
  }
  assert.deepEqual(seen, [3, 2]);
  await eventually(() => health.watchers === 0, "the cancelled Watch ended on the server");
});

// The health service over the envelope on TCP, and a client of its Watch.
async function watchPair() {
  const health = healthService(schema);
  const options = { codec: protobufRpc({ schema }), streams: peerStreams, framing: lengthPrefix() };
  const server = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    ...options,
    service: health.service,
  });
  const peer = await connectTcp(server.address, options);
  return {
    health,
    watch: protoClient<Watcher>(peer, schema, "grpc.health.v1.Health"),
    async [Symbol.asyncDispose]() {
      await peer.close();
      await server[Symbol.asyncDispose]();
    },
  };
}

// Waits (bounded) until `done()` holds: a cancel reaches the server asynchronously.
async function eventually(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(done(), what);
}

Deno.test("health Watch: the status at once, then each change, until the caller leaves", async () => {
  await using pair = await watchPair();
  const { health, watch } = pair;
  const seen: number[] = [];
  for await (const { status } of watch.Watch({ service: "demo.Greeter" })) {
    seen.push(status);
    if (seen.length === 1) health.setStatus("demo.Greeter", "SERVING");
    else if (seen.length === 2) {
      health.setStatus("demo.Other", "NOT_SERVING"); // another name: not sent here
      health.setStatus("demo.Greeter", "SERVING"); // no change: not sent
      health.setStatus("demo.Greeter", "NOT_SERVING");
    } else break;
  }
  assert.deepEqual(seen, [3, 1, 2]); // SERVICE_UNKNOWN, SERVING, NOT_SERVING
  await eventually(() => health.watchers === 0, "the cancelled Watch ended on the server");
  // The whole server ("") is SERVING from the start.
  for await (const { status } of watch.Watch({ service: "" })) {
    assert.equal(status, 1);
    break;
  }
});

Deno.test("health Watch: a caller that does not read is sent the latest status, not a queue", async () => {
  await using pair = await watchPair();
  const { health, watch } = pair;
  const statuses = watch.Watch({ service: "s" })[Symbol.asyncIterator]();
  assert.deepEqual((await statuses.next()).value, { status: 3 });
  for (let i = 0; i < 10_000; i++) health.setStatus("s", i % 2 === 0 ? "SERVING" : "NOT_SERVING");
  assert.deepEqual((await statuses.next()).value, { status: 2 }); // the 10,000th: NOT_SERVING
  health.setStatus("s", "SERVING");
  assert.deepEqual((await statuses.next()).value, { status: 1 });
  await statuses.return?.();
  await eventually(() => health.watchers === 0, "the cancelled Watch ended on the server");
});

Deno.test("health Watch: many watchers of one name each see the change, and end with their callers", async () => {
  await using pair = await watchPair();
  const { health, watch } = pair;
  const watchers = Array.from(
    { length: 50 },
    () => watch.Watch({ service: "s" })[Symbol.asyncIterator](),
  );
  for (const w of watchers) assert.deepEqual((await w.next()).value, { status: 3 });
  assert.equal(health.watchers, 50);
  health.setStatus("s", "SERVING");
  for (const w of watchers) assert.deepEqual((await w.next()).value, { status: 1 });
  await Promise.all(watchers.map((w) => w.return?.()));
  await eventually(() => health.watchers === 0, "every cancelled Watch ended on the server");
});
