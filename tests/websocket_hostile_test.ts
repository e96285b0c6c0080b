/**
 * Bad input at the WebSocket level, against a real `serveHttp` with
 * WebSocket routes: a raw TCP client does the handshake itself and sends
 * hand-made frames (invalid UTF-8, a 2^62-byte length, an unmasked frame,
 * garbage, bad close frames) and broken handshakes. For each, the server's
 * answer is read off the raw socket (its close frame and code, or the
 * connection dropped without one), the server-side peer of the hostile
 * socket is closed, and a well-behaved client connected all along is served
 * before and after.
 *
 * The sockets are the `ws` package's (serveHttp's WebSocket routes do not use
 * Deno.upgradeWebSocket, see rpc/transports/http/_front.ts), and they answer
 * as RFC 6455 asks: a close frame saying why, then the TCP connection closed
 * by the server: 1007 for invalid UTF-8 in a text message (whole or split
 * across fragments), 1009 for a frame longer than `maxMessageSize` (before
 * its payload is read), 1002 for every protocol error (an unmasked client
 * frame, a reserved opcode or RSV bit, a continuation with nothing to
 * continue, a control frame over 125 bytes or fragmented, a close frame of
 * one byte or with a code no endpoint may send). Deno's own server dropped
 * the connection without a close frame on most of these, and answered
 * unmasked frames.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { msgpackRpc } from "../codecs/msgpack_rpc.ts";
import type { Peer } from "../rpc/peer.ts";
import { connectWebSocket, type HttpServer, serveHttp } from "../rpc/transports/http.ts";
import {
  ACCEPT,
  claimedLength,
  closePayload,
  frame,
  Op,
  RawSocket,
  type ServerFrame,
  WAIT_MS,
} from "./_raw_websocket.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const service = {
  add: (a: number, b: number) => a + b,
  echo: (value: unknown) => value,
};

const addRequest = (id: number, a: number, b: number) =>
  encoder.encode(JSON.stringify({ jsonrpc: "2.0", id, method: "add", params: [a, b] }));

/** The server of a test, its well-behaved client and the peers it has served. */
interface Harness {
  readonly server: HttpServer;
  /** Connects a raw socket and completes the handshake to `path`, asserting 101. */
  upgraded(path: string): Promise<RawSocket>;
  /** Resolves when every server-side peer but the bystander's has closed. */
  othersClosed(): Promise<void>;
}

/**
 * Runs `body` against a server with WebSocket routes `/rpc` (JSON-RPC,
 * messages up to 1024 bytes) and `/msgpack`, and `/post-only` without
 * WebSocket; a well-behaved client on `/rpc` is connected all along and
 * must be served before and after.
 */
async function withServer(body: (harness: Harness) => Promise<void>): Promise<void> {
  const peers: Peer[] = [];
  const errors: unknown[] = [];
  const websocket = { onConnection: (peer: Peer) => void peers.push(peer) };
  await using server = serveHttp({
    routes: {
      "/rpc": { codec: jsonRpc(), service, websocket: { ...websocket, maxMessageSize: 1024 } },
      "/msgpack": { codec: msgpackRpc(), service, websocket },
      "/post-only": { codec: jsonRpc(), service },
    },
    onError: (error) => void errors.push(error),
  });
  await using bystander = await connectWebSocket(
    `${server.url.replace(/^http/, "ws")}/rpc`,
    { codec: jsonRpc(), timeout: WAIT_MS },
  );
  assert.equal(await bystander.call("add", [1, 2]), 3);
  assert.equal(peers.length, 1, "the bystander's server-side peer");
  const mine = peers[0]!;

  await body({
    server,
    async upgraded(path) {
      const socket = await RawSocket.connect(server);
      const answer = await socket.handshake(path);
      assert.equal(answer.status, 101, `handshake to ${path}: ${answer.status} ${answer.body}`);
      assert.equal(answer.headers.get("sec-websocket-accept"), ACCEPT);
      assert.equal(answer.headers.get("upgrade")?.toLowerCase(), "websocket");
      return socket;
    },
    othersClosed: async () => {
      await Promise.all(peers.filter((peer) => peer !== mine).map((peer) => peer.closed));
    },
  });

  // Served after, on the same connection, and with calls in flight together.
  assert.equal(await bystander.call("add", [20, 22]), 42);
  assert.deepEqual(
    await Promise.all([1, 2, 3].map((n) => bystander.call("echo", [`ü${n}`]))),
    ["ü1", "ü2", "ü3"],
  );
}

