/**
 * The time limits of WebSocket connections, against a real `serveHttp` with
 * a raw client: a handshake that never completes (`headerTimeout`, 408), a
 * socket that says nothing after opening (`firstFrameTimeout`) or nothing
 * more (`idleTimeout`), both closed with 1001 and the limit's name, a call in
 * flight that keeps its connection open past `idleTimeout`, and a client
 * that answers no ping. The limits are set low so that the tests are quick;
 * every wait is bounded and no duration is asserted.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import type { RpcLimits } from "../rpc/limits.ts";
import { type HttpServer, serveHttp, type WebSocketRouteOptions } from "../rpc/transports/http.ts";
import { closePayload, frame, Op, RawSocket, type ServerFrame, WAIT_MS } from "./_raw_websocket.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const service = {
  add: (a: number, b: number) => a + b,
  slow: (ms: number) => new Promise((resolve) => setTimeout(resolve, ms, "slow done")),
};

function serve(
  limits: Partial<RpcLimits>,
  websocket: WebSocketRouteOptions = {},
  headerTimeout?: number,
): HttpServer {
  return serveHttp({
    routes: { "/rpc": { codec: jsonRpc(), service, limits, websocket } },
    ...(headerTimeout === undefined ? {} : { headerTimeout }),
  });
}

function call(id: number, method: string, params: unknown[]): Uint8Array {
  return frame(Op.Text, encoder.encode(JSON.stringify({ jsonrpc: "2.0", id, method, params })));
}

async function reply(socket: RawSocket): Promise<{ id: number; result: unknown }> {
  const got = await socket.readFrame();
  assert.notEqual(got, "eof", "the server closed instead of answering");
  assert.equal((got as ServerFrame).opcode, Op.Text);
  return JSON.parse(decoder.decode((got as ServerFrame).payload));
}

/** Everything the server sends until it closes the connection, as text. */
async function readAll(conn: Deno.Conn): Promise<string> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(4096);
  const deadline = AbortSignal.timeout(WAIT_MS);
  while (!deadline.aborted) {
    const n = await conn.read(buffer);
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
  }
  assert.ok(!deadline.aborted, `the server did not close within ${WAIT_MS} ms`);
  return decoder.decode(
    chunks.reduce((all, c) => new Uint8Array([...all, ...c]), new Uint8Array()),
  );
}

Deno.test("a socket that sends nothing after the handshake is closed with 1001 (firstFrameTimeout)", async () => {
  await using server = serve({ firstFrameTimeout: 100, idleTimeout: 60_000 });
  await using socket = await RawSocket.connect(server);
  assert.equal((await socket.handshake("/rpc")).status, 101);
  const { code, reason } = await socket.readClose();
  assert.equal(code, 1001);
  assert.match(reason, /firstFrameTimeout of 100/);
  // The client answers the close, as RFC 6455 asks; the server then closes the connection.
  await socket.write(frame(Op.Close, closePayload(1001)));
  await socket.assertDroppedWithoutCloseFrame();
});

Deno.test("a socket that stops sending is closed with 1001 (idleTimeout), after its calls are answered", async () => {
  await using server = serve({ firstFrameTimeout: 60_000, idleTimeout: 200 });
  await using socket = await RawSocket.connect(server);
  assert.equal((await socket.handshake("/rpc")).status, 101);
  await socket.write(call(1, "add", [1, 2]));
  assert.deepEqual(await reply(socket), { jsonrpc: "2.0", id: 1, result: 3 });
  // A call that runs longer than idleTimeout keeps its connection: it is busy, not idle.
  await socket.write(call(2, "slow", [600]));
  assert.deepEqual(await reply(socket), { jsonrpc: "2.0", id: 2, result: "slow done" });
  const { code, reason } = await socket.readClose();
  assert.equal(code, 1001);
  assert.match(reason, /idleTimeout of 200/);
});

Deno.test("a handshake whose head never ends gets 408 (headerTimeout); one over 64 KiB gets 431", async () => {
  await using server = serve({}, {}, 100);
  {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    await conn.write(encoder.encode("GET /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: web"));
    const answer = await readAll(conn);
    conn.close();
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.match(answer, /headerTimeout/);
  }
  {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    const huge = `GET /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ${"a".repeat(70_000)}`;
    await conn.write(encoder.encode(huge));
    const answer = await readAll(conn);
    conn.close();
    assert.match(answer, /^HTTP\/1\.1 431 /);
  }
  // A complete handshake is still served.
  await using socket = await RawSocket.connect(server);
  assert.equal((await socket.handshake("/rpc")).status, 101);
});

Deno.test("a client that answers no ping is dropped (pingInterval)", async () => {
  await using server = serve({}, { pingInterval: 0.05 });
  await using socket = await RawSocket.connect(server);
  assert.equal((await socket.handshake("/rpc")).status, 101);
  // The raw client reads the pings and answers none: after the next
  // interval the server ends the connection.
  let pings = 0;
  while (true) {
    const got = await socket.readFrame();
    if (got === "eof") break;
    assert.equal(got.opcode, Op.Ping);
    pings++;
  }
  assert.ok(pings >= 1, "the server pinged before dropping the connection");
});

Deno.test("Infinity turns the WebSocket timeouts off: the socket is served, not closed at once", async () => {
  await using server = serve(
    { firstFrameTimeout: Infinity, idleTimeout: Infinity },
    {},
    Infinity,
  );
  await using socket = await RawSocket.connect(server);
  assert.equal((await socket.handshake("/rpc")).status, 101);
  // With a timer of Infinity, setTimeout would have fired at once: 1001 before any call.
  await new Promise((resolve) => setTimeout(resolve, 50));
  await socket.write(call(1, "add", [1, 2]));
  assert.deepEqual(await reply(socket), { jsonrpc: "2.0", id: 1, result: 3 });
});
