/**
 * Interceptors on the protocols with metadata: the same deny, rewrite and
 * time interceptors on `connectHandler` (unary and a server stream) and on
 * `serveGrpc` (unary and a server stream), and on `serveNats`; client interceptors on
 * `connectClient` and `connectGrpc` adding a header that the server's
 * interceptor reads, over real sockets.
 */

import assert from "node:assert/strict";
import { loadProto, protoService } from "../codecs/protobuf.ts";
import { connectClient, ConnectError, connectHandler } from "../protocols/connect.ts";
import type { Interceptor } from "../rpc/interceptors.ts";
import { serveHttp } from "../rpc/transports/http.ts";
import { connectGrpc, serveGrpc } from "../rpc/transports/grpc.ts";
import type { RpcParams, RpcStream } from "../rpc/types.ts";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { ErrorCode, RpcError } from "../rpc/errors.ts";
import { connectNats, natsClient, serveNats } from "../rpc/transports/nats.ts";
import { startNatsServer } from "../testing/nats_server.ts";
import { testNeeding } from "./_needs.ts";

const schema = loadProto(`
  syntax = "proto3";
  package demo;
  message Name { string name = 1; }
  service Greeter {
    rpc Greet(Name) returns (Name);
    rpc Admin(Name) returns (Name);
    rpc Chorus(Name) returns (stream Name);
  }
`);

const service = protoService(schema, "demo.Greeter", {
  Greet: ({ name }: { name: string }) => ({ name: `Hello, ${name}` }),
  Admin: () => ({ name: "reset" }),
  Chorus: async function* ({ name }: { name: string }) {
    yield { name };
    yield { name };
  },
});

interface Seen {
  readonly timed: [string, boolean][];
  readonly users: (string | null)[];
}

// Records each call's method and whether it succeeded, once it has ended.
function timing(timed: [string, boolean][]): Interceptor {
  return (next) => async (call) => {
    let ok = false;
    try {
      const result = await next(call);
      ok = true;
      return result;
    } finally {
      timed.push([call.method, ok]);
    }
  };
}

// The server's chain: times every call, denies Admin to callers without a
// token, and upper-cases the name it passes on.
function serverChain(seen: Seen): Interceptor[] {
  const deny: Interceptor = (next) => (call) => {
    assert.equal(call.side, "server");
    assert.equal(call.kind, "call");
    seen.users.push(call.metadata.get("x-user"));
    return call.method.endsWith("/Admin") && call.metadata.get("authorization") !== "Bearer ok"
      ? Promise.reject(new ConnectError("permission_denied", "Admin needs a token"))
      : next(call);
  };
  const rewrite: Interceptor = (next) => (call) => {
    const { name } = call.params as { name: string };
    return next({ ...call, params: { name: name.toUpperCase() } });
  };
  return [timing(seen.timed), deny, rewrite];
}

// The client's chain: adds the token to calls of Admin whose caller asks for it.
const authorize: Interceptor = (next) => (call) => {
  assert.equal(call.side, "client");
  if (call.metadata.get("x-user") === "admin") call.metadata.set("authorization", "Bearer ok");
  return next(call);
};

interface Client extends AsyncDisposable {
  call(method: string, params: RpcParams, options?: { headers?: HeadersInit }): Promise<unknown>;
  openStream(method: string, params: RpcParams): RpcStream;
}

async function exercise(plain: Client, authorizing: Client, seen: Seen): Promise<void> {
  // rewrite: the handler sees the name the chain made.
  assert.deepEqual(
    await plain.call("demo.Greeter/Greet", { name: "ada" }, { headers: { "x-user": "ada" } }),
    { name: "Hello, ADA" },
  );
  // deny: the caller gets the interceptor's error; the handler never runs.
  await assert.rejects(
    plain.call("demo.Greeter/Admin", { name: "x" }, { headers: { "x-user": "admin" } }),
    (error) => error instanceof ConnectError && error.connectCode === "permission_denied",
  );
  // The client's interceptor adds the header the server's reads.
  assert.deepEqual(
    await authorizing.call("demo.Greeter/Admin", { name: "x" }, { headers: { "x-user": "admin" } }),
    { name: "reset" },
  );
  // A server stream runs through the server's chain too (the rewrite).
  const names = await Array.fromAsync(
    plain.openStream("demo.Greeter/Chorus", { name: "bo" }).messages,
  );
  assert.deepEqual(names, [{ name: "BO" }, { name: "BO" }]);
  assert.deepEqual(seen.timed, [
    ["demo.Greeter/Greet", true],
    ["demo.Greeter/Admin", false],
    ["demo.Greeter/Admin", true],
    ["demo.Greeter/Chorus", true],
  ]);
  assert.deepEqual(seen.users, ["ada", "admin", "admin", null]);
}

