/**
 * Connect streaming on `connectHandler` and `connectClient`: the
 * calculator's Range (server streaming), Total (client streaming) and
 * Running (bidi) in both formats, errors with details after messages,
 * cancellation and deadlines reaching the handler, backpressure both ways,
 * size limits and gzip, and bidi over HTTP/2 with TLS. connect-es itself is
 * in `interop/node_connect_stream_test.ts`; hostile requests in
 * `connect_stream_hostile_test.ts`.
 */

import assert from "node:assert/strict";
import { protoClient } from "../codecs/protobuf.ts";
import { connectClient, ConnectError } from "../protocols/connect.ts";
import { TimeoutError } from "../mod.ts";
import type { Calculator } from "../examples/calculator/calculator_types.ts";
import { rejection } from "./_rejection.ts";
import { makeCertificates } from "./_certificates.ts";
import {
  envelope,
  envelopesOf,
  post,
  probeSchema,
  schema,
  settledCount,
  startServer,
} from "./_connect_streams.ts";

const I64_MAX = 2n ** 63n - 1n;
const connectError = (promise: Promise<unknown>) => rejection(promise, ConnectError);

async function collect<T>(messages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const message of messages) out.push(message);
  return out;
}

async function* numbers(...values: (bigint | number)[]) {
  for (const value of values) yield { value };
}

for (const format of ["proto", "json"] as const) {
  Deno.test(`Connect streaming (${format}): Range, Total and Running through protoClient`, async () => {
    await using server = startServer().server;
    await using client = connectClient(server.url, { schema, format });
    const calc = protoClient<Calculator>(client, schema, "interop.Calculator");
    const range = await collect(calc.Range({ start: 2 ** 31 - 2, count: 4, delayMs: 0 }));
    assert.deepEqual(range.map((n) => n.value), [
      2n ** 31n - 2n,
      2n ** 31n - 1n,
      2n ** 31n,
      2n ** 31n + 1n,
    ]);
    assert.deepEqual(await collect(calc.Range({ start: 0, count: 0, delayMs: 0 })), []);
    // Exact: the sum stays a bigint beyond 2^53, range-checked only at the end.
    assert.deepEqual(await calc.Total(numbers(I64_MAX, 1, -1)), { total: I64_MAX });
    assert.deepEqual(await calc.Total(numbers()), { total: 0n });
    const running = await collect(calc.Running(numbers(1, 2n ** 60n, -3)));
    assert.deepEqual(running.map((r) => r.total), [1n, 2n ** 60n + 1n, 2n ** 60n - 2n]);
    // A unary call on the same client, alongside.
    assert.deepEqual(await calc.Add({ num1: 1, num2: 2 }), { sum: 3 });
  });

  Deno.test(`Connect streaming (${format}): errors carry their details, after the messages sent`, async () => {
    await using server = startServer().server;
    await using client = connectClient(server.url, { schema, format });
    const calc = protoClient<Calculator>(client, schema, "interop.Calculator");
    // Refused before any message.
    const count = await connectError(collect(calc.Range({ start: 0, count: -1, delayMs: 0 })));
    assert.equal(count.connectCode, "invalid_argument");
    assert.deepEqual(count.details, [{
      type: "interop.InvalidOperation",
      value: { whatOp: 1, why: "invalid count" },
    }]);
    // Running sends its first total, then fails: the loop sees both.
    const seen: bigint[] = [];
    const overflow = await connectError((async () => {
      for await (const { total } of calc.Running(numbers(I64_MAX, 1))) seen.push(total);
    })());
    assert.deepEqual(seen, [I64_MAX]);
    assert.equal(overflow.connectCode, "invalid_argument");
    assert.equal(overflow.message, "overflow");
    assert.deepEqual(overflow.data, { whatOp: 1, why: "overflow" });
    const total = await connectError(calc.Total(numbers(I64_MAX, 1)));
    assert.deepEqual(total.data, { whatOp: 1, why: "overflow" });
  });
}

