/**
 * Streaming calls over gRPC, parley on both sides (serveGrpc ↔
 * connectGrpc, real HTTP/2 on loopback): the calculator's Range (server
 * streaming), Total (client streaming) and Running (bidi); cancellation
 * each way reaching the other side's signal and generator; deadlines
 * mid-stream; errors after messages with details in the trailers;
 * backpressure both ways (counted: how far a producer gets ahead of a
 * reader that stops); gzip; messages over the size limit mid-stream.
 */

import assert from "node:assert/strict";
import { loadProto, protoClient, protoService } from "../codecs/protobuf.ts";
import type { Calculator } from "../examples/calculator/calculator_types.ts";
import { calculatorSchema } from "../examples/calculator/protobuf.ts";
import { ConnectError } from "../protocols/connect.ts";
import { TimeoutError } from "../rpc/errors.ts";
import { type CallContext, withContext } from "../rpc/service.ts";
import {
  callMetadata,
  connectGrpc,
  type GrpcResponseMetadata,
  serveGrpc,
} from "../rpc/transports/grpc.ts";
import { startGrpcCalculator } from "./_grpc_calculator.ts";
import { rejection } from "./_rejection.ts";
import { collect, numbers, readToError } from "./interop/_grpc_streams.ts";

const schema = calculatorSchema();
const I64_MAX = 2n ** 63n - 1n;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (bounded: 10 s) until `condition` holds. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await sleep(10);
  assert.ok(condition(), `timed out waiting until ${what}`);
}

Deno.test("Range, Total, Running over gRPC: parley ↔ parley through protoClient", async () => {
  await using server = await startGrpcCalculator().server;
  await using client = connectGrpc(server.url, { schema });
  const calc = protoClient<Calculator>(client, schema, "interop.Calculator");
  assert.deepEqual(
    (await collect(calc.Range({ start: 5, count: 4 }))).map((n) => n.value),
    [5n, 6n, 7n, 8n],
  );
  assert.deepEqual(await collect(calc.Range({ start: 5, count: 0 })), []);
  const many = await collect(calc.Range({ start: -50, count: 5000 }));
  assert.equal(many.length, 5000);
  assert.equal(many[4999]!.value, 4949n);
  // Exact 64-bit values, and the sum range-checked only at the end.
  assert.deepEqual(await calc.Total(numbers(I64_MAX, 1, -1)), { total: I64_MAX });
  assert.deepEqual(await calc.Total(numbers()), { total: 0n });
  assert.deepEqual(
    (await collect(calc.Running(numbers(1, 2, 3, -10)))).map((r) => r.total),
    [1n, 3n, 6n, -4n],
  );
  // Unary calls share the connection.
  assert.deepEqual(await client.call("interop.Calculator/Add", { num1: 1, num2: 2 }), { sum: 3 });
  assert.equal(client.pending, 0);
});