Deno.test("interceptors on Connect: deny, rewrite and time on the server; a header added by the client's", async () => {
  const seen: Seen = { timed: [], users: [] };
  const handler = connectHandler({ schema, service, interceptors: serverChain(seen) });
  await using server = serveHttp({ routes: {}, handlers: { "/": handler } });
  await using plain = connectClient(server.url, { schema });
  await using authorizing = connectClient(server.url, { schema, interceptors: [authorize] });
  await exercise(plain, authorizing, seen);
});

Deno.test("interceptors on gRPC: deny, rewrite and time on the server; metadata added by the client's", async () => {
  const seen: Seen = { timed: [], users: [] };
  await using server = await serveGrpc({
    schema,
    service,
    hostname: "127.0.0.1",
    port: 0,
    interceptors: serverChain(seen),
  });
  await using plain = connectGrpc(server.url, { schema });
  await using authorizing = connectGrpc(server.url, { schema, interceptors: [authorize] });
  await exercise(plain, authorizing, seen);
});

Deno.test("client interceptors can answer a call themselves, rewrite it, and see its error", async () => {
  const handler = connectHandler({ schema, service });
  await using server = serveHttp({ routes: {}, handlers: { "/": handler } });
  const errors: string[] = [];
  const cached: Interceptor = (next) => async (call) => {
    if ((call.params as { name: string }).name === "cached") return { name: "from cache" };
    try {
      return await next({ ...call, method: call.method.replace("/Hello", "/Greet") });
    } catch (error) {
      errors.push((error as Error).name);
      throw error;
    }
  };
  await using client = connectClient(server.url, { schema, interceptors: [cached] });
  assert.deepEqual(await client.call("demo.Greeter/Greet", { name: "cached" }), {
    name: "from cache",
  });
  assert.deepEqual(await client.call("demo.Greeter/Hello", { name: "ada" }), {
    name: "Hello, ada",
  });
  await assert.rejects(
    client.call("demo.Greeter/Greet", [{ name: "a" }, { name: "b" }]),
    TypeError,
  );
  // What the call throws (here, a request that does not fit) goes through the chain.
  assert.deepEqual(errors, ["TypeError"]);
});

testNeeding("nats-server")({
  name: "interceptors on serveNats: deny, rewrite and time around a worker's calls",
  fn: async () => {
    await using nats = await startNatsServer();
    const nc = await connectNats(nats.url);
    const timed: [string, boolean][] = [];
    const deny: Interceptor = (next) => (call) =>
      call.method === "reset"
        ? Promise.reject(new RpcError(ErrorCode.InvalidRequest, "Not allowed"))
        : next(call);
    const double: Interceptor = (next) => (call) =>
      next({ ...call, params: (call.params as number[]).map((n) => 2 * n) });
    const worker = serveNats({
      connection: nc,
      subject: "calc",
      codec: jsonRpc(),
      service: { add: (a: number, b: number) => a + b, reset: () => "done" },
      interceptors: [timing(timed), deny, double],
    });
    await worker.ready;
    const calc = natsClient({ connection: nc, subject: "calc", codec: jsonRpc(), timeout: 5_000 });
    assert.equal(await calc.call("add", [1, 2]), 6);
    await assert.rejects(
      calc.call("reset", []),
      (e) => e instanceof RpcError && e.code === ErrorCode.InvalidRequest,
    );
    assert.deepEqual(timed, [["add", true], ["reset", false]]);
    await worker.drain();
    await nc.drain();
  },
});