Deno.test("Connect streaming: the raw exchange is Connect's (HTTP 200, envelopes, the end-of-stream message)", async () => {
  await using server = startServer().server;
  const Range = schema.message("interop.RangeRequest");
  const response = await post(
    `${server.url}/interop.Calculator/Range`,
    envelope(0, Range.encode({ start: 7, count: 2 })),
    { "x-request-tag": "r-1" },
  );
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/connect+proto");
  assert.equal(response.headers.get("x-request-tag"), "r-1");
  const envelopes = await envelopesOf(response);
  const Number = schema.message("interop.Number");
  assert.deepEqual(envelopes.slice(0, 2).map((e) => [e.flags, Number.decode(e.data)]), [
    [0, { value: 7n }],
    [0, { value: 8n }],
  ]);
  assert.deepEqual(envelopes[2]?.end, { metadata: { "x-request-tag-end": ["r-1"] } });
  assert.equal(envelopes.length, 3);
  // A failure is still HTTP 200, the error in the end-of-stream message.
  const failed = await envelopesOf(
    await post(`${server.url}/interop.Calculator/Range`, envelope(0, Range.encode({ count: -5 }))),
  );
  assert.equal(failed.length, 1);
  assert.equal(failed[0]?.end?.error?.code, "invalid_argument");
});

Deno.test("Connect streaming: leaving the loop early stops the server's generator (finally, signal)", async () => {
  const { server, probe } = startServer();
  await using _ = server;
  await using client = connectClient(`${server.url}/probe`, { schema: probeSchema });
  const stream = client.openStream("probe.Streams/Forever", { n: 1 });
  const seen: unknown[] = [];
  for await (const message of stream.messages) {
    seen.push((message as { n: bigint }).n);
    if (seen.length === 3) break;
  }
  assert.deepEqual(seen, [1n, 2n, 3n]);
  await probe.finished; // the generator's finally ran
  const reason = await probe.aborted;
  assert.ok(reason instanceof ConnectError);
  assert.equal(reason.connectCode, "canceled");
  await assert.rejects(stream.result, { connectCode: "canceled" });
});

Deno.test("Connect streaming: a deadline mid-stream ends the call on both sides", async () => {
  const { server, probe } = startServer();
  await using _ = server;
  const N = probeSchema.message("probe.N");
  // No client timer: the server's deadline alone ends it, after one message.
  const response = await post(
    `${server.url}/probe/probe.Streams/Wait`,
    envelope(0, N.encode({ n: 5 })),
    {
      "connect-timeout-ms": "150",
    },
  );
  const envelopes = await envelopesOf(response);
  assert.deepEqual(N.decode(envelopes[0]!.data), { n: 5n, pad: new Uint8Array() });
  assert.equal(envelopes[1]?.end?.error?.code, "deadline_exceeded");
  assert.equal(((await probe.aborted) as ConnectError).connectCode, "deadline_exceeded");
  await probe.finished;
  // Through the client: its timeout is sent as Connect-Timeout-Ms and kept by its own timer.
  await using client = connectClient(`${server.url}/probe`, { schema: probeSchema });
  const seen: unknown[] = [];
  const error = await (async () => {
    try {
      const stream = client.openStream("probe.Streams/Wait", { n: 9 }, { timeout: 150 });
      for await (const message of stream.messages) seen.push(message);
      return undefined;
    } catch (error) {
      return error;
    }
  })();
  assert.equal(seen.length, 1);
  assert.ok(
    error instanceof TimeoutError ||
      (error instanceof ConnectError && error.connectCode === "deadline_exceeded"),
    String(error),
  );
});

Deno.test("Connect streaming: a slow reader holds the server's generator back", async () => {
  const { server, probe } = startServer();
  await using _ = server;
  const N = probeSchema.message("probe.N");
  const pad = 64 * 1024;
  const controller = new AbortController();
  const response = await fetch(`${server.url}/probe/probe.Streams/Forever`, {
    method: "POST",
    headers: { "content-type": "application/connect+proto" },
    body: envelope(0, N.encode({ n: 0, pad: new Uint8Array(pad) })),
    signal: controller.signal,
  });
  const reader = response.body!.getReader();
  await reader.read(); // the reply has started; then nobody reads
  const produced = await settledCount(() => probe.produced);
  // What the sockets' buffers hold, a few MiB, not the 6.5 GB the generator
  // would make in the time: it waits for the reader.
  assert.ok(produced < 400, `${produced} messages of 64 KiB made ahead of the reader`);
  controller.abort();
  await probe.finished;
  console.log(`made ahead of a stalled reader: ${produced} messages of 64 KiB`);
});