Deno.test("errors: before any message trailers-only; after messages in the trailers, with details", async () => {
  await using server = await startGrpcCalculator().server;
  await using client = connectGrpc(server.url, { schema });
  let seen: GrpcResponseMetadata | undefined;
  const onMetadata = (metadata: GrpcResponseMetadata) => seen = metadata;
  // Range's count is checked before any message: a trailers-only reply.
  const early = client.openStream("interop.Calculator/Range", { start: 0, count: -1 }, {
    onMetadata,
    headers: { "x-request-tag": "s-1" },
  });
  const invalid = await rejection(collect(early.messages), ConnectError);
  assert.equal(invalid.code, 3);
  assert.equal(invalid.message, "invalid count");
  assert.deepEqual(invalid.data, { whatOp: 1, why: "invalid count" });
  assert.equal(seen?.headers.get("grpc-status"), "3"); // one block: headers and trailers
  assert.equal(seen?.headers.get("x-request-tag"), "s-1");
  assert.equal(seen?.trailers.get("x-request-tag-end"), "s-1");
  // Running overflows at its second number: one reply, then the status in trailers.
  const running = client.openStream("interop.Calculator/Running", undefined, {
    input: numbers(I64_MAX, 1),
    onMetadata,
    headers: { "x-request-tag": "s-2" },
  });
  const { read: replies, error: overflow } = await readToError(running.messages);
  assert.deepEqual(replies, [{ total: I64_MAX }]);
  assert.equal(overflow.code, 3);
  assert.equal(overflow.message, "overflow");
  assert.deepEqual(overflow.details, [{
    type: "interop.InvalidOperation",
    value: { whatOp: 1, why: "overflow" },
  }]);
  assert.equal(seen?.headers.get("grpc-status"), null, "headers came before the first message");
  assert.equal(seen?.headers.get("x-request-tag"), "s-2");
  assert.equal(seen?.trailers.get("grpc-status"), "3");
  assert.equal(seen?.trailers.get("x-request-tag-end"), "s-2");
  assert.ok(seen?.trailers.has("grpc-status-details-bin"));
  await assert.rejects(running.result, ConnectError);
  // Total's overflow is its one reply's place: the status alone.
  const total = await rejection(
    protoClient<Calculator>(client, schema, "interop.Calculator").Total(numbers(I64_MAX, 1)),
    ConnectError,
  );
  assert.equal(total.message, "overflow");
  // A method the server does not serve: 12, for streams too.
  await using bare = await serveGrpc({ schema, service: {} });
  await using other = connectGrpc(bare.url, { schema });
  const missing = other.openStream("interop.Calculator/Range", { count: 1 });
  assert.equal((await rejection(collect(missing.messages), ConnectError)).code, 12);
  assert.throws(() => client.openStream("interop.Calculator/Add", {}), TypeError);
  assert.throws(() => client.openStream("interop.Calculator/Nope", {}), TypeError);
});

/** A service whose handlers report what happened to them. */
function watchedService() {
  const events: string[] = [];
  const aborted = Promise.withResolvers<unknown>();
  const finished = Promise.withResolvers<void>();
  const service = protoService(schema, "interop.Calculator", {
    Ping: () => ({}),
    // Counts forever, slowly, until stopped.
    Range: withContext((ctx: CallContext, { start }: { start: number }) => {
      ctx.signal.addEventListener("abort", () => aborted.resolve(ctx.signal.reason));
      return (async function* () {
        try {
          for (let value = start; value < start + 1_000_000; value++) {
            yield { value };
            await sleep(5);
          }
        } finally {
          events.push("range finally");
          finished.resolve();
        }
      })();
    }),
    // Reads until stopped.
    Total: withContext(async (ctx: CallContext, input: AsyncIterable<{ value: bigint }>) => {
      ctx.signal.addEventListener("abort", () => aborted.resolve(ctx.signal.reason));
      let total = 0n;
      try {
        for await (const { value } of input) total += value;
      } catch (error) {
        events.push(`total input threw ${(error as Error).name}`);
        throw error;
      } finally {
        finished.resolve();
      }
      return { total };
    }),
    // Answers two numbers, then fails.
    Running: withContext((_ctx: CallContext, input: AsyncIterable<{ value: bigint }>) =>
      (async function* () {
        let seen = 0;
        for await (const { value } of input) {
          yield { total: value };
          if (++seen === 2) throw new ConnectError("failed_precondition", "two is enough");
        }
      })()
    ),
  });
  return { service, events, aborted: aborted.promise, finished: finished.promise };
}

Deno.test("cancellation: leaving the for-await loop resets the stream; the server's signal fires and its generator's finally runs", async () => {
  const watched = watchedService();
  await using server = await serveGrpc({ schema, service: watched.service });
  await using client = connectGrpc(server.url, { schema });
  const calc = protoClient<Calculator>(client, schema, "interop.Calculator");
  const read: bigint[] = [];
  for await (const { value } of calc.Range({ start: 10, count: 0 })) {
    read.push(value);
    if (read.length === 3) break;
  }
  assert.deepEqual(read, [10n, 11n, 12n]);
  assert.equal(((await watched.aborted) as Error).name, "AbortError");
  await watched.finished;
  assert.deepEqual(watched.events, ["range finally"]);
  await until(() => client.pending === 0, "the call is forgotten");
  // The connection carries on.
  assert.deepEqual(await client.call("interop.Calculator/Ping", {}), {});
});

