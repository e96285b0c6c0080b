/**
 * Hostile Connect streaming requests: an envelope length of 2^31, a request
 * that never ends (with no bytes, or a trickle), a flood of tiny messages,
 * a bidi caller that sends and never reads. Each ends with a clear error,
 * memory stays bounded, and other callers are served meanwhile.
 */

import assert from "node:assert/strict";
import { protoClient } from "../codecs/protobuf.ts";
import { connectClient } from "../protocols/connect.ts";
import type { Calculator } from "../examples/calculator/calculator_types.ts";
import {
  envelope,
  envelopesOf,
  joined,
  post,
  schema,
  settledCount,
  startServer,
} from "./_connect_streams.ts";

const Number = schema.message("interop.Number");
const RangeRequest = schema.message("interop.RangeRequest");

/**
 * Posts `first` and then nothing more, the body left open: the answer's
 * envelopes, read while the body is still open. Then the body is ended:
 * Deno.serve keeps a connection whose request never ended open after
 * answering it (its graceful shutdown waits for it), so the test lets go.
 */
async function neverEnding(url: string, first: Uint8Array) {
  let open!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(stream) {
      open = stream;
      if (first.length > 0) stream.enqueue(first);
    },
  });
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/connect+proto" },
      body,
      duplex: "half",
    } as RequestInit);
    return await envelopesOf(response);
  } finally {
    open.close();
  }
}

Deno.test("Connect streaming, hostile: an envelope length of 2^31 is refused from its prefix", async () => {
  await using server = startServer().server;
  for (const method of ["Range", "Total", "Running"]) {
    // The prefix alone, and a body that never ends: the answer does not wait for it.
    const envelopes = await neverEnding(
      `${server.url}/interop.Calculator/${method}`,
      new Uint8Array([0, 0x80, 0, 0, 0]),
    );
    const error = envelopes.at(-1)?.end?.error;
    assert.equal(error?.code, "resource_exhausted", method);
    assert.match(error!.message, /2147483648 bytes exceeds the limit of 16777216/, method);
  }
});

Deno.test("Connect streaming, hostile: a request that never ends is bounded by idleTimeout and the deadline", async () => {
  const { server, errors } = startServer({ limits: { idleTimeout: 300 } });
  await using _ = server;
  // No byte at all: idleTimeout, for a client stream and for the one message of a server stream.
  for (const method of ["Total", "Range"]) {
    const envelopes = await neverEnding(
      `${server.url}/interop.Calculator/${method}`,
      new Uint8Array(),
    );
    const error = envelopes.at(-1)?.end?.error;
    assert.equal(error?.code, "deadline_exceeded", method);
    assert.match(error!.message, /No request message for 300 ms \(limit idleTimeout\)/);
  }
  // A message now and then, never the end: the call's deadline ends it.
  let sent = 0;
  let answered = false;
  const trickle = new ReadableStream<Uint8Array>({
    async pull(controller) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Stopped once answered: Deno.serve reads on (and keeps the connection)
      // as long as a client sends, whatever its handler did with the body.
      if (answered) return controller.close();
      sent++;
      controller.enqueue(envelope(0, Number.encode({ value: 1 })));
    },
  });
  const response = await post(`${server.url}/interop.Calculator/Total`, trickle, {
    "connect-timeout-ms": "600",
  });
  const error = (await envelopesOf(response)).at(-1)?.end?.error;
  answered = true;
  assert.equal(error?.code, "deadline_exceeded");
  assert.ok(sent > 1, `${sent} messages sent`);
  assert.deepEqual(errors, []);
});

Deno.test("Connect streaming, hostile: a flood of tiny messages, memory bounded, others served", async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  assert.ok(gc, "run with --v8-flags=--expose-gc");
  const retained = () => {
    gc();
    return Deno.memoryUsage().heapUsed;
  };
  await using server = startServer().server;
  await using client = connectClient(server.url, { schema });
  const calc = protoClient<Calculator>(client, schema, "interop.Calculator");
  await calc.Add({ num1: 1, num2: 1 }); // warm
  const before = retained();
  // 2,000,000 messages of 2 bytes (7 bytes enveloped): 14 MB in 64 KiB
  // chunks, as fast as fetch sends; what the server holds is measured
  // (after a collection) every 32 chunks.
  const count = 2_000_000;
  const one = envelope(0, Number.encode({ value: 1 }));
  const chunk = joined(...Array.from({ length: 65536 / one.length | 0 }, () => one));
  const perChunk = chunk.length / one.length;
  let chunks = 0;
  let most = 0;
  const flood = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (chunks * perChunk >= count) return controller.close();
      if (chunks % 32 === 0) most = Math.max(most, retained() - before);
      const left = count - chunks * perChunk;
      controller.enqueue(left >= perChunk ? chunk : chunk.subarray(0, left * one.length));
      chunks++;
    },
  });
  let served = 0;
  let flooding = true;
  const others = (async () => {
    // Other callers meanwhile: unary calls and a small stream, all answered.
    for (let i = 0; flooding && i < 10_000; i++) {
      assert.deepEqual(await calc.Add({ num1: i, num2: 1 }), { sum: i + 1 });
      const one = (async function* () {
        yield { value: i };
      })();
      assert.deepEqual(await calc.Total(one), { total: BigInt(i) });
      served++;
    }
  })();
  const response = await post(`${server.url}/interop.Calculator/Total`, flood);
  const envelopes = await envelopesOf(response);
  flooding = false;
  await others;
  const SumReply = schema.message("interop.SumReply");
  assert.deepEqual(SumReply.decode(envelopes[0]!.data), { total: BigInt(count) });
  assert.deepEqual(envelopes[1]?.end, {});
  assert.ok(served > 0, "other callers were served during the flood");
  console.log(
    `flood of ${count} messages (${(count * one.length / 2 ** 20).toFixed(0)} MiB): at most ` +
      `${(most / 2 ** 20).toFixed(1)} MiB more held; ${served} other calls served meanwhile`,
  );
  // Read as the handler sums: a few chunks held at a time, not the 14 MB
  // (nor the 2,000,000 messages decoded, ~100 MB as objects).
  assert.ok(most < 8 * 2 ** 20, `${most} bytes more held during the flood`);
});

Deno.test("Connect streaming, hostile: a bidi caller that sends and never reads is cut off", async () => {
  const { server } = startServer({ maxBodySize: 64 * 1024 });
  await using _ = server;
  // Running answers each number; nobody reads the answers, so it stops
  // reading numbers, and the request is read ahead at most 64 KiB beyond a
  // message (Deno.serve would otherwise buffer it, unbounded on HTTP/1.1).
  let sent = 0;
  const one = envelope(0, Number.encode({ value: 1 }));
  const chunk = joined(...Array.from({ length: 8192 }, () => one)); // 56 KiB
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent++ >= 200) return controller.close(); // 11 MB at most
      controller.enqueue(chunk);
    },
  });
  const response = await post(`${server.url}/interop.Calculator/Running`, body);
  // Read only once the server has stopped taking the body.
  await settledCount(() => sent);
  const envelopes = await envelopesOf(response);
  const error = envelopes.at(-1)?.end?.error;
  assert.equal(error?.code, "resource_exhausted", JSON.stringify(envelopes.at(-1)?.end));
  assert.match(error!.message, /ahead of the handler/);
  // And the server serves on.
  const range = await envelopesOf(
    await post(
      `${server.url}/interop.Calculator/Range`,
      envelope(0, RangeRequest.encode({ count: 2 })),
    ),
  );
  assert.equal(range.length, 3);
});
