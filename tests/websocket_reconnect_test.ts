import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { ConnectionClosedError } from "../rpc/errors.ts";
import type { Peer } from "../rpc/peer.ts";
import { serveHttp } from "../rpc/transports/http.ts";
import { reconnectWebSocket } from "../rpc/transports/websocket.ts";

const service = {
  add: (a: number, b: number) => a + b,
  never: () => new Promise(() => {}),
};

function start(port = 0, peers: Peer[] = []) {
  return serveHttp({
    port,
    routes: {
      "/rpc": {
        codec: jsonRpc(),
        service,
        websocket: { onConnection: (peer) => peers.push(peer) },
      },
    },
  });
}

Deno.test("reconnectWebSocket: a drop fails the pending call clearly, then reconnects", async () => {
  const peers: Peer[] = [];
  await using server = start(0, peers);
  const connected: Peer[] = [];
  await using client = await reconnectWebSocket(`ws://127.0.0.1:${server.addr.port}/rpc`, {
    codec: jsonRpc(),
    reconnect: { initialDelay: 10, maxDelay: 50 },
    onConnect: (peer) => connected.push(peer),
  });
  assert.equal(await client.call("add", [1, 2]), 3);
  const pending = assert.rejects(
    client.call("never"),
    (e: unknown) => e instanceof ConnectionClosedError && /dropped before "never"/.test(e.message),
  );
  await new Promise((resolve) => setTimeout(resolve, 20));
  // The server drops the connection with the call in flight.
  await peers[0]!.close();
  await pending;
  // Calls made while reconnecting wait for the new connection.
  assert.equal(await client.call("add", [2, 2], { timeout: 5_000 }), 4);
  assert.equal(client.connections, 2);
  assert.equal(connected.length, 2);
  assert.ok(client.connected);
});

Deno.test("reconnectWebSocket: survives a server restart on the same port", async () => {
  const first = start();
  const port = first.addr.port;
  await using client = await reconnectWebSocket(`ws://127.0.0.1:${port}/rpc`, {
    codec: jsonRpc(),
    reconnect: { initialDelay: 10, maxDelay: 50 },
  });
  assert.equal(await client.call("add", [1, 1]), 2);
  await first.shutdown();
  const waiting = client.call("add", [3, 4], { timeout: 10_000 });
  await using second = start(port);
  assert.equal(await waiting, 7);
  assert.equal(second.addr.port, port);
});

Deno.test("reconnectWebSocket: a call waiting for a connection times out, and maxAttempts gives up", async () => {
  const server = start();
  const client = await reconnectWebSocket(`ws://127.0.0.1:${server.addr.port}/rpc`, {
    codec: jsonRpc(),
    reconnect: { initialDelay: 10, maxDelay: 20, maxAttempts: 3 },
  });
  await server.shutdown();
  await assert.rejects(
    client.call("add", [1, 1], { timeout: 5 }),
    (e: unknown) => e instanceof ConnectionClosedError,
  );
  await client.closed;
  await assert.rejects(
    client.call("add", [1, 1]),
    (e: unknown) => e instanceof ConnectionClosedError && /closed/.test(e.message),
  );
});

Deno.test("reconnectWebSocket: close() stops reconnecting and fails waiting calls", async () => {
  const server = start();
  const client = await reconnectWebSocket(`ws://127.0.0.1:${server.addr.port}/rpc`, {
    codec: jsonRpc(),
    reconnect: { initialDelay: 10_000 },
  });
  await server.shutdown();
  const waiting = client.call("add", [1, 1]);
  await client.close();
  await assert.rejects(waiting, ConnectionClosedError);
  assert.equal(client.connected, false);
});

Deno.test("reconnectWebSocket: the first connection must succeed", async () => {
  const server = start();
  const port = server.addr.port;
  await server.shutdown();
  await assert.rejects(reconnectWebSocket(`ws://127.0.0.1:${port}/rpc`, { codec: jsonRpc() }));
});