Deno.test("Connect streaming: the request is read as the handler asks for messages", async () => {
  const { server, probe } = startServer();
  await using _ = server;
  await using client = connectClient(`${server.url}/probe`, { schema: probeSchema });
  let pulled = 0;
  const controller = new AbortController();
  async function* many() {
    for (;;) {
      pulled++;
      yield { n: pulled, pad: new Uint8Array(64 * 1024) };
    }
  }
  const stream = client.openStream("probe.Streams/Hold", undefined, {
    input: many(),
    signal: controller.signal,
  });
  stream.result.catch(() => {});
  const sent = await settledCount(() => pulled);
  assert.equal(probe.read, 1); // the handler asked for one message
  assert.ok(sent < 400, `${sent} messages of 64 KiB taken from the caller, the handler read 1`);
  console.log(`taken from a caller whose server reads nothing more: ${sent} messages of 64 KiB`);
  // The caller goes; the handler, reading on, learns it.
  controller.abort();
  probe.release();
  const error = await probe.failed;
  assert.ok(error instanceof ConnectError);
  assert.equal(error.connectCode, "canceled");
  assert.equal(((await probe.aborted) as ConnectError).connectCode, "canceled");
});

Deno.test("Connect streaming: message size limits both ways are resource_exhausted", async () => {
  await using server = startServer({ maxBodySize: 1024 }).server;
  await using client = connectClient(server.url, { schema, maxBodySize: 1024 });
  const calc = protoClient<Calculator>(client, schema, "interop.Calculator");
  // 200 numbers of 10 bytes each: one Range reply is small, the request messages too.
  assert.equal((await collect(calc.Range({ start: 0, count: 200, delayMs: 0 }))).length, 200);
  const Range = schema.message("interop.RangeRequest");
  const big = new Uint8Array(2000);
  big.set(Range.encode({ count: 1 }));
  const envelopes = await envelopesOf(
    await post(`${server.url}/interop.Calculator/Range`, envelope(0, big)),
  );
  assert.equal(envelopes[0]?.end?.error?.code, "resource_exhausted");
  assert.match(envelopes[0]!.end!.error!.message, /2000 bytes exceeds the limit of 1024/);
  // A reply message over the client's limit.
  await using probe = connectClient(`${server.url}/probe`, {
    schema: probeSchema,
    maxBodySize: 512,
  });
  const stream = probe.openStream("probe.Streams/Forever", { n: 1, pad: new Uint8Array(600) });
  const error = await connectError(collect(stream.messages));
  assert.equal(error.connectCode, "resource_exhausted");
});

