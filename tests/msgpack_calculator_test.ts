/**
 * The calculator example with `--codec msgpack`, parley on both sides: every
 * TCP framing and HTTP, then hostile bytes on raw connections while a
 * well-behaved client keeps calling.
 */

import assert from "node:assert/strict";
import { msgpackRpc } from "../codecs/msgpack_rpc.ts";
import { type Framing, type Peer, RpcError } from "../mod.ts";
import { contentLength } from "../rpc/framing/content_length.ts";
import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
import { selfDelimiting } from "../rpc/framing/self_delimiting.ts";
import { varint } from "../rpc/framing/varint.ts";
import { connectHttp } from "../rpc/transports/http.ts";
import { connectTcp } from "../rpc/transports/tcp.ts";
import type { RpcClient } from "../rpc/client.ts";
import type { DecodedFrame } from "../rpc/types.ts";
import { type ListeningProcess, spawnListening } from "./interop/_process.ts";

const CALCULATOR = [
  "run",
  "--allow-net",
  "--allow-read",
  "--allow-env",
  "examples/calculator.ts",
  "--codec",
  "msgpack",
  "--port",
  "0",
];

const I64_MAX = 2n ** 63n - 1n;

function startCalculator(...args: string[]): Promise<ListeningProcess> {
  // The first start may type-check and load npm packages.
  return spawnListening(Deno.execPath(), { args: [...CALCULATOR, ...args], timeout: 60_000 });
}

function framingOf(name: string): Framing {
  switch (name) {
    case "self-delimiting": {
      const codec = msgpackRpc();
      return selfDelimiting(codec.measure!.bind(codec));
    }
    case "length-prefix":
      return lengthPrefix();
    case "varint":
      return varint();
    case "content-length":
      return contentLength();
    default:
      throw new Error(`no framing ${name}`);
  }
}

function connect(server: ListeningProcess, framing = "self-delimiting"): Promise<Peer> {
  return connectTcp({ hostname: server.hostname, port: server.port }, {
    codec: msgpackRpc(),
    framing: framingOf(framing),
    timeout: 10_000,
    connectTimeout: 5_000,
  });
}

function isRpcError(code: number, data?: unknown): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof RpcError, `expected an RpcError, got ${error}`);
    assert.equal(error.code, code);
    if (data !== undefined) assert.deepEqual(error.data, data);
    return true;
  };
}

/** A few calls of the contract, i64 and binary included, through any client. */
async function exercise(client: RpcClient): Promise<void> {
  assert.equal(await client.call("ping", []), null);
  assert.equal(await client.call("add", [40, 2]), 42);
  await assert.rejects(
    client.call("add", [2 ** 31 - 1, 1]),
    isRpcError(1, { whatOp: 1, why: "overflow" }),
  );
  await assert.rejects(
    client.call("calculate", [1, { num1: 1, num2: 0, op: 4 }]),
    isRpcError(1, { whatOp: 4, why: "Cannot divide by 0" }),
  );
  assert.equal(await client.call("sum", [[I64_MAX, 1n, -1n]]), I64_MAX);
  assert.equal(await client.call("sum", [[2n ** 62n, 2n ** 62n - 1n]]), I64_MAX);
  await assert.rejects(client.call("sum", [[I64_MAX, 1]]), isRpcError(1));
  const bytes = new Uint8Array(256).map((_, i) => i);
  assert.deepEqual(await client.call("echoBinary", [bytes]), bytes);
  assert.deepEqual(await client.call("echoBinary", [new Uint8Array(0)]), new Uint8Array(0));
  const shape = {
    name: "▲ 🎉",
    coords: [0.5, -1.25, 1e300],
    tags: { big: 2n ** 53n + 1n, min: -(2n ** 63n), small: 7 },
    blob: new Uint8Array([0, 1, 254, 255]),
    flag: true,
  };
  assert.deepEqual(await client.call("echoShape", [shape]), shape);
  assert.equal(await client.call("echo", ["héllo 𝄞"]), "héllo 𝄞");
  await client.notify("zip", []);
  assert.equal(await client.call("zip", []), null);
  await assert.rejects(client.call("noSuchMethod", []), isRpcError(-32601));
  await assert.rejects(client.call("add", ["1", 2]), isRpcError(-32602));
}

