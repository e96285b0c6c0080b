import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { ConnectionClosedError } from "../rpc/errors.ts";
import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
import type { Peer } from "../rpc/peer.ts";
import {
  type ListenAddress,
  reconnectTcp,
  serveTcp,
  type SocketAddress,
  type SocketServer,
  type TcpAddress,
  type TlsAddress,
} from "../rpc/transports/tcp.ts";
import { makeCertificates } from "./_certificates.ts";

const options = { codec: jsonRpc(), framing: lengthPrefix() };
const service = {
  add: (a: number, b: number) => a + b,
  never: () => new Promise(() => {}),
};
const backoff = { initialDelay: 10, maxDelay: 50 };

// Stops a server whose connections have calls that never end: closes them, then the listener.
async function stop(server: SocketServer): Promise<void> {
  await Promise.all([...server.peers].map((peer) => peer.close()));
  await server.shutdown();
}

// The address to connect to: the server's, with what the client needs to trust it (TLS).
async function survivesARestart(
  address: ListenAddress,
  trust: (server: SocketServer) => SocketAddress = (server) => server.address,
) {
  let server = serveTcp(address, { ...options, service });
  // The same port (or path) again: the first server's.
  const again: ListenAddress = "port" in address
    ? { ...address, port: (server.address as TcpAddress).port }
    : address;
  const connected: Peer[] = [];
  await using client = await reconnectTcp(trust(server), {
    ...options,
    reconnect: backoff,
    onConnect: (peer) => connected.push(peer),
  });
  assert.equal(await client.call("add", [1, 2]), 3);
  assert.equal(client.connections, 1);

  // The server goes away: the call waiting for its reply fails at once, and says why.
  const waiting = client.call("never");
  await stop(server);
  await assert.rejects(waiting, (error) => {
    assert.ok(error instanceof ConnectionClosedError);
    assert.match(error.message, /dropped before "never" was answered; reconnecting/);
    return true;
  });
  await connected[0]!.closed;
  assert.equal(client.connected, false);

  // A call made during the outage waits for the server that comes back at the same address.
  const during = client.call("add", [2, 3], { timeout: 20_000 });
  during.catch(() => {}); // awaited below, once the server is back
  server = serveTcp(again, { ...options, service });
  assert.equal(await during, 5);
  assert.equal(client.connections, 2);
  assert.equal(connected.length, 2);
  assert.equal(await client.call("add", [3, 4]), 7);
  await client.close();
  await server.shutdown();
}

Deno.test("reconnectTcp: a TCP server stopped and restarted on the same port is reconnected to", async () => {
  await survivesARestart({ hostname: "127.0.0.1", port: 0 });
});

Deno.test("reconnectTcp: a Unix-socket server stopped and restarted on the same path is reconnected to", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/rpc.sock`;
  await survivesARestart({ transport: "unix", path });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("reconnectTcp: a TLS server stopped and restarted on the same port is reconnected to, trusted again", async () => {
  await using certs = await makeCertificates();
  await survivesARestart(
    { transport: "tls", hostname: "127.0.0.1", port: 0, cert: certs.cert, key: certs.key },
    (server) => ({ ...(server.address as TlsAddress), caCerts: [certs.ca] }),
  );
});

Deno.test("reconnectTcp: an error that does not retry gives up at once and closes the client", async () => {
  const server = serveTcp({ port: 0 }, { ...options, service });
  const connected: Peer[] = [];
  const client = await reconnectTcp(server.address, {
    ...options,
    reconnect: {
      ...backoff,
      retryOn: (error) => !(error instanceof Deno.errors.ConnectionRefused),
    },
    onConnect: (peer) => connected.push(peer),
  });
  await stop(server);
  await connected[0]!.closed;
  await assert.rejects(client.call("add", [1, 2]), (error) => {
    assert.ok(error instanceof ConnectionClosedError);
    assert.ok(error.cause instanceof ConnectionClosedError);
    assert.match(error.cause.message, /after an error that does not retry \(attempt 1\)$/);
    assert.ok(error.cause.cause instanceof Deno.errors.ConnectionRefused);
    return true;
  });
  await client.closed;
  assert.equal(client.connections, 1);
});

Deno.test("reconnectTcp: after maxAttempts refused attempts, waiting calls fail with the reason", async () => {
  const server = serveTcp({ port: 0 }, { ...options, service });
  const connected: Peer[] = [];
  const client = await reconnectTcp(server.address, {
    ...options,
    reconnect: { ...backoff, maxAttempts: 3 },
    onConnect: (peer) => connected.push(peer),
  });
  await stop(server);
  await connected[0]!.closed;
  await assert.rejects(client.call("add", [1, 2], { timeout: 20_000 }), (error) => {
    assert.ok(error instanceof ConnectionClosedError);
    assert.match(error.message, /closed/);
    const cause = error.cause;
    assert.ok(cause instanceof ConnectionClosedError);
    assert.match(
      cause.message,
      /^Gave up reconnecting to tcp:\/\/127\.0\.0\.1:\d+ after 3 attempts$/,
    );
    assert.ok(cause.cause instanceof Deno.errors.ConnectionRefused);
    return true;
  });
  await client.closed;
});

Deno.test("reconnectTcp: the first connection's failure is the caller's", async () => {
  const server = serveTcp({ port: 0 }, { ...options, service });
  const address = server.address;
  await server.shutdown();
  await assert.rejects(reconnectTcp(address, options), Deno.errors.ConnectionRefused);
});