Deno.test("raw WebSocket client: the handshake, a masked text frame, ping and close work by hand", async () => {
  await withServer(async ({ upgraded, othersClosed }) => {
    await using socket = await upgraded("/rpc");
    await socket.write(frame(Op.Text, addRequest(1, 2, 3)));
    const reply = await socket.readFrame();
    assert.notEqual(reply, "eof");
    assert.equal((reply as ServerFrame).opcode, Op.Text);
    assert.deepEqual(JSON.parse(decoder.decode((reply as ServerFrame).payload)), {
      jsonrpc: "2.0",
      result: 5,
      id: 1,
    });
    // A message in two fragments is one message.
    const whole = addRequest(2, 40, 2);
    await socket.write(frame(Op.Text, whole.subarray(0, 10), { fin: false }));
    await socket.write(frame(Op.Continuation, whole.subarray(10)));
    const second = await socket.readFrame() as ServerFrame;
    assert.equal(JSON.parse(decoder.decode(second.payload)).result, 42);
    await socket.write(frame(Op.Ping, encoder.encode("hi")));
    const pong = await socket.readFrame() as ServerFrame;
    assert.equal(pong.opcode, Op.Pong);
    assert.equal(decoder.decode(pong.payload), "hi");
    await socket.write(frame(Op.Close, closePayload(1000, "bye")));
    assert.equal((await socket.readClose()).code, 1000);
    await socket.assertDroppedWithoutCloseFrame();
    await othersClosed();
  });
});

/** Asserts that the server sends a close frame with `code`, then closes the connection. */
async function assertClosedWith(socket: RawSocket, code: number, label: string): Promise<void> {
  const close = await socket.readClose();
  assert.equal(close.code, code, `${label}: close code ${close.code} (${close.reason})`);
  await socket.assertDroppedWithoutCloseFrame();
}

Deno.test("a text frame that is not valid UTF-8 is closed with 1007; others are served", async () => {
  await withServer(async ({ upgraded, othersClosed }) => {
    // "(" after a lead byte, and a byte that is never UTF-8.
    const invalid = new Uint8Array([0x22, 0xc3, 0x28, 0xff, 0x22]);
    {
      await using socket = await upgraded("/rpc");
      await socket.write(frame(Op.Text, invalid));
      await assertClosedWith(socket, 1007, "whole");
    }
    // The same split across two fragments, so no single frame is invalid on its own.
    {
      await using socket = await upgraded("/rpc");
      await socket.write(frame(Op.Text, invalid.subarray(0, 2), { fin: false }));
      await socket.write(frame(Op.Continuation, invalid.subarray(2)));
      await assertClosedWith(socket, 1007, "fragments");
    }
    // Also on the binary codec's route, where text is refused anyway.
    {
      await using socket = await upgraded("/msgpack");
      await socket.write(frame(Op.Text, invalid));
      await assertClosedWith(socket, 1007, "binary route");
    }
    await othersClosed();
  });
});

Deno.test("a frame claiming a 2^62-byte payload is closed with 1009 before its payload; others are served", async () => {
  await withServer(async ({ upgraded, othersClosed }) => {
    for (const path of ["/rpc", "/msgpack"]) {
      await using socket = await upgraded(path);
      await socket.write(claimedLength(Op.Binary, 2n ** 62n));
      await assertClosedWith(socket, 1009, path);
    }
    // A length with the top bit set (RFC 6455: the most significant bit must be 0).
    {
      await using socket = await upgraded("/rpc");
      await socket.write(claimedLength(Op.Text, 2n ** 63n));
      await assertClosedWith(socket, 1009, "2^63");
    }
    // A length just over what /rpc accepts (maxMessageSize 1024).
    {
      await using socket = await upgraded("/rpc");
      await socket.write(frame(Op.Text, encoder.encode(" ".repeat(2000))));
      await assertClosedWith(socket, 1009, "2000 bytes");
    }
    await othersClosed();
  });
});

Deno.test("an unmasked client frame is closed with 1002 (RFC 6455, 5.1); others are served", async () => {
  await withServer(async ({ upgraded, othersClosed }) => {
    await using socket = await upgraded("/rpc");
    await socket.write(frame(Op.Text, addRequest(7, 3, 4), { masked: false }));
    await assertClosedWith(socket, 1002, "unmasked");
    await othersClosed();
  });
});