Deno.test("cancellation: the caller's signal during a client stream ends the handler's input and fires its signal", async () => {
  const watched = watchedService();
  await using server = await serveGrpc({ schema, service: watched.service });
  await using client = connectGrpc(server.url, { schema });
  const controller = new AbortController();
  let inputFinally = false;
  const input = (async function* () {
    try {
      for (let value = 1;; value++) {
        yield { value };
        await sleep(5);
      }
    } finally {
      inputFinally = true;
    }
  })();
  const stream = client.openStream("interop.Calculator/Total", undefined, {
    input,
    signal: controller.signal,
  });
  await sleep(100);
  controller.abort(new Error("enough"));
  assert.equal((await stream.result.catch((e) => e) as Error).message, "enough");
  assert.equal(((await watched.aborted) as Error).name, "AbortError");
  await watched.finished;
  assert.deepEqual(watched.events, ["total input threw AbortError"]);
  await until(() => inputFinally, "the caller's generator's finally runs");
});

Deno.test("cancellation the other way: a server that ends a bidi call stops the caller's generator", async () => {
  const watched = watchedService();
  await using server = await serveGrpc({ schema, service: watched.service });
  await using client = connectGrpc(server.url, { schema });
  let produced = 0;
  let inputFinally = false;
  const input = (async function* () {
    try {
      for (let value = 1; value < 1_000_000; value++) {
        produced++;
        yield { value };
        await sleep(2);
      }
    } finally {
      inputFinally = true;
    }
  })();
  const stream = client.openStream("interop.Calculator/Running", undefined, { input });
  const { read: replies, error } = await readToError(stream.messages);
  assert.equal(error.connectCode, "failed_precondition", error.message);
  assert.equal(error.message, "two is enough");
  assert.deepEqual(replies, [{ total: 1n }, { total: 2n }]);
  await until(() => inputFinally, "the caller's generator's finally runs");
  assert.ok(produced < 1000, `produced ${produced}`);
});

Deno.test("a deadline mid-stream: 4 DEADLINE_EXCEEDED after the messages, the generator stopped", async () => {
  const watched = watchedService();
  await using server = await serveGrpc({ schema, service: watched.service });
  await using client = connectGrpc(server.url, { schema });
  // grpc-timeout alone (as metadata), no local timer: the server's deadline answers.
  const stream = client.openStream("interop.Calculator/Range", { start: 0 }, {
    headers: { "grpc-timeout": "200m" },
  });
  const { read, error } = await readToError(stream.messages);
  assert.equal(error.code, 4);
  assert.equal(error.message, "Deadline exceeded");
  assert.ok(read.length > 0, "messages came before the deadline");
  assert.equal(((await watched.aborted) as Error).name, "TimeoutError");
  await watched.finished;
  // The client's own timeout: sent as grpc-timeout; whichever side is first.
  const late = await collect(
    protoClient<Calculator>(client, schema, "interop.Calculator").Range(
      { start: 0, count: 1_000_000, delayMs: 10 },
      { timeout: 150 },
    ),
  ).catch((e) => e);
  assert.ok(
    late instanceof TimeoutError || (late instanceof ConnectError && late.code === 4),
    String(late),
  );
});