for (const framing of ["self-delimiting", "length-prefix", "varint", "content-length"]) {
  Deno.test(`the msgpack calculator over TCP with ${framing} framing answers parley's calls`, async () => {
    await using server = await startCalculator(
      "--transport",
      "tcp",
      ...(framing === "self-delimiting" ? [] : ["--framing", framing]),
    );
    assert.match(server.url, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    await using client = await connect(server, framing);
    await exercise(client);
    // Pipelined: all in flight at once, each settled by its own msgid.
    const sums = await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.call("add", [i, i])),
    );
    assert.deepEqual(sums, Array.from({ length: 20 }, (_, i) => 2 * i));
    await client.close();
    const stopped = await server.stop("SIGTERM");
    assert.equal(stopped.code, 0, stopped.stderr);
  });
}

Deno.test("the msgpack calculator over HTTP answers connectHttp with msgpackRpc()", async () => {
  await using server = await startCalculator("--transport", "http");
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/rpc$/);
  await using client = connectHttp(server.url, { codec: msgpackRpc(), timeout: 10_000 });
  await exercise(client);
  await client.close();
  const stopped = await server.stop("SIGTERM");
  assert.equal(stopped.code, 0, stopped.stderr);
});

// --- hostile input ---------------------------------------------------------------

/** Bytes of a msgpack-rpc message, encoded by parley's own codec. */
function request(id: number, method: string, params: unknown[]): Uint8Array {
  return msgpackRpc().encode({ kind: "request", id, method, params }) as Uint8Array;
}

const bytes = (...values: number[]) => new Uint8Array(values);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) out.set(part, (at += part.length) - part.length);
  return out;
};

/**
 * Reads from a raw connection until the server closes it (or resets it),
 * within a bounded wait so that a server that never closes fails the test
 * instead of hanging it.
 */
async function readUntilClosed(conn: Deno.Conn, label: string): Promise<Uint8Array> {
  const received: Uint8Array[] = [];
  const buffer = new Uint8Array(64 * 1024);
  let gaveUp = false;
  const guard = setTimeout(() => {
    gaveUp = true;
    conn.close();
  }, 15_000);
  try {
    while (true) {
      let n: number | null;
      try {
        n = await conn.read(buffer);
      } catch (error) {
        if (gaveUp || error instanceof Deno.errors.BadResource) {
          assert.fail(`${label}: the server did not close the connection`);
        }
        if (error instanceof Deno.errors.ConnectionReset) break;
        throw error;
      }
      if (n === null) break;
      received.push(buffer.slice(0, n));
    }
  } finally {
    clearTimeout(guard);
  }
  return concat(...received);
}

/** Reads the next whole msgpack-rpc message from a raw connection. */
async function readMessage(
  conn: Deno.Conn,
  pending: { bytes: Uint8Array },
): Promise<DecodedFrame> {
  const codec = msgpackRpc();
  const buffer = new Uint8Array(64 * 1024);
  while (true) {
    const end = codec.measure!(pending.bytes);
    if (end !== undefined) {
      const frame = pending.bytes.slice(0, end);
      pending.bytes = pending.bytes.slice(end);
      return codec.decode(frame);
    }
    const n = await conn.read(buffer);
    if (n === null) assert.fail("the server closed the connection instead of answering");
    pending.bytes = concat(pending.bytes, buffer.subarray(0, n));
  }
}

async function withConnection<T>(
  server: ListeningProcess,
  body: (conn: Deno.Conn) => Promise<T>,
): Promise<T> {
  const conn = await Deno.connect({ hostname: server.hostname, port: server.port });
  try {
    return await body(conn);
  } finally {
    try {
      conn.close();
    } catch {
      // The test closed it already.
    }
  }
}

// Each closes the connection: a msgpack stream cannot be resynchronised.
const STREAM_BREAKERS: [string, Uint8Array, { closeWrite?: boolean }][] = [
  ["the never-used byte 0xc1", bytes(0xc1, 0x94, 0x00), {}],
  [
    "a str32 that declares 4 GiB",
    concat(bytes(0xdb, 0xff, 0xff, 0xff, 0xff), bytes(0x61, 0x62)),
    {},
  ],
  ["a bin32 that declares 4 GiB", bytes(0xc6, 0xff, 0xff, 0xff, 0xff, 0), {}],
  ["an array32 that declares 2^31 elements", bytes(0xdd, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00), {}],
  ["a map32 that declares 2^31 - 1 pairs", bytes(0xdf, 0x7f, 0xff, 0xff, 0xff, 0x00, 0x00), {}],
  [
    "a request whose params hold an array32 of 2^31 elements",
    concat(
      bytes(0x94, 0x00, 0x01, 0xa4, ...new TextEncoder().encode("echo")),
      bytes(0x91, 0xdd, 0x80, 0x00, 0x00, 0x00),
    ),
    {},
  ],
  ["nesting 10 000 arrays deep", new Uint8Array(10_000).fill(0x91), {}],
  ["a truncated request, then end of stream", request(1, "echo", ["hello"]).slice(0, -3), {
    closeWrite: true,
  }],
];

