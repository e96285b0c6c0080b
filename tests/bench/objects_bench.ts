/**
 * `deno task bench` (remote objects): a chain of three dependent calls —
 * `start()`, `.next()` on its result, `.value()` on that — sent at once with
 * promise pipelining, against the same three calls each awaited before the
 * next is made, and a plain JSON-RPC call for scale. One chain at a time over
 * TCP, the server in its own process; rounds alternate. Then 100,000 small
 * items streamed from a remote async iterable against the same items
 * returned as one array.
 *
 * @module
 */

import { jsonRpc } from "../../codecs/json_rpc.ts";
import { ObjectSession } from "../../rpc/objects/mod.ts";
import { newline } from "../../rpc/framing/delimiter.ts";
import { connectTcp } from "../../rpc/transports/tcp.ts";
import { drive, ROUNDS, SECONDS, startServer } from "./_harness.ts";
import { Report } from "./_report.ts";

interface Step {
  next(): Step;
  value(): number;
}
type Root = {
  start(): Step;
  items(count: number): AsyncIterable<{ i: number }>;
  array(count: number): { i: number }[];
};

/** Items of the stream measurement (`BENCH_STREAM_ITEMS`, 100,000 by default). */
const STREAM_ITEMS = Number(Deno.env.get("BENCH_STREAM_ITEMS") ?? "100000");

async function chains(pipelined: boolean): Promise<number> {
  const server = await startServer("objects");
  const objects = new ObjectSession();
  const peer = await connectTcp({ hostname: "127.0.0.1", port: server.port }, {
    codec: jsonRpc(),
    framing: newline(),
    service: objects.service,
  });
  objects.attach(peer);
  const api = objects.root<Root>();
  const rate = await drive(1, async () => {
    if (pipelined) return await api.start().next().value();
    const first = await api.start();
    const second = await first.next();
    return await second.value();
  });
  await peer.close();
  await server.stop();
  return rate;
}

// Items per second: the same items streamed (`for await` over a remote async
// iterable) or returned as one array, repeated for SECONDS (at least once,
// at most 50 times) on one connection.
async function items(streamed: boolean): Promise<number> {
  const server = await startServer("objects");
  const objects = new ObjectSession();
  const peer = await connectTcp({ hostname: "127.0.0.1", port: server.port }, {
    codec: jsonRpc(),
    framing: newline(),
    service: objects.service,
  });
  objects.attach(peer);
  const api = objects.root<Root>();
  const deadline = performance.now() + SECONDS * 1000;
  const start = performance.now();
  let total = 0;
  for (let run = 0; run < 50 && (run === 0 || performance.now() < deadline); run++) {
    let sum = 0;
    if (streamed) {
      for await (const item of await api.items(STREAM_ITEMS)) sum += item.i;
    } else {
      for (const item of await api.array(STREAM_ITEMS)) sum += item.i;
    }
    if (sum !== (STREAM_ITEMS * (STREAM_ITEMS - 1)) / 2) throw new Error(`wrong sum ${sum}`);
    total += STREAM_ITEMS;
  }
  const rate = total / ((performance.now() - start) / 1000);
  await peer.close();
  await server.stop();
  return rate;
}

async function plainCalls(): Promise<number> {
  const server = await startServer("jsonrpc-newline");
  const peer = await connectTcp({ hostname: "127.0.0.1", port: server.port }, {
    codec: jsonRpc(),
    framing: newline(),
  });
  const rate = await drive(1, () => peer.call("add", [1, 2]));
  await peer.close();
  await server.stop();
  return rate;
}

const report = new Report("chains/s");
for (let round = 1; round <= ROUNDS; round++) {
  const pipelined = await chains(true);
  const awaited = await chains(false);
  const single = await plainCalls();
  report.record("three dependent calls, pipelined (one round trip)", pipelined);
  report.record("three dependent calls, each awaited", awaited);
  report.record("one plain JSON-RPC call (calls/s)", single);
  report.record("ratio pipelined/awaited", pipelined / awaited);
  report.record("ratio pipelined chain/one plain call", pipelined / single);
  console.error(
    `round ${round}: pipelined ${pipelined.toFixed(0)}/s, awaited ${awaited.toFixed(0)}/s (${
      (pipelined / awaited).toFixed(2)
    })`,
  );
}
report.print(
  `Remote objects over TCP: a chain of three dependent calls, ${ROUNDS} alternating rounds of ${SECONDS} s (median)`,
);

const streams = new Report("items/s");
for (let round = 1; round <= ROUNDS; round++) {
  const streamed = await items(true);
  const array = await items(false);
  streams.record(`${STREAM_ITEMS} items streamed (for await)`, streamed);
  streams.record(`the same items returned as one array`, array);
  streams.record("ratio streamed/array", streamed / array);
  console.error(
    `round ${round}: streamed ${streamed.toFixed(0)}/s, array ${array.toFixed(0)}/s (${
      (streamed / array).toFixed(2)
    })`,
  );
}
streams.print(
  `Remote-object streams over TCP (JSON-RPC, newline): ${STREAM_ITEMS} small items, ${ROUNDS} alternating rounds (median)`,
);
