/**
 * Streaming calls of protobuf services over the envelope, parley on both
 * sides over real TCP: the calculator's Range, Total and Running (the
 * example server's process, and in-process), their errors, cancellation,
 * credit-based backpressure, and the refusal of a streaming method on a
 * transport that carries one message each way.
 */

import assert from "node:assert/strict";
import { loadProto, protobufRpc, protoClient, protoService } from "../codecs/protobuf.ts";
import { peerStreams } from "../rpc/peer/streams.ts";
import { type CallContext, RpcError, type Service } from "../mod.ts";
import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
import { connectHttp, serveHttp } from "../rpc/transports/http.ts";
import { connectTcp, serveTcp } from "../rpc/transports/tcp.ts";
import { connectWebSocket } from "../rpc/transports/websocket.ts";
import {
  calculatorSchema,
  ERROR_DETAILS,
  protobufCalculator,
} from "../examples/calculator/protobuf.ts";
import type { Calculator } from "../examples/calculator/calculator_types.ts";
import { startCalculator } from "./interop/_process.ts";

const schema = calculatorSchema();
const codec = () => protobufRpc({ schema, errorDetails: ERROR_DETAILS });
const LOCAL = { hostname: "127.0.0.1", port: 0 };

async function* numbers(...values: (number | bigint)[]) {
  for (const value of values) yield { value };
}

async function collect<T>(messages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const message of messages) out.push(message);
  return out;
}

const isInvalidOperation = (why: string) => (error: unknown) => {
  assert.ok(error instanceof RpcError);
  assert.equal(error.code, 1);
  assert.equal(error.message, why);
  assert.deepEqual(error.data, { whatOp: 1, why });
  return true;
};

async function checkStreams(calc: ReturnType<typeof protoClient<Calculator>>): Promise<void> {
  assert.deepEqual(
    (await collect(calc.Range({ start: 5, count: 4 }))).map((n) => n.value),
    [5n, 6n, 7n, 8n],
  );
  assert.deepEqual(await collect(calc.Range({ start: 5, count: 0 })), []);
  // More messages than one window (16): credit is granted as they are read.
  const many = await collect(calc.Range({ start: -50, count: 1000 }));
  assert.equal(many.length, 1000);
  assert.equal(many[999]!.value, 949n);
  await assert.rejects(
    collect(calc.Range({ start: 0, count: 1_000_001 })),
    isInvalidOperation("invalid count"),
  );
  assert.deepEqual(await calc.Total(numbers(1, 2, 3, 2n ** 40n)), { total: 6n + 2n ** 40n });
  assert.deepEqual(await calc.Total(numbers()), { total: 0n });
  assert.deepEqual(await calc.Total(numbers(2n ** 63n - 1n, 1, -1)), { total: 2n ** 63n - 1n });
  await assert.rejects(calc.Total(numbers(2n ** 63n - 1n, 1)), isInvalidOperation("overflow"));
  const values = Array.from({ length: 100 }, (_, i) => i);
  assert.deepEqual(
    (await collect(calc.Running(numbers(...values)))).map((r) => r.total),
    values.map((_, i) => BigInt((i * (i + 1)) / 2)),
  );
  const seen: bigint[] = [];
  await assert.rejects(
    (async () => {
      for await (const { total } of calc.Running(numbers(2n ** 62n, 2n ** 62n, 5))) {
        seen.push(total);
      }
    })(),
    isInvalidOperation("overflow"),
  );
  assert.deepEqual(seen, [2n ** 62n]);
}

Deno.test("the protobuf calculator process streams Range, Total and Running over TCP", async () => {
  await using server = await startCalculator("--codec", "protobuf", "--transport", "tcp");
  await using peer = await connectTcp(
    { hostname: server.hostname, port: server.port },
    { codec: codec(), streams: peerStreams, framing: lengthPrefix(), timeout: 10_000 },
  );
  await checkStreams(protoClient<Calculator>(peer, schema, "interop.Calculator"));
  // Unary calls go on as before on the same connection.
  const calc = protoClient<Calculator>(peer, schema, "interop.Calculator");
  assert.deepEqual(await calc.Add({ num1: 2, num2: 40 }), { sum: 42 });
});

