import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { msgpackRpc } from "../codecs/msgpack_rpc.ts";
import { xmlRpc } from "../codecs/xml_rpc.ts";
import { LimitError, RpcError } from "../rpc/errors.ts";
import type { Peer } from "../rpc/peer.ts";
import { CloseCode, connectWebSocket, serveHttp } from "../rpc/transports/http.ts";
import { spawnListening } from "./interop/_process.ts";

const service = {
  add: (a: number, b: number) => a + b,
  echo: (value: unknown) => value,
  slow: (ms: number) => new Promise((resolve) => setTimeout(resolve, ms, "slow done")),
};

function wsUrl(server: { url: string }, path: string): string {
  return `${server.url.replace(/^http/, "ws")}${path}`;
}

// Opens a bare WebSocket and resolves with how it closed.
async function closeOf(
  url: string,
  act: (socket: WebSocket) => void,
): Promise<{ code: number; reason: string }> {
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.onclose = (event) => resolve({ code: event.code, reason: event.reason });
  });
  act(socket);
  return await closed;
}

Deno.test("WebSocket: JSON-RPC calls both ways, notifications, server push", async () => {
  let serverSide: Peer | undefined;
  const seenHeaders: string[] = [];
  await using server = serveHttp({
    routes: {
      "/rpc": {
        codec: jsonRpc(),
        service,
        websocket: {
          onConnection: (peer, request) => {
            serverSide = peer;
            seenHeaders.push(request.headers.get("host") ?? "");
          },
        },
      },
    },
  });
  const pushed: string[] = [];
  await using client = await connectWebSocket(wsUrl(server, "/rpc"), {
    codec: jsonRpc(),
    service: { show: (text: string) => void pushed.push(text), name: () => "page" },
  });
  assert.equal(await client.call("add", [1, 2]), 3);
  assert.deepEqual(await client.call("echo", [{ a: [1, "ü"] }]), { a: [1, "ü"] });
  const all = await Promise.all([client.call("slow", [30]), client.call("add", [2, 2])]);
  assert.deepEqual(all, ["slow done", 4]);
  await assert.rejects(
    client.call("nope"),
    (e: unknown) => e instanceof RpcError && e.code === -32601,
  );
  // The server calls the page and pushes to it.
  assert.equal(await serverSide!.call("name"), "page");
  await serverSide!.notify("show", ["hello"]);
  assert.equal(await serverSide!.call("name"), "page"); // the notification arrived before this reply
  assert.deepEqual(pushed, ["hello"]);
  assert.equal(seenHeaders.length, 1);
  assert.match(seenHeaders[0]!, /127\.0\.0\.1/);
  // The same path still answers POST.
  const response = await fetch(`${server.url}/rpc`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"jsonrpc":"2.0","method":"add","params":[5,5],"id":1}',
  });
  assert.deepEqual(await response.json(), { jsonrpc: "2.0", result: 10, id: 1 });
});

Deno.test("WebSocket: msgpack-rpc in binary messages and XML-RPC in text messages", async () => {
  await using server = serveHttp({
    routes: {
      "/msgpack": { codec: msgpackRpc(), service, websocket: true },
      "/xml": { codec: xmlRpc(), service, websocket: true },
    },
  });
  await using msgpack = await connectWebSocket(wsUrl(server, "/msgpack"), { codec: msgpackRpc() });
  const bytes = new Uint8Array([0, 1, 255]);
  assert.deepEqual(await msgpack.call("echo", [bytes]), bytes);
  assert.equal(await msgpack.call("echo", [2n ** 62n]), 2n ** 62n);
  await using xml = await connectWebSocket(wsUrl(server, "/xml"), { codec: xmlRpc() });
  // XML-RPC matches replies by order; one connection keeps them in order.
  const sums = await Promise.all([1, 2, 3].map((n) => xml.call("add", [n, n])));
  assert.deepEqual(sums, [2, 4, 6]);
});

Deno.test("WebSocket: bad input closes that socket with the right code; others are served", async () => {
  await using server = serveHttp({
    routes: {
      "/json": { codec: jsonRpc(), service, websocket: { maxMessageSize: 1024 } },
      "/msgpack": { codec: msgpackRpc(), service, websocket: true },
      "/post-only": { codec: jsonRpc(), service },
    },
    onError: () => {},
  });
  await using bystander = await connectWebSocket(wsUrl(server, "/json"), { codec: jsonRpc() });
  assert.equal(await bystander.call("add", [1, 1]), 2);

  const big = await closeOf(wsUrl(server, "/json"), (s) => s.send("x".repeat(2000)));
  assert.equal(big.code, CloseCode.MessageTooBig);
  const text = await closeOf(wsUrl(server, "/msgpack"), (s) => s.send("[0, 1, 'add', []]"));
  assert.equal(text.code, CloseCode.UnsupportedData);
  const garbage = await closeOf(wsUrl(server, "/msgpack"), (s) => s.send(new Uint8Array([0xc1])));
  assert.equal(garbage.code, CloseCode.InvalidPayload);
  const huge = await closeOf(
    wsUrl(server, "/msgpack"),
    (s) => s.send(new Uint8Array([0x94, 0, 1, 0xdb, 0xff, 0xff, 0xff, 0xff])),
  );
  assert.equal(huge.code, CloseCode.InvalidPayload);
  // JSON-RPC answers a bad JSON message with a parse error and keeps the socket.
  await using json = await connectWebSocket(wsUrl(server, "/json"), { codec: jsonRpc() });
  assert.equal(await json.call("add", [2, 3]), 5);

  // Handshakes to a wrong path or a path without WebSocket are refused.
  await assert.rejects(connectWebSocket(wsUrl(server, "/nowhere"), { codec: jsonRpc() }));
  await assert.rejects(connectWebSocket(wsUrl(server, "/post-only"), { codec: jsonRpc() }));
  const refused = await fetch(`${server.url}/post-only`, {
    headers: {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
    },
  });
  assert.equal(refused.status, 400);
  await refused.body?.cancel();

  assert.equal(await bystander.call("add", [20, 22]), 42);
});