// Each gets an error reply, and the connection stays usable.
const SHAPE_ERRORS: [string, Uint8Array, number | null][] = [
  ["[0, 1, 5, []] (a method that is not a string)", bytes(0x94, 0x00, 0x01, 0x05, 0x90), 1],
  [
    '[0, 2, "ping"] (a request of 3 elements)',
    bytes(0x93, 0x00, 0x02, 0xa4, 0x70, 0x69, 0x6e, 0x67),
    2,
  ],
  [
    '[0, 3, "add", 5] (params that are not an array)',
    bytes(0x94, 0x00, 0x03, 0xa3, 0x61, 0x64, 0x64, 0x05),
    3,
  ],
  ["[9] (an unknown message type)", bytes(0x91, 0x09), null],
  ["a bare integer", bytes(0x05), null],
  ["a bare map", bytes(0x81, 0xa1, 0x61, 0x01), null],
  [
    '[0, -1, "ping", []] (a msgid that is not a u32)',
    bytes(0x94, 0x00, 0xff, 0xa4, 0x70, 0x69, 0x6e, 0x67, 0x90),
    null,
  ],
];

Deno.test("hostile bytes close their own connection to the msgpack calculator; another client keeps getting answers", async () => {
  await using server = await startCalculator("--transport", "tcp");
  await using neighbour = await connect(server);
  assert.equal(await neighbour.call("add", [1, 2]), 3);

  for (const [label, payload, { closeWrite }] of STREAM_BREAKERS) {
    await withConnection(server, async (conn) => {
      await conn.write(payload);
      if (closeWrite) await conn.closeWrite();
      const answered = await readUntilClosed(conn, label);
      assert.equal(answered.length, 0, `${label}: the server answered ${answered} before closing`);
    });
    // The neighbour, connected all along, is still served; so is a new client.
    assert.equal(await neighbour.call("add", [label.length, 1]), label.length + 1, label);
    assert.deepEqual(await neighbour.call("sum", [[I64_MAX, 0]]), I64_MAX, label);
  }
  await using late = await connect(server);
  assert.equal(await late.call("echo", ["still here"]), "still here");

  assert.equal(await neighbour.call("ping", []), null);
  await neighbour.close();
  await late.close();
  const stopped = await server.stop("SIGTERM");
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stderr, /over the limit/);
});

Deno.test("a message of the wrong shape gets an invalid request reply (msgid when readable, else nil) and the connection stays usable", async () => {
  await using server = await startCalculator("--transport", "tcp");
  await using neighbour = await connect(server);
  await withConnection(server, async (conn) => {
    const pending = { bytes: new Uint8Array(0) };
    for (const [label, payload, msgid] of SHAPE_ERRORS) {
      await conn.write(payload);
      const reply = await readMessage(conn, pending);
      assert.equal(reply.kind, "error", `${label}: ${JSON.stringify(reply)}`);
      if (reply.kind !== "error") continue;
      assert.equal(reply.id, msgid, label);
      assert.equal(reply.error.code, -32600, label);
      assert.match(reply.error.message, /^Invalid request: /, label);
      // The same connection still answers a good request.
      await conn.write(request(100, "add", [2, 2]));
      assert.deepEqual(await readMessage(conn, pending), { kind: "result", id: 100, result: 4 });
      assert.equal(await neighbour.call("add", [3, 3]), 6);
    }
    // Extension types the server has no class for, msgpackr's own (0x65 an
    // Error, 0x70 a reference) included, are values like any other: echo
    // takes a string, so each is invalid params, answered.
    for (const [msgid, type] of [[102, 0x05], [103, 0x65], [104, 0x70]]) {
      await conn.write(
        concat(
          bytes(0x94, 0x00, msgid!, 0xa4, 0x65, 0x63, 0x68, 0x6f),
          bytes(0x91, 0xd4, type!, 0),
        ),
      );
      const reply = await readMessage(conn, pending);
      assert.ok(reply.kind === "error" && reply.id === msgid, JSON.stringify(reply));
      assert.equal(reply.error.code, -32602);
    }
    // A response nobody asked for is dropped without a reply.
    await conn.write(msgpackRpc().encode({ kind: "result", id: 7, result: 1 }) as Uint8Array);
    await conn.write(request(101, "ping", []));
    assert.deepEqual(await readMessage(conn, pending), { kind: "result", id: 101, result: null });
    // Then a stream breaker closes it after all.
    await conn.write(bytes(0xc1));
    assert.equal((await readUntilClosed(conn, "0xc1 after shape errors")).length, 0);
  });
  assert.equal(await neighbour.call("ping", []), null);
  await neighbour.close();
  const stopped = await server.stop("SIGTERM");
  assert.equal(stopped.code, 0, stopped.stderr);
});