Deno.test("streams in process over TCP: concurrent streams and unary calls on one connection", async () => {
  await using server = serveTcp(LOCAL, {
    codec: codec(),
    streams: peerStreams,
    framing: lengthPrefix(),
    service: protobufCalculator(schema),
  });
  await using peer = await connectTcp(server.address, {
    codec: codec(),
    streams: peerStreams,
    framing: lengthPrefix(),
  });
  const calc = protoClient<Calculator>(peer, schema, "interop.Calculator");
  await checkStreams(calc);
  const [ranges, totals, sums] = await Promise.all([
    Promise.all([1, 2, 3].map((i) => collect(calc.Range({ start: i, count: 50 })))),
    Promise.all([1, 2, 3].map((i) => calc.Total(numbers(...Array(40).fill(i))))),
    Promise.all([1, 2, 3].map((i) => calc.Add({ num1: i, num2: i }))),
  ]);
  assert.deepEqual(ranges.map((r) => r[49]!.value), [50n, 51n, 52n]);
  assert.deepEqual(totals, [{ total: 40n }, { total: 80n }, { total: 120n }]);
  assert.deepEqual(sums, [{ sum: 2 }, { sum: 4 }, { sum: 6 }]);
  // Called as unary, a streaming method fails at once (and a unary one cannot be streamed).
  await assert.rejects(peer.call("interop.Calculator/Range", { count: 1 }), /streaming method/);
  await assert.rejects(
    peer.openStream("interop.Calculator/Add", { num1: 1, num2: 2 }).result,
    /unary method/,
  );
  assert.equal(peer.pending, 0);
});

// A service whose generator counts what it produced and sees its end.
const COUNTER = loadProto(`
  syntax = "proto3";
  package demo;
  message N { int64 n = 1; }
  service Counter {
    rpc Count(N) returns (stream N);
    rpc Drain(stream N) returns (N);
  }
`);

// Counter's types, as `deno task proto:types` would write them.
interface Counter {
  Count(request: { n: bigint }): AsyncIterable<{ n: bigint }>;
  Drain(requests: AsyncIterable<{ n: bigint }>): { n: bigint };
}

function counterService() {
  const state = {
    produced: 0,
    aborted: Promise.withResolvers<unknown>(),
    finished: Promise.withResolvers<void>(),
    consumed: 0,
  };
  const service = protoService(COUNTER, "demo.Counter", {
    Count: async function* (_request: unknown, ctx: CallContext) {
      ctx.signal.addEventListener("abort", () => state.aborted.resolve(ctx.signal.reason));
      try {
        for (let n = 0; n < 1_000_000; n++) {
          state.produced++;
          yield { n };
        }
      } finally {
        state.finished.resolve();
      }
    },
    Drain: async (requests: AsyncIterable<{ n: bigint }>) => {
      for await (const _ of requests) state.consumed++;
      return { n: state.consumed };
    },
  });
  return { state, service };
}

/**
 * A counter server over TCP and a peer connected to it, both carrying
 * streams; disposing it closes both.
 */
async function counterPair(service: Service, windows: { server?: number; client?: number } = {}) {
  const ends = () => ({
    codec: protobufRpc({ schema: COUNTER }),
    streams: peerStreams,
    framing: lengthPrefix(),
  });
  const server = serveTcp(LOCAL, {
    ...ends(),
    service,
    ...(windows.server === undefined ? {} : { streamWindow: windows.server }),
  });
  const peer = await connectTcp(server.address, {
    ...ends(),
    ...(windows.client === undefined ? {} : { streamWindow: windows.client }),
  });
  return {
    peer,
    async [Symbol.asyncDispose]() {
      await peer.close();
      await server.shutdown();
    },
  };
}