Deno.test("metadata on streams: onCall's headers before the first message, callMetadata's trailers at the end", async () => {
  const service = protoService(schema, "interop.Calculator", {
    Range: withContext((ctx: CallContext, { count }: { count: number }) => {
      const metadata = callMetadata(ctx)!;
      metadata.headers.set("x-count", String(count));
      return (async function* () {
        for (let value = 0; value < count; value++) yield { value };
        metadata.trailers.set("x-sent", String(count));
      })();
    }),
  });
  await using server = await serveGrpc({
    schema,
    service,
    onCall: ({ request, trailers }) => trailers.set("x-who", request.get("x-who") ?? "?"),
  });
  await using client = connectGrpc(server.url, { schema, headers: { "x-who": "ada" } });
  let seen: GrpcResponseMetadata | undefined;
  const stream = client.openStream("interop.Calculator/Range", { count: 3 }, {
    onMetadata: (metadata) => seen = metadata,
  });
  assert.equal((await collect(stream.messages)).length, 3);
  assert.equal(await stream.result, null);
  assert.equal(seen?.headers.get("x-count"), "3");
  assert.equal(seen?.trailers.get("x-sent"), "3");
  assert.equal(seen?.trailers.get("x-who"), "ada");
  assert.equal(seen?.trailers.get("grpc-status"), "0");
});

const flowSchema = loadProto(`
  syntax = "proto3";
  package flow;
  message Chunk { int32 n = 1; bytes data = 2; }
  message Count { int32 n = 1; }
  service Flow {
    rpc Produce(Count) returns (stream Chunk);
    rpc Consume(stream Chunk) returns (Count);
    rpc Echo(stream Chunk) returns (stream Chunk);
  }
`);
// Random bytes: gzip (on by default for messages of 1 KiB) cannot shrink them.
const KB = crypto.getRandomValues(new Uint8Array(1024));

Deno.test("backpressure: a reader that stops holds the server's generator within a window, not the whole stream", async () => {
  let produced = 0;
  const service = protoService(flowSchema, "flow.Flow", {
    Produce: async function* ({ n }: { n: number }) {
      for (let i = 0; i < n; i++) {
        produced++;
        yield { n: i, data: KB };
      }
    },
  });
  await using server = await serveGrpc({ schema: flowSchema, service });
  await using client = connectGrpc(server.url, { schema: flowSchema });
  const total = 20_000; // 20 MB
  const stream = client.openStream("flow.Flow/Produce", { n: total });
  const reader = stream.messages[Symbol.asyncIterator]();
  let read = 0;
  for (; read < 10; read++) await reader.next();
  // The reader stops; the producer runs until the windows are full, then waits.
  let before = -1;
  for (let i = 0; i < 50 && produced !== before; i++) {
    before = produced;
    await sleep(50);
  }
  const ahead = produced - read;
  assert.ok(ahead < 1000, `the generator got ${ahead} messages ahead of the reader`);
  // Reading on, everything arrives, in order.
  for (; read < total; read++) {
    const next = await reader.next();
    assert.equal((next.value as { n: number }).n, read);
  }
  assert.equal((await reader.next()).done, true);
  assert.equal(produced, total);
  console.log(`server generator ahead of a stopped reader: ${ahead} messages of 1 KiB`);
});

Deno.test("backpressure: a handler that stops reading its input holds the caller's generator within a window", async () => {
  const { promise: resume, resolve: go } = Promise.withResolvers<void>();
  let consumed = 0;
  const service = protoService(flowSchema, "flow.Flow", {
    Consume: async (input: AsyncIterable<{ n: number }>) => {
      for await (const { n } of input) {
        assert.equal(n, consumed);
        if (++consumed === 10) await resume;
      }
      return { n: consumed };
    },
  });
  await using server = await serveGrpc({ schema: flowSchema, service });
  await using client = connectGrpc(server.url, { schema: flowSchema });
  const total = 20_000;
  let produced = 0;
  const input = (async function* () {
    for (let n = 0; n < total; n++) {
      produced++;
      yield { n, data: KB };
    }
  })();
  const stream = client.openStream("flow.Flow/Consume", undefined, { input });
  let before = -1;
  for (let i = 0; i < 50 && produced !== before; i++) {
    before = produced;
    await sleep(50);
  }
  const ahead = produced - consumed;
  assert.ok(ahead < 1000, `the caller's generator got ${ahead} messages ahead of the handler`);
  go();
  assert.deepEqual(await stream.result, { n: total });
  console.log(`caller generator ahead of a stopped handler: ${ahead} messages of 1 KiB`);
});