Deno.test("garbage instead of a frame, reserved opcodes and bits, bad control and close frames are closed with 1002; others are served", async () => {
  await withServer(async ({ upgraded, othersClosed }) => {
    const cases: [string, Uint8Array][] = [
      ["an HTTP request line", encoder.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n")],
      ["random-looking bytes", new Uint8Array([0x3c, 0xff, 0x00, 0x81, 0x7f, 0x12, 0xee, 0x05])],
      ["RSV1-3 set without an extension", frame(Op.Text, addRequest(1, 1, 1), { rsv: 0x70 })],
      ["reserved data opcode 3", frame(3, new Uint8Array([1]))],
      ["reserved control opcode 0xb", frame(0xb, new Uint8Array(0))],
      ["a continuation with nothing to continue", frame(Op.Continuation, addRequest(1, 1, 1))],
      ["a ping of 126 bytes", frame(Op.Ping, new Uint8Array(126))],
      ["a fragmented ping", frame(Op.Ping, new Uint8Array(1), { fin: false })],
      ["a close frame of one byte", frame(Op.Close, new Uint8Array([0x03]))],
      ["a close with a code no endpoint may send (1005)", frame(Op.Close, closePayload(1005))],
    ];
    for (const [label, bytes] of cases) {
      await using socket = await upgraded("/msgpack");
      await socket.write(bytes);
      await assertClosedWith(socket, 1002, label);
    }
    await othersClosed();
  });
});

Deno.test("bad messages in well-formed frames get parley's close codes, read off the raw socket", async () => {
  await withServer(async ({ upgraded, othersClosed }) => {
    {
      await using socket = await upgraded("/msgpack");
      await socket.write(frame(Op.Text, encoder.encode('[0, 1, "add", [1, 2]]')));
      const { code, reason } = await socket.readClose();
      assert.equal(code, 1003);
      assert.equal(reason, "binary messages only");
    }
    {
      await using socket = await upgraded("/msgpack");
      await socket.write(frame(Op.Binary, new Uint8Array([0xc1])));
      const { code, reason } = await socket.readClose();
      assert.equal(code, 1007);
      assert.match(reason, /0xc1/);
    }
    // JSON-RPC answers a message that is not JSON with a parse error and keeps the socket.
    {
      await using socket = await upgraded("/rpc");
      await socket.write(frame(Op.Text, encoder.encode("{not json")));
      const reply = await socket.readFrame() as ServerFrame;
      const parsed = JSON.parse(decoder.decode(reply.payload));
      assert.equal(parsed.error.code, -32700);
      assert.equal(parsed.id, null);
      await socket.write(frame(Op.Text, addRequest(3, 1, 1)));
      const next = await socket.readFrame() as ServerFrame;
      assert.equal(JSON.parse(decoder.decode(next.payload)).result, 2);
    }
    await othersClosed();
  });
});

Deno.test("handshakes to a wrong path (404), a path without WebSocket (400), or without a key are refused; others are served", async () => {
  await withServer(async ({ server }) => {
    {
      await using socket = await RawSocket.connect(server);
      const answer = await socket.handshake("/nowhere");
      assert.equal(answer.status, 404);
      assert.equal(answer.headers.get("sec-websocket-accept"), null);
    }
    {
      await using socket = await RawSocket.connect(server);
      const answer = await socket.handshake("/post-only");
      assert.equal(answer.status, 400);
      assert.match(answer.body, /does not accept WebSocket/);
      assert.equal(answer.headers.get("sec-websocket-accept"), null);
    }
    for (const missing of ["sec-websocket-key", "connection"]) {
      await using socket = await RawSocket.connect(server);
      const answer = await socket.handshake("/rpc", { [missing]: undefined });
      assert.equal(answer.status, 400, `without ${missing}: ${answer.status}`);
      assert.equal(answer.headers.get("sec-websocket-accept"), null);
    }
  });
});

// Deno.upgradeWebSocket throws on a handshake without Sec-WebSocket-Key or
// without "Connection: Upgrade": the client's mistake is a 400, not a 500.
Deno.test({
  name: "a handshake without Sec-WebSocket-Key or Connection: Upgrade is 400, not 500",
  fn: async () => {
    await withServer(async ({ server }) => {
      for (const missing of ["sec-websocket-key", "connection"]) {
        await using socket = await RawSocket.connect(server);
        const answer = await socket.handshake("/rpc", { [missing]: undefined });
        assert.equal(answer.status, 400, `without ${missing}: ${answer.status} ${answer.body}`);
      }
    });
  },
});