Deno.test("leaving a for await loop cancels the stream: the server's generator ends and its signal aborts", async () => {
  const { state, service } = counterService();
  await using pair = await counterPair(service);
  const { peer } = pair;
  const counter = protoClient<Counter>(peer, COUNTER, "demo.Counter");
  const got: bigint[] = [];
  for await (const message of counter.Count({})) {
    got.push(message.n);
    if (got.length === 3) break;
  }
  assert.deepEqual(got, [0n, 1n, 2n]);
  const reason = await state.aborted.promise;
  assert.ok(reason instanceof RpcError);
  await state.finished.promise; // the generator's finally ran
  assert.ok(state.produced < 1_000_000);
  assert.equal(peer.pending, 0);
  // The connection serves on.
  assert.deepEqual(
    await counter.Drain((async function* () {
      yield { n: 7 };
    })()),
    { n: 1n },
  );
});

Deno.test("a slow reader holds the server's generator to the window of credit", async () => {
  const { state, service } = counterService();
  const window = 8;
  await using pair = await counterPair(service, { server: window, client: window });
  const { peer } = pair;
  const counter = protoClient<Counter>(peer, COUNTER, "demo.Counter");
  let read = 0;
  for await (const _ of counter.Count({})) {
    read++;
    // Give the server many turns to run ahead, if it could: it cannot go
    // beyond what was read plus the window granted.
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setTimeout(resolve, 0));
    assert.ok(
      state.produced <= read + window + 1,
      `produced ${state.produced} with ${read} read and a window of ${window}`,
    );
    if (read === 40) break;
  }
  assert.ok(state.produced >= 40);
});

Deno.test("a client stream is sent as the server grants credit, and ends with the caller's end", async () => {
  const { state, service } = counterService();
  // The receiver's window bounds the sender: here the server receives.
  await using pair = await counterPair(service, { server: 4 });
  const { peer } = pair;
  let sent = 0;
  let ahead = 0;
  async function* many() {
    for (let n = 0; n < 500; n++) {
      sent++;
      // Asked for one more only when the window has room: what the server
      // has not read yet never exceeds it.
      ahead = Math.max(ahead, sent - state.consumed);
      yield { n };
    }
  }
  const counter = protoClient<Counter>(peer, COUNTER, "demo.Counter");
  assert.deepEqual(await counter.Drain(many()), { n: 500n });
  assert.equal(sent, 500);
  assert.equal(state.consumed, 500);
  assert.ok(ahead <= 4 + 1, `the client ran ${ahead} messages ahead of a window of 4`);
});

Deno.test("a streaming method over the HTTP POST route is refused with a clear error, unary calls served", async () => {
  await using server = serveHttp({
    hostname: "127.0.0.1",
    port: 0,
    routes: { "/rpc": { codec: codec(), service: protobufCalculator(schema) } },
  });
  await using client = connectHttp(new URL("/rpc", server.url).href, { codec: codec() });
  const calc = protoClient<Calculator>(client, schema, "interop.Calculator");
  assert.deepEqual(await calc.Add({ num1: 1, num2: 2 }), { sum: 3 });
  // The client refuses at once: it carries one message each way.
  assert.throws(() => calc.Range({ count: 1 }), /Range is a streaming method/);
  // Raw, as a peer that carries streams would open it, the server refuses it saying why.
  const name = new TextEncoder().encode("interop.Calculator/Range");
  const opening = new Uint8Array([0x08, 1, 0x12, name.length, ...name, 0x22, 0x00]);
  const response = await fetch(new URL("/rpc", server.url), {
    method: "POST",
    headers: { "content-type": "application/x-protobuf" },
    body: opening,
  });
  const reply = codec().fork!().decode(new Uint8Array(await response.arrayBuffer()));
  assert.ok(reply.kind === "error", JSON.stringify(reply));
  assert.equal(reply.id, 1);
  assert.equal(reply.error.code, -32601);
  assert.match(reply.error.message, /interop\.Calculator\/Range is a streaming method/);
});