Deno.test("over HTTP, a body that is not msgpack is 400, a wrong shape is an invalid request reply, and good calls keep working", async () => {
  await using server = await startCalculator("--transport", "http");
  await using client = connectHttp(server.url, { codec: msgpackRpc(), timeout: 10_000 });
  const post = (body: Uint8Array, type = "application/vnd.msgpack") =>
    fetch(server.url, { method: "POST", headers: { "content-type": type }, body: body.slice() });

  for (
    const [label, body] of [
      ["0xc1", bytes(0xc1)],
      ["a str32 that declares 4 GiB", bytes(0xdb, 0xff, 0xff, 0xff, 0xff, 0x61)],
      ["an array32 that declares 2^31 elements", bytes(0xdd, 0x80, 0x00, 0x00, 0x00)],
      ["a truncated request", request(1, "echo", ["hello"]).slice(0, -3)],
      ["a request and a trailing byte", concat(request(1, "ping", []), bytes(0))],
    ] as const
  ) {
    const response = await post(body);
    assert.equal(response.status, 400, `${label}: ${await response.clone().text()}`);
    await response.body?.cancel();
    assert.equal(await client.call("add", [1, 1]), 2, label);
  }

  const codec = msgpackRpc();
  for (const [label, payload, msgid] of SHAPE_ERRORS) {
    const response = await post(payload);
    assert.equal(response.status, 200, label);
    assert.equal(response.headers.get("content-type"), "application/vnd.msgpack", label);
    const reply = codec.decode(new Uint8Array(await response.arrayBuffer()));
    assert.equal(reply.kind, "error", `${label}: ${JSON.stringify(reply)}`);
    if (reply.kind !== "error") continue;
    assert.equal(reply.id, msgid, label);
    assert.equal(reply.error.code, -32600, label);
  }

  const notification = await post(
    codec.encode({ kind: "notification", method: "zip", params: [] }) as Uint8Array,
  );
  assert.equal(notification.status, 204);
  await notification.body?.cancel();

  const wrongType = await post(request(1, "ping", []), "application/json");
  assert.equal(wrongType.status, 415);
  await wrongType.body?.cancel();

  assert.equal(await client.call("sum", [[I64_MAX, -1n, 1n]]), I64_MAX);
  await client.close();
  const stopped = await server.stop("SIGTERM");
  assert.equal(stopped.code, 0, stopped.stderr);
});

Deno.test("with length-prefix framing, a frame that is not msgpack closes its connection too (the contract: connection closed)", async () => {
  await using server = await startCalculator("--transport", "tcp", "--framing", "length-prefix");
  await using neighbour = await connect(server, "length-prefix");
  await withConnection(server, async (conn) => {
    const ping = request(2, "ping", []);
    const framed = (body: Uint8Array) => {
      const out = new Uint8Array(4 + body.length);
      new DataView(out.buffer).setUint32(0, body.length);
      out.set(body, 4);
      return out;
    };
    await conn.write(concat(framed(bytes(0xc1)), framed(ping)));
    assert.equal((await readUntilClosed(conn, "a 0xc1 frame")).length, 0);
  });
  assert.equal(await neighbour.call("add", [5, 5]), 10);
  await neighbour.close();
  const stopped = await server.stop("SIGTERM");
  assert.equal(stopped.code, 0, stopped.stderr);
});
