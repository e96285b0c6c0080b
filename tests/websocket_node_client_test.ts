/**
 * `nodeWebSocket`: the `ws` package's client under `connectWebSocket`, its
 * writes held while a chunk of frames is sent. Against `serveHttp`'s
 * WebSocket routes: every call answered with exact values, the calls of one
 * turn in one socket write (seen by a bare server that reads the raw
 * connection), and a reply over `maxMessageSize` refused by its header
 * (the `ws` package closes with 1009 and drops the connection) with the
 * call failed and the process alive, not an uncaught 'error'.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { msgpackRpc } from "../codecs/msgpack_rpc.ts";
import { ConnectionClosedError } from "../rpc/errors.ts";
import { serveHttp } from "../rpc/transports/http.ts";
import { connectWebSocket } from "../rpc/transports/websocket.ts";
import { nodeWebSocket } from "../rpc/transports/websocket/node_client.ts";

const service = {
  add: (a: number, b: number) => a + b,
  echo: (value: unknown) => value,
  big: (n: number) => "x".repeat(n),
};

Deno.test("nodeWebSocket: many calls in flight, JSON-RPC and msgpack-rpc, exact values", async () => {
  await using server = serveHttp({
    routes: {
      "/rpc": { codec: jsonRpc(), service, websocket: true },
      "/msgpack": { codec: msgpackRpc(), service, websocket: true },
    },
  });
  const base = server.url.replace("http", "ws");
  for (const [path, codec] of [["/rpc", jsonRpc()], ["/msgpack", msgpackRpc()]] as const) {
    await using peer = await connectWebSocket(`${base}${path}`, {
      codec,
      WebSocket: await nodeWebSocket(),
    });
    const sums = await Promise.all(
      Array.from({ length: 500 }, (_, i) => peer.call("add", [i, 1])),
    );
    assert.deepEqual(sums, Array.from({ length: 500 }, (_, i) => i + 1), path);
    if (path === "/msgpack") {
      // int64 stays bigint, bytes stay bytes, floats stay floats.
      assert.equal(await peer.call("echo", [2n ** 62n]), 2n ** 62n);
      assert.deepEqual(
        await peer.call("echo", [new Uint8Array([0, 1, 255])]),
        new Uint8Array([0, 1, 255]),
      );
      assert.equal(await peer.call("echo", [0.5]), 0.5);
    }
  }
});

// SHA-1 of the key and the RFC 6455 GUID, base64: the handshake's answer.
async function acceptOf(key: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-1",
    new TextEncoder().encode(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`),
  );
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

// Client frames (masked, payload under 126 bytes) in `bytes`, and whether they end whole.
function countFrames(bytes: Uint8Array): { frames: number; whole: boolean } {
  let frames = 0;
  let at = 0;
  while (at + 2 <= bytes.length) {
    const length = bytes[at + 1]! & 0x7f;
    assert.ok(length < 126, "a small frame");
    at += 2 + 4 + length;
    frames++;
  }
  return { frames, whole: at === bytes.length };
}

Deno.test("nodeWebSocket: the calls of one turn leave in one socket write", async () => {
  // A bare server: it answers the handshake, then reads what comes.
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const conn = await listener.accept();
    const buffer = new Uint8Array(64 * 1024);
    const n = await conn.read(buffer);
    const head = new TextDecoder().decode(buffer.subarray(0, n!));
    const key = /sec-websocket-key:\s*(\S+)/i.exec(head)![1]!;
    await conn.write(
      new TextEncoder().encode(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Accept: ${await acceptOf(key)}\r\n\r\n`,
      ),
    );
    // The first read after the calls: a single write of 20 frames arrives whole.
    const first = await conn.read(buffer);
    conn.close();
    return countFrames(buffer.subarray(0, first!));
  })();
  const peer = await connectWebSocket(`ws://127.0.0.1:${listener.addr.port}/`, {
    codec: jsonRpc(),
    WebSocket: await nodeWebSocket(),
  });
  const calls = Array.from({ length: 20 }, (_, i) => peer.call("add", [i, 1]).catch((e) => e));
  assert.deepEqual(await served, { frames: 20, whole: true });
  // The server went away without answering: every call fails, none hangs.
  for (const outcome of await Promise.all(calls)) assert.ok(outcome instanceof Error);
  await peer.close();
});

Deno.test("nodeWebSocket: a reply over maxMessageSize closes the socket and fails the call", async () => {
  await using server = serveHttp({
    routes: { "/rpc": { codec: jsonRpc(), service, websocket: true } },
  });
  const peer = await connectWebSocket(`${server.url.replace("http", "ws")}/rpc`, {
    codec: jsonRpc(),
    maxMessageSize: 4096,
    WebSocket: await nodeWebSocket({ maxMessageSize: 4096 }),
  });
  assert.equal(String(await peer.call("big", [100])).length, 100);
  await assert.rejects(peer.call("big", [100_000]), (error: Error) => {
    assert.ok(error instanceof ConnectionClosedError, String(error));
    return true;
  });
  await peer.closed;
});