Deno.test("WebSocket: shutdown lets calls in flight finish, then closes the sockets normally", async () => {
  const server = serveHttp({ routes: { "/rpc": { codec: jsonRpc(), service, websocket: true } } });
  const client = await connectWebSocket(wsUrl(server, "/rpc"), { codec: jsonRpc() });
  const call = client.call("slow", [50]);
  await new Promise((resolve) => setTimeout(resolve, 10));
  await server.shutdown();
  assert.equal(await call, "slow done");
  await client.closed;
  await assert.rejects(client.call("add", [1, 2]));
});

Deno.test("WebSocket: the calculator serves every codec over ws at /rpc", async () => {
  for (
    const [name, codec] of [["jsonrpc", jsonRpc()], ["xmlrpc", xmlRpc()], [
      "msgpack",
      msgpackRpc(),
    ]] as const
  ) {
    await using calculator = await spawnListening(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-env",
        "examples/calculator.ts",
        "--codec",
        name,
        "--transport",
        "ws",
        "--port",
        "0",
      ],
    });
    assert.match(calculator.url, /^ws:\/\/127\.0\.0\.1:\d+\/rpc$/);
    await using client = await connectWebSocket(calculator.url, { codec });
    assert.equal(await client.call("add", [40, 2]), 42, name);
    assert.equal(await client.call("echo", ["héllo ✓"]), "héllo ✓", name);
    await assert.rejects(
      client.call("calculate", [1, { num1: 1, num2: 0, op: 4 }]),
      (e: unknown) => e instanceof RpcError && e.code === 1,
      name,
    );
  }
});

// A server whose one connection is a client that does the WebSocket
// handshake and then reads nothing; `peer` is the server's side of it.
async function nonReadingClient(limits: { maxQueuedBytes?: number } = {}) {
  const connected = Promise.withResolvers<Peer>();
  const server = serveHttp({
    routes: {
      "/rpc": {
        codec: jsonRpc(),
        service,
        limits,
        websocket: { highWaterMark: 64 * 1024, onConnection: (peer) => connected.resolve(peer) },
      },
    },
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  await conn.write(new TextEncoder().encode(
    `GET /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${
      btoa("0123456789abcdef")
    }\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ));
  const peer = await connected.promise;
  let closing: Promise<void> | undefined;
  return {
    peer,
    [Symbol.asyncDispose](): Promise<void> {
      closing ??= (async () => {
        conn.close();
        await server.shutdown();
      })();
      return closing;
    },
  };
}

Deno.test("WebSocket: a client that stops reading slows the server's sends instead of growing its queue", async () => {
  await using client = await nonReadingClient();
  // A producer that waits for each send, as a well-behaved one does.
  const chunk = "x".repeat(64 * 1024);
  let handed = 0;
  const producing = (async () => {
    for (let i = 0; i < 400; i++) {
      await client.peer.notify("show", [chunk]);
      handed++;
    }
  })().catch(() => {}); // ends with the connection
  await new Promise((resolve) => setTimeout(resolve, 500));
  // 25 MiB cannot all be handed over while nobody reads: the producer waits.
  assert.ok(handed < 400, `handed ${handed} of 400 without a reader`);
  await client[Symbol.asyncDispose]();
  await producing;
});

Deno.test("WebSocket: notifications fired without waiting at a client that does not read fail with LimitError", async () => {
  await using client = await nonReadingClient({ maxQueuedBytes: 1024 * 1024 });
  const chunk = "x".repeat(64 * 1024);
  // Fired all at once: those within maxQueuedBytes are queued, the rest refused.
  const outcomes = Array.from(
    { length: 128 },
    () => client.peer.notify("show", [chunk]).then(() => "queued", (e) => e),
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  await client[Symbol.asyncDispose]();
  const settled = await Promise.all(outcomes);
  const refused = settled.filter((o) => o instanceof LimitError).length;
  assert.ok(refused > 0 && refused < 128, `refused ${refused} of 128`);
});