Deno.test("Connect streaming: gzip per message both ways", async () => {
  await using server = startServer({ compressThreshold: 100 }).server;
  await using client = connectClient(`${server.url}/probe`, {
    schema: probeSchema,
    compressThreshold: 100,
  });
  const N = probeSchema.message("probe.N");
  // The server compresses a reply message over its threshold for a client that accepts gzip.
  const response = await post(
    `${server.url}/probe/probe.Streams/Wait`,
    envelope(0, N.encode({ n: 1 })),
    { "connect-accept-encoding": "gzip", "connect-timeout-ms": "100" },
  );
  assert.equal(response.headers.get("connect-content-encoding"), "gzip");
  const [first] = await envelopesOf(response);
  assert.equal(first?.flags, 0); // 2 bytes: not worth compressing
  const padded = await post(
    `${server.url}/probe/probe.Streams/Wait`,
    envelope(0, N.encode({ n: 1, pad: new Uint8Array(500) })),
    { "connect-accept-encoding": "gzip", "connect-timeout-ms": "100" },
  );
  const [compressed] = await envelopesOf(padded);
  assert.equal(compressed?.flags, 1);
  assert.ok(compressed!.data.length < 100, `${compressed!.data.length} bytes`);
  // connectClient sends gzipped messages and reads gzipped replies.
  const stream = client.openStream("probe.Streams/Wait", { n: 3, pad: new Uint8Array(300) });
  for await (const message of stream.messages) {
    assert.deepEqual(message, { n: 3n, pad: new Uint8Array(300) });
    break;
  }
  await using calculator = connectClient(server.url, { schema, compressThreshold: 0 });
  const calc = protoClient<Calculator>(calculator, schema, "interop.Calculator");
  assert.deepEqual(await calc.Total(numbers(1, 2, 3)), { total: 6n });
  // A message that inflates past the limit: resource_exhausted, nothing past it kept.
  await using small = startServer({ maxBodySize: 4096 }).server;
  const bomb = new Uint8Array(
    await new Response(
      new Blob([new Uint8Array(1 << 20)]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer(),
  );
  const envelopes = await envelopesOf(
    await post(`${small.url}/interop.Calculator/Total`, envelope(1, bomb), {
      "connect-content-encoding": "gzip",
    }),
  );
  assert.equal(envelopes.at(-1)?.end?.error?.code, "resource_exhausted");
});

Deno.test("Connect streaming: bidi over HTTP/2 with TLS, each reply before the next request", async () => {
  await using certificates = await makeCertificates();
  const { server } = startServer({ tls: { cert: certificates.cert, key: certificates.key } });
  await using _ = server;
  using http2 = Deno.createHttpClient({ caCerts: [certificates.ca], http2: true, http1: false });
  await using client = connectClient(server.url, {
    schema,
    fetch: (input, init) => fetch(input, { ...init, client: http2 }),
  });
  const calc = protoClient<Calculator>(client, schema, "interop.Calculator");
  // The next number is sent only once the total of the last came back: a
  // half-duplex exchange would never finish.
  const totals: bigint[] = [];
  let answered = Promise.withResolvers<void>();
  async function* lockstep() {
    for (const value of [5n, 6n, 7n]) {
      yield { value };
      await answered.promise;
      answered = Promise.withResolvers<void>();
    }
  }
  for await (const { total } of calc.Running(lockstep())) {
    totals.push(total);
    answered.resolve();
  }
  assert.deepEqual(totals, [5n, 11n, 18n]);
});

Deno.test("Connect streaming: requests no Connect client should send get Connect's answers", async () => {
  await using server = startServer({ limits: { maxInFlight: 1 } }).server;
  const Range = schema.message("interop.RangeRequest");
  const range = `${server.url}/interop.Calculator/Range`;
  const one = envelope(0, Range.encode({ count: 1 }));
  const endError = async (response: Promise<Response>) => {
    const answer = await response;
    assert.equal(answer.status, 200);
    return (await envelopesOf(answer)).at(-1)?.end?.error;
  };
  const cases: [string, Promise<Response>, string, RegExp][] = [
    [
      "a bad timeout",
      post(range, one, { "connect-timeout-ms": "soon" }),
      "invalid_argument",
      /Connect-Timeout-Ms/,
    ],
    [
      "protocol version 2",
      post(range, one, { "connect-protocol-version": "2" }),
      "invalid_argument",
      /Protocol-Version/,
    ],
    [
      "an unknown encoding",
      post(range, one, { "connect-content-encoding": "br" }),
      "unimplemented",
      /br/,
    ],
    ["no message", post(range, new Uint8Array()), "invalid_argument", /none came/],
    [
      "two messages",
      post(range, new Uint8Array([...one, ...one])),
      "invalid_argument",
      /more came/,
    ],
    [
      "a truncated envelope",
      post(range, one.subarray(0, 6)),
      "invalid_argument",
      /inside a message/,
    ],
    [
      "an end-of-stream flag",
      post(range, envelope(2, new Uint8Array())),
      "invalid_argument",
      /end of a stream/,
    ],
    [
      "a compressed flag, no encoding",
      post(range, envelope(1, new Uint8Array())),
      "invalid_argument",
      /compressed/,
    ],
    [
      "a message that does not decode",
      post(range, envelope(0, new Uint8Array([0x0f]))),
      "invalid_argument",
      /not a interop.RangeRequest/,
    ],
    [
      "JSON of the wrong type",
      post(range, envelope(0, new TextEncoder().encode('{"count":"x"}')), {}, "json"),
      "invalid_argument",
      /RangeRequest/,
    ],
  ];
  for (const [what, response, code, message] of cases) {
    const error = await endError(response);
    assert.equal(error?.code, code, what);
    assert.match(error!.message, message, what);
  }
  // HTTP's own answers: the wrong content type for the method's kind, an unknown method.
  const unary = await fetch(range, {
    method: "POST",
    headers: { "content-type": "application/proto" },
    body: "",
  });
  assert.equal(unary.status, 415);
  assert.match(await unary.text(), /streaming method/);
  const add = await post(`${server.url}/interop.Calculator/Add`, one);
  assert.equal(add.status, 415);
  await add.body?.cancel();
  const unknown = await post(`${server.url}/interop.Calculator/Nope`, one);
  assert.equal(unknown.status, 404);
  assert.equal((await unknown.json()).code, "unimplemented");
  // One call in flight at most: a second, while the first waits, is refused.
  const waiting = await post(range, envelope(0, Range.encode({ count: 1, delayMs: 60_000 })));
  const busy = await endError(post(range, one));
  assert.equal(busy?.code, "resource_exhausted");
  await waiting.body?.cancel(); // the first ends: its slot is free again
  const again = await settledCount(() => 0, { settled: 1 }); // a turn for the server to see it
  assert.equal(again, 0);
  assert.equal((await envelopesOf(await post(range, one))).length, 2);
});
