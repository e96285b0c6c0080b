/**
 * The WebSocket client's own limits, against servers that break them over
 * real sockets: a reply over `maxMessageSize` closes the socket with 1009
 * and a reason (`nodeWebSocket`; the standard `WebSocket` API cannot send
 * 1009, so it closes with 1000 and the same reason) and fails the call
 * naming it, never hangs; and a server that floods `nodeWebSocket` with
 * calls while it reads none of the replies is stopped by TCP backpressure
 * (the client pauses its socket) instead of growing the client's memory,
 * and is served in full once it reads again.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { ConnectionClosedError } from "../rpc/errors.ts";
import { connectWebSocket } from "../rpc/transports/websocket.ts";
import { nodeWebSocket } from "../rpc/transports/websocket/node_client.ts";

// Every wait is bounded by this (not a timing assertion).
const WAIT_MS = 10_000;

function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no outcome in ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// The messages of an error and its causes.
function causes(error: unknown): string {
  const messages: string[] = [];
  for (let at = error; at instanceof Error; at = at.cause) messages.push(at.message);
  return messages.join(" <- ");
}

for (const client of ["nodeWebSocket", "standard WebSocket"] as const) {
  Deno.test(`${client}: a reply over maxMessageSize closes with 1009 and a reason, and fails the call`, async () => {
    // A bare server that answers any message with 100 kB, and says how it was closed.
    const seen = Promise.withResolvers<{ code: number; reason: string }>();
    await using server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (request) => {
        const { socket, response } = Deno.upgradeWebSocket(request);
        socket.onmessage = (event) => {
          const { id } = JSON.parse(event.data);
          socket.send(JSON.stringify({ jsonrpc: "2.0", id, result: "x".repeat(100_000) }));
        };
        socket.onclose = (event) => seen.resolve({ code: event.code, reason: event.reason });
        return response;
      },
    );
    const peer = await connectWebSocket(`ws://127.0.0.1:${server.addr.port}/`, {
      codec: jsonRpc(),
      maxMessageSize: 4096,
      ...(client === "nodeWebSocket"
        ? { WebSocket: await nodeWebSocket({ maxMessageSize: 4096 }) }
        : {}),
    });
    const error = await within(peer.call("big"), "the call").catch((error) => error);
    assert.ok(error instanceof ConnectionClosedError, String(error));
    await within(peer.closed, "the peer's close");
    const { code, reason } = await within(seen.promise, "the server's close event");
    if (client === "nodeWebSocket") {
      assert.equal(code, 1009);
      assert.match(reason, /over 4096 bytes/);
      // The client's own close event says 1009, not 1006 (no close frame).
      assert.match(causes(error), /code 1009/);
    } else {
      assert.equal(code, 1000, "the standard API refuses 1009: it closes with 1000");
      assert.match(reason, /over 4096 bytes/);
      assert.match(causes(error), /exceeds the limit of 4096 bytes/);
    }
  });
}

// SHA-1 of the key and the RFC 6455 GUID, base64: the handshake's answer.
async function acceptOf(key: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-1",
    new TextEncoder().encode(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`),
  );
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

// Counts the client's (masked) text frames in what the server reads.
class FrameCounter {
  #bytes = new Uint8Array(0);
  texts = 0;

  add(chunk: Uint8Array): void {
    const bytes = new Uint8Array(this.#bytes.length + chunk.length);
    bytes.set(this.#bytes);
    bytes.set(chunk, this.#bytes.length);
    let at = 0;
    while (at + 2 <= bytes.length) {
      let length = bytes[at + 1]! & 0x7f;
      let head = 2;
      if (length === 126) {
        if (at + 4 > bytes.length) break;
        length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
        head = 4;
      } else assert.ok(length < 126, "a reply under 64 KiB");
      const end = at + head + 4 + length;
      if (end > bytes.length) break;
      if ((bytes[at]! & 0x0f) === 1) this.texts++;
      at = end;
    }
    this.#bytes = bytes.slice(at);
  }
}

// Writes all of `bytes` (a write may take part of them).
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<number> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
  return bytes.length;
}

// An unmasked server text frame (payload under 64 KiB).
function textFrame(payload: Uint8Array): Uint8Array {
  const head = payload.length < 126
    ? [0x81, payload.length]
    : [0x81, 126, payload.length >> 8, payload.length & 0xff];
  const frame = new Uint8Array(head.length + payload.length);
  frame.set(head);
  frame.set(payload, head.length);
  return frame;
}

Deno.test("nodeWebSocket: a server that floods calls and reads no reply is held back by TCP, then served in full", async () => {
  // Each request ~8 kB; 64 MiB of them in all, far over every limit below.
  const TOTAL = 64 * 1024 * 1024;
  const request = (id: number) =>
    textFrame(
      new TextEncoder().encode(
        JSON.stringify({ jsonrpc: "2.0", id, method: "echo", params: ["y".repeat(8000)] }),
      ),
    );
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const peer = connectWebSocket(`ws://127.0.0.1:${listener.addr.port}/`, {
    codec: jsonRpc(),
    service: { echo: (value: string) => value },
    limits: { maxQueuedBytes: 1024 * 1024 },
    WebSocket: await nodeWebSocket(),
  }).catch((error) => error);
  // The handshake, by hand (before the client resolves: it waits for it).
  const conn = await accepted;
  const buffer = new Uint8Array(64 * 1024);
  const n = await conn.read(buffer);
  const key = /sec-websocket-key:\s*(\S+)/i.exec(
    new TextDecoder().decode(buffer.subarray(0, n!)),
  )![1]!;
  await conn.write(
    new TextEncoder().encode(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${await acceptOf(key)}\r\n\r\n`,
    ),
  );
  const client = await peer;
  assert.ok(!(client instanceof Error), String(client));
  try {
    // Writes until one write makes no progress for a while: the client stopped reading.
    let written = 0;
    let id = 1;
    let stalled: Promise<number> | undefined;
    while (written < TOTAL) {
      const chunk = request(id++);
      const write = writeAll(conn, chunk);
      const progress = await Promise.race([
        write,
        new Promise<"stalled">((resolve) => setTimeout(() => resolve("stalled"), 1000)),
      ]);
      if (progress === "stalled") {
        stalled = write;
        break;
      }
      written += progress;
    }
    assert.ok(
      stalled !== undefined,
      `the client read all ${written} bytes of calls it could not answer`,
    );
    // Kernel buffers both ways, the client's 1 MiB of unread messages and of
    // unsent replies: nowhere near what the server wanted to send.
    assert.ok(written < 24 * 1024 * 1024, `${written} bytes went in before the client paused`);
    // The server reads again: the client resumes, and every call is answered.
    const replies = new FrameCounter();
    const reading = (async () => {
      const bytes = new Uint8Array(256 * 1024);
      for (let got = await conn.read(bytes); got !== null; got = await conn.read(bytes)) {
        replies.add(bytes.subarray(0, got));
        if (replies.texts >= id - 1) break;
      }
    })();
    await within(stalled, "the stalled write, once the server reads again");
    await within(reading, `the replies (${replies.texts} of ${id - 1})`, 30_000);
    assert.equal(replies.texts, id - 1, "every call answered");
  } finally {
    conn.close();
    await within(client.closed, "the client's close");
  }
});