Deno.test("the protobuf calculator process streams over WebSocket (one binary message per event)", async () => {
  await using server = await startCalculator("--codec", "protobuf", "--transport", "ws");
  await using peer = await connectWebSocket(server.url, {
    codec: codec(),
    streams: peerStreams,
    timeout: 10_000,
  });
  await checkStreams(protoClient<Calculator>(peer, schema, "interop.Calculator"));
});

Deno.test("a stream's timeout cancels it on both ends; a dropped connection fails the reader", async () => {
  const { state, service } = counterService();
  await using pair = await counterPair(service);
  const { peer } = pair;
  const counter = protoClient<Counter>(peer, COUNTER, "demo.Counter");
  // A reader that stops reading: the timeout ends the call, and the server's generator;
  // what was held is read, then the timeout.
  const reader = counter.Count({}, { timeout: 50 })[Symbol.asyncIterator]();
  assert.equal((await reader.next()).done, false);
  assert.ok(await state.aborted.promise instanceof RpcError);
  await state.finished.promise;
  await assert.rejects(
    (async () => {
      while (!(await reader.next()).done);
    })(),
    { name: "TimeoutError" },
  );
  // A stream in progress when the connection closes fails with ConnectionClosedError.
  const second = counter.Count({})[Symbol.asyncIterator]();
  assert.equal((await second.next()).done, false);
  await peer.close();
  await assert.rejects(
    (async () => {
      while (!(await second.next()).done);
    })(),
    { name: "ConnectionClosedError" },
  );
});

Deno.test("a caller that sends beyond its credit fails its call, and the connection serves on", async () => {
  await using server = serveTcp(LOCAL, {
    codec: codec(),
    streams: peerStreams,
    framing: lengthPrefix(),
    service: protobufCalculator(schema),
  });
  const conn = await Deno.connect(server.address);
  const frame = (bytes: number[]) => {
    const out = new Uint8Array(4 + bytes.length);
    new DataView(out.buffer).setUint32(0, bytes.length);
    out.set(bytes, 4);
    return out;
  };
  const name = [...new TextEncoder().encode("interop.Calculator/Total")];
  const frames = [frame([0x08, 1, 0x12, name.length, ...name, 0x22, 0x00])];
  // Number {value: 1} as the caller's message of call 1, a thousand times, granted or not.
  for (let i = 0; i < 1000; i++) frames.push(frame([0x08, 1, 0x22, 4, 0x12, 2, 0x08, 1]));
  const add = [...new TextEncoder().encode("interop.Calculator/Add")];
  frames.push(frame([0x08, 2, 0x12, add.length, ...add, 0x1a, 4, 0x08, 2, 0x10, 40]));
  await conn.write(new Uint8Array(frames.flatMap((f) => [...f])));
  const reader = protobufRpc({ schema }).fork!();
  const replies = new Map<unknown, unknown>();
  let buffer = new Uint8Array(0);
  const chunk = new Uint8Array(65_536);
  // A guard, not an assertion: a server that never answers fails the test, not hangs it.
  const guard = setTimeout(() => conn.close(), 10_000);
  // Bounded: the two replies, and a few credit grants, come in a few reads.
  for (let reads = 0; reads < 100 && replies.size < 2; reads++) {
    const n = await conn.read(chunk);
    if (n === null) break;
    buffer = new Uint8Array([...buffer, ...chunk.subarray(0, n)]);
    while (buffer.length >= 4) {
      const length = new DataView(buffer.buffer, buffer.byteOffset).getUint32(0);
      if (buffer.length < 4 + length) break;
      const message = reader.decode(buffer.slice(4, 4 + length));
      buffer = buffer.slice(4 + length);
      // The replies (to a plain codec that made no call, Add's reads as a
      // request without a method name); the server's credit grants are not.
      if (message.kind === "error") replies.set(message.id, message.error);
      if (message.kind === "invalid") replies.set(message.id, message);
    }
  }
  clearTimeout(guard);
  conn.close();
  const failure = replies.get(1) as { code: number; message: string };
  assert.equal(failure.code, -32600);
  assert.match(failure.message, /beyond the credit granted/);
  assert.ok(replies.has(2), "the Add call after it was answered");
});