Deno.test("gzip streams: compressed both ways, every kind", async () => {
  const encodings: (string | null)[] = [];
  const service = protoService(flowSchema, "flow.Flow", {
    Produce: async function* ({ n }: { n: number }) {
      for (let i = 0; i < n; i++) yield { n: i, data: new Uint8Array(2000).fill(i) };
    },
    Consume: async (input: AsyncIterable<{ data: Uint8Array }>) => {
      let n = 0;
      for await (const { data } of input) n += data.length;
      return { n };
    },
    Echo: async function* (input: AsyncIterable<{ n: number; data: Uint8Array }>) {
      yield* input;
    },
  });
  await using server = await serveGrpc({
    schema: flowSchema,
    service,
    compressThreshold: 100,
    onCall: ({ request }) => encodings.push(request.get("grpc-encoding")),
  });
  await using client = connectGrpc(server.url, { schema: flowSchema, compression: "gzip" });
  let seen: GrpcResponseMetadata | undefined;
  const produce = client.openStream("flow.Flow/Produce", { n: 50 }, {
    onMetadata: (metadata) => seen = metadata,
  });
  const chunks = await collect(produce.messages as AsyncIterable<{ n: number; data: Uint8Array }>);
  assert.equal(chunks.length, 50);
  assert.deepEqual(chunks[49]!.data, new Uint8Array(2000).fill(49));
  assert.equal(seen?.headers.get("grpc-encoding"), "gzip");
  const chunksOf = async function* (count: number) {
    for (let n = 0; n < count; n++) yield { n, data: new Uint8Array(3000).fill(n) };
  };
  const consume = client.openStream("flow.Flow/Consume", undefined, { input: chunksOf(40) });
  assert.deepEqual(await consume.result, { n: 120_000 });
  const echo = client.openStream("flow.Flow/Echo", undefined, { input: chunksOf(20) });
  const echoed = await collect(echo.messages as AsyncIterable<{ n: number; data: Uint8Array }>);
  assert.deepEqual(echoed.map((c) => c.n), Array.from({ length: 20 }, (_, n) => n));
  assert.deepEqual(echoed[7]!.data, new Uint8Array(3000).fill(7));
  assert.deepEqual(encodings, ["gzip", "gzip", "gzip"]);
});

Deno.test("a message over the limit mid-stream is 8 RESOURCE_EXHAUSTED, each way", async () => {
  const service = protoService(flowSchema, "flow.Flow", {
    Produce: async function* ({ n }: { n: number }) {
      for (let i = 0; i < n; i++) yield { n: i, data: new Uint8Array(i === 3 ? 5000 : 10) };
    },
    Consume: async (input: AsyncIterable<unknown>) => {
      let n = 0;
      for await (const _ of input) n++;
      return { n };
    },
  });
  await using server = await serveGrpc({
    schema: flowSchema,
    service,
    limits: { maxFrameSize: 1024 },
  });
  // The request's fourth message is over the server's limit.
  await using client = connectGrpc(server.url, { schema: flowSchema, maxMessageSize: 1024 });
  const sizes = async function* () {
    for (const size of [10, 10, 10, 5000, 10]) yield { data: new Uint8Array(size) };
  };
  const consume = client.openStream("flow.Flow/Consume", undefined, { input: sizes() });
  const refused = await rejection(consume.result, ConnectError);
  assert.equal(refused.code, 8);
  assert.match(refused.message, /exceeds the limit of 1024 bytes/);
  // The reply's fourth message is over the client's limit: three read, then 8.
  const produce = client.openStream("flow.Flow/Produce", { n: 10 });
  const { read, error: tooBig } = await readToError(produce.messages);
  assert.equal(tooBig.code, 8);
  assert.equal(read.length, 3);
  // Both still serve.
  const small = client.openStream("flow.Flow/Consume", undefined, { input: sizes() });
  assert.equal((await rejection(small.result, ConnectError)).code, 8);
  const fine = client.openStream("flow.Flow/Produce", { n: 3 });
  assert.equal((await collect(fine.messages)).length, 3);
});
