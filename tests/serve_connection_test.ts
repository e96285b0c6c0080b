import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import type { ConnectionInfo } from "../rpc/serve_connection.ts";
import { serveHttp } from "../rpc/transports/http.ts";
import { spawnStdio } from "../rpc/transports/stdio.ts";
import { connectTcp, perConnection, serveTcp } from "../rpc/transports/tcp.ts";
import { connectWebSocket } from "../rpc/transports/websocket.ts";

const options = { codec: jsonRpc(), framing: newline() };

// A service whose state is its connection's own, and that calls the client back.
function counterPerConnection(seen: ConnectionInfo[]) {
  return perConnection((connection) => {
    seen.push(connection);
    let count = 0;
    return {
      increment: () => ++count,
      greet: async () => `hello ${await connection.peer().call("name")}`,
    };
  });
}

Deno.test("perConnection over TCP: each connection has its own service, its remote address and its peer", async () => {
  const seen: ConnectionInfo[] = [];
  await using server = serveTcp({ port: 0 }, { ...options, service: counterPerConnection(seen) });
  await using a = await connectTcp(server.address, { ...options, service: { name: () => "a" } });
  await using b = await connectTcp(server.address, { ...options, service: { name: () => "b" } });
  assert.equal(await a.call("increment"), 1);
  assert.equal(await a.call("increment"), 2);
  assert.equal(await b.call("increment"), 1);
  assert.equal(await a.call("greet"), "hello a");
  assert.equal(await b.call("greet"), "hello b");
  assert.equal(seen.length, 2);
  for (const connection of seen) {
    assert.match(connection.remote, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(connection.request, undefined);
    assert.ok(server.peers.has(connection.peer()));
  }
});

Deno.test("perConnection over a Unix socket: the factory learns the socket's address", async () => {
  const dir = await Deno.makeTempDir();
  const seen: ConnectionInfo[] = [];
  await using server = serveTcp({ transport: "unix", path: `${dir}/rpc.sock` }, {
    ...options,
    service: counterPerConnection(seen),
  });
  await using client = await connectTcp(server.address, {
    ...options,
    service: { name: () => "unix" },
  });
  assert.equal(await client.call("greet"), "hello unix");
  const [connection] = seen;
  assert.equal(seen.length, 1);
  assert.match(connection!.remote, /^unix:/);
  await server.shutdown();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("perConnection over stdio: the child's service calls its parent back over the pipes", async () => {
  await using child = spawnStdio(Deno.execPath(), {
    args: ["run", new URL("./fixtures/stdio_per_connection.ts", import.meta.url).pathname],
    ...options,
    service: { name: () => "parent" },
    stderr: "piped",
  });
  assert.equal(await child.call("greet", [], { timeout: 20_000 }), "hello parent");
  assert.equal(await child.call("remote"), "stdio");
});

Deno.test("perConnection on a WebSocket route: the factory learns the handshake and the remote address", async () => {
  const seen: ConnectionInfo[] = [];
  await using server = serveHttp({
    routes: {
      "/rpc": {
        codec: jsonRpc(),
        service: {},
        websocket: { service: counterPerConnection(seen) },
      },
    },
  });
  const url = `${server.url.replace("http", "ws")}/rpc?room=7`;
  await using a = await connectWebSocket(url, { codec: jsonRpc(), service: { name: () => "a" } });
  await using b = await connectWebSocket(url, { codec: jsonRpc(), service: { name: () => "b" } });
  assert.equal(await a.call("increment"), 1);
  assert.equal(await a.call("increment"), 2);
  assert.equal(await b.call("increment"), 1);
  assert.equal(await b.call("greet"), "hello b");
  assert.equal(seen.length, 2);
  for (const connection of seen) {
    assert.equal(new URL(connection.request!.url).searchParams.get("room"), "7");
    assert.equal(connection.request!.headers.get("upgrade")?.toLowerCase(), "websocket");
    assert.match(connection.remote, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  }
});

Deno.test("a WebSocket route's service option takes an unmarked factory as well", async () => {
  await using server = serveHttp({
    routes: {
      "/rpc": {
        codec: jsonRpc(),
        service: {},
        websocket: { service: (connection) => ({ where: () => connection.request?.url }) },
      },
    },
  });
  await using client = await connectWebSocket(`${server.url.replace("http", "ws")}/rpc`, {
    codec: jsonRpc(),
  });
  assert.match(await client.call<string>("where"), /\/rpc$/);
});

Deno.test("a callable service is served as a service, not called as a factory", async () => {
  const callable = Object.assign(() => "never called", { ping: () => "pong" });
  await using server = serveTcp({ port: 0 }, { ...options, service: callable });
  await using client = await connectTcp(server.address, options);
  assert.equal(await client.call("ping"), "pong");
});

Deno.test("a bare function as the service is refused with a hint to perConnection", () => {
  assert.throws(
    () => serveTcp({ port: 0 }, { ...options, service: () => ({ ping: () => "pong" }) }),
    (error) => error instanceof TypeError && /perConnection/.test(error.message),
  );
});
