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
 * What Deno's WebSocket implementation does, as found here: on a protocol
 * error (invalid UTF-8 in a text message, a frame longer than it accepts, a
 * reserved opcode or RSV bit, a continuation with nothing to continue, a
 * control frame over 125 bytes or fragmented) it drops the TCP connection
 * without a close frame — RFC 6455 allows this ("Fail the WebSocket
 * Connection"), it just never says 1007 or 1002 then. It answers a close
 * frame with a reserved code (1005) with a close of 1002. It accepts unmasked
 * client frames (RFC 6455 section 5.1 says the server must close the
 * connection): the assertion below says so and fails once Deno starts
 * refusing them.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { msgpackRpc } from "../codecs/msgpack_rpc.ts";
import type { Peer } from "../rpc/peer.ts";
import { connectWebSocket, type HttpServer, serveHttp } from "../rpc/transports/http.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Every wait on the raw socket is bounded by this (not a timing assertion). */
const WAIT_MS = 10_000;
/** The key of RFC 6455's example, and the accept value it must get. */
const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

const Op = { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 } as const;

const service = {
  add: (a: number, b: number) => a + b,
  echo: (value: unknown) => value,
};

/** A frame as the server sent it. */
interface ServerFrame {
  readonly fin: boolean;
  readonly opcode: number;
  readonly payload: Uint8Array;
}

/** The answer to a handshake. */
interface HandshakeAnswer {
  readonly status: number;
  readonly headers: Headers;
  /** The body, for an answer other than 101 (by its Content-Length). */
  readonly body: string;
}

/** A bare TCP connection that speaks WebSocket by hand. */
class RawSocket implements AsyncDisposable {
  readonly #conn: Deno.Conn;
  #buffer = new Uint8Array(0);
  #pending: Promise<Uint8Array | null> | undefined;
  #closed = false;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  static async connect(server: HttpServer): Promise<RawSocket> {
    return new RawSocket(await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port }));
  }

  /**
   * Sends a handshake for `path`, with `headers` over the usual ones
   * (`undefined` leaves a header out), and reads the answer.
   */
  async handshake(
    path: string,
    headers: Record<string, string | undefined> = {},
  ): Promise<HandshakeAnswer> {
    const all: Record<string, string | undefined> = {
      host: `127.0.0.1:${(this.#conn.remoteAddr as Deno.NetAddr).port}`,
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": KEY,
      "sec-websocket-version": "13",
      ...headers,
    };
    let request = `GET ${path} HTTP/1.1\r\n`;
    for (const [name, value] of Object.entries(all)) {
      if (value !== undefined) request += `${name}: ${value}\r\n`;
    }
    await this.write(encoder.encode(`${request}\r\n`));
    let end: number;
    while ((end = indexOfHeadEnd(this.#buffer)) < 0) {
      if (!(await this.#fill())) throw new Error("the server closed during the handshake");
    }
    const head = decoder.decode(this.#take(end + 4)).split("\r\n");
    const status = Number(head[0]!.split(" ")[1]);
    const answerHeaders = new Headers();
    for (const line of head.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) {
        answerHeaders.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
    }
    let body = "";
    if (status !== 101) {
      const length = Number(answerHeaders.get("content-length") ?? "0");
      if (!(await this.#need(length))) throw new Error("the server closed during the body");
      body = decoder.decode(this.#take(length));
    }
    return { status, headers: answerHeaders, body };
  }

  async write(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
  }

  /** The server's next frame, or `"eof"` when it closes the connection first. */
  async readFrame(): Promise<ServerFrame | "eof"> {
    if (!(await this.#need(2))) return "eof";
    const first = this.#buffer[0]!;
    const second = this.#buffer[1]!;
    assert.equal(second & 0x80, 0, "a server frame must not be masked");
    let length = second & 0x7f;
    let header = 2;
    if (length === 126) {
      if (!(await this.#need(4))) return "eof";
      length = (this.#buffer[2]! << 8) | this.#buffer[3]!;
      header = 4;
    } else if (length === 127) {
      if (!(await this.#need(10))) return "eof";
      length = Number(new DataView(this.#buffer.buffer, this.#buffer.byteOffset).getBigUint64(2));
      header = 10;
    }
    if (!(await this.#need(header + length))) return "eof";
    this.#take(header);
    return { fin: (first & 0x80) !== 0, opcode: first & 0x0f, payload: this.#take(length) };
  }

  /** The server's next frame, which must be a close frame: its code and reason. */
  async readClose(): Promise<{ code: number; reason: string }> {
    const frame = await this.readFrame();
    assert.notEqual(frame, "eof", "the server dropped the connection without a close frame");
    const { opcode, payload } = frame as ServerFrame;
    assert.equal(opcode, Op.Close, `expected a close frame, got opcode ${opcode}`);
    assert.ok(payload.length >= 2, "a close frame without a code");
    return {
      code: (payload[0]! << 8) | payload[1]!,
      reason: decoder.decode(payload.subarray(2)),
    };
  }

  /** Asserts that the server closes the connection with no frame before. */
  async assertDroppedWithoutCloseFrame(): Promise<void> {
    const frame = await this.readFrame();
    if (frame === "eof") return;
    assert.fail(
      `expected the connection dropped, got a frame: opcode ${frame.opcode}` +
        (frame.opcode === Op.Close && frame.payload.length >= 2
          ? `, close code ${(frame.payload[0]! << 8) | frame.payload[1]!}`
          : ""),
    );
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Closed already.
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return this.#pending?.then(() => {}, () => {}) ?? Promise.resolve();
  }

  async #need(n: number): Promise<boolean> {
    while (this.#buffer.length < n) {
      if (!(await this.#fill())) return false;
    }
    return true;
  }

  // Reads more bytes; false at the end of the stream (or a reset). One read
  // at most is outstanding: one that timed out is awaited again next time.
  async #fill(): Promise<boolean> {
    this.#pending ??= (async () => {
      const chunk = new Uint8Array(64 * 1024);
      try {
        const n = await this.#conn.read(chunk);
        return n === null ? null : chunk.subarray(0, n);
      } catch (error) {
        if (error instanceof Deno.errors.ConnectionReset) return null;
        throw error;
      }
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), WAIT_MS);
    });
    const got = await Promise.race([this.#pending, timeout]);
    clearTimeout(timer);
    if (got === "timeout") throw new Error(`no bytes and no close within ${WAIT_MS} ms`);
    this.#pending = undefined;
    if (got === null) return false;
    const joined = new Uint8Array(this.#buffer.length + got.length);
    joined.set(this.#buffer);
    joined.set(got, this.#buffer.length);
    this.#buffer = joined;
    return true;
  }

  #take(n: number): Uint8Array {
    const taken = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return taken;
  }
}

function indexOfHeadEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

/** Options of {@linkcode frame}. */
interface FrameOptions {
  readonly fin?: boolean;
  readonly masked?: boolean;
  /** RSV1-3 bits, as the top bits of the first byte (0x70 for all three). */
  readonly rsv?: number;
}

/** A client frame: masked (unless told otherwise), FIN set, with its real length. */
function frame(opcode: number, payload: Uint8Array, options: FrameOptions = {}): Uint8Array {
  const masked = options.masked ?? true;
  const head: number[] = [((options.fin ?? true) ? 0x80 : 0) | (options.rsv ?? 0) | opcode];
  const maskBit = masked ? 0x80 : 0;
  if (payload.length < 126) head.push(maskBit | payload.length);
  else if (payload.length < 65536) {
    head.push(maskBit | 126, payload.length >> 8, payload.length & 0xff);
  } else {
    head.push(maskBit | 127);
    const length = new Uint8Array(8);
    new DataView(length.buffer).setBigUint64(0, BigInt(payload.length));
    head.push(...length);
  }
  const key = [0x37, 0xfa, 0x21, 0x3d];
  if (masked) head.push(...key);
  const body = masked ? payload.map((byte, i) => byte ^ key[i % 4]!) : payload;
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** A masked frame header that claims `length` bytes (64-bit form), with no payload after it. */
function claimedLength(opcode: number, length: bigint): Uint8Array {
  const out = new Uint8Array(14);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | 127;
  new DataView(out.buffer).setBigUint64(2, length);
  out.set([1, 2, 3, 4], 10);
  return out;
}

function closePayload(code: number, reason = ""): Uint8Array {
  const text = encoder.encode(reason);
  const out = new Uint8Array(2 + text.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}

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

Deno.test("a text frame that is not valid UTF-8 drops that connection (no 1007 frame); others are served", async () => {
  await withServer(async ({ upgraded, othersClosed }) => {
    // "(" after a lead byte, and a byte that is never UTF-8.
    const invalid = new Uint8Array([0x22, 0xc3, 0x28, 0xff, 0x22]);
    {
      await using socket = await upgraded("/rpc");
      await socket.write(frame(Op.Text, invalid));
      await socket.assertDroppedWithoutCloseFrame();
    }
    // The same split across two fragments, so no single frame is invalid on its own.
    {
      await using socket = await upgraded("/rpc");
      await socket.write(frame(Op.Text, invalid.subarray(0, 2), { fin: false }));
      await socket.write(frame(Op.Continuation, invalid.subarray(2)));
      await socket.assertDroppedWithoutCloseFrame();
    }
    // Also on the binary codec's route, where text is refused anyway.
    {
      await using socket = await upgraded("/msgpack");
      await socket.write(frame(Op.Text, invalid));
      await socket.assertDroppedWithoutCloseFrame();
    }
    await othersClosed();
  });
});

Deno.test("a frame claiming a 2^62-byte payload drops that connection; others are served", async () => {
  await withServer(async ({ upgraded, othersClosed }) => {
    for (const path of ["/rpc", "/msgpack"]) {
      await using socket = await upgraded(path);
      await socket.write(claimedLength(Op.Binary, 2n ** 62n));
      await socket.assertDroppedWithoutCloseFrame();
    }
    // A length with the top bit set (RFC 6455: the most significant bit must be 0).
    {
      await using socket = await upgraded("/rpc");
      await socket.write(claimedLength(Op.Text, 2n ** 63n));
      await socket.assertDroppedWithoutCloseFrame();
    }
    // A length just over what parley accepts on /rpc: all of it arrives, and parley closes with 1009.
    {
      await using socket = await upgraded("/rpc");
      await socket.write(frame(Op.Text, encoder.encode(" ".repeat(2000))));
      const { code, reason } = await socket.readClose();
      assert.equal(code, 1009);
      assert.match(reason, /over 1024 bytes/);
    }
    await othersClosed();
  });
});

Deno.test("an unmasked client frame: Deno answers it (RFC 6455 says close, 1002); others are served", async () => {
  await withServer(async ({ upgraded, othersClosed }) => {
    await using socket = await upgraded("/rpc");
    await socket.write(frame(Op.Text, addRequest(7, 3, 4), { masked: false }));
    const answer = await socket.readFrame();
    // What Deno 2 does: the frame is read as if masked and answered. When
    // this fails, Deno refuses unmasked frames: expect a close with 1002 or
    // a dropped connection here instead.
    assert.notEqual(answer, "eof");
    assert.equal((answer as ServerFrame).opcode, Op.Text);
    assert.equal(JSON.parse(decoder.decode((answer as ServerFrame).payload)).result, 7);
    socket.close();
    await othersClosed();
  });
});

Deno.test("garbage instead of a frame, reserved opcodes and bits, bad control frames drop that connection; others are served", async () => {
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
    ];
    for (const [label, bytes] of cases) {
      await using socket = await upgraded("/msgpack");
      await socket.write(bytes);
      const answer = await socket.readFrame();
      assert.equal(
        answer,
        "eof",
        `${label}: expected the connection dropped, got opcode ${(answer as ServerFrame).opcode}`,
      );
    }
    // A close with a code no endpoint may send (1005) is answered with 1002.
    {
      await using socket = await upgraded("/rpc");
      await socket.write(frame(Op.Close, closePayload(1005)));
      assert.equal((await socket.readClose()).code, 1002);
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
