// Remote-object streams read with credit (docs/protocol.md, "Streams"): the
// reader grants a window, the producer pushes `$/items` within it and is
// pulled no further; leaving, errors and connection loss end both sides; a
// producer that pushes beyond the credit fails the stream; an older producer
// (no `pull`) is pulled one item per call.

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { msgpackRpc } from "../codecs/msgpack_rpc.ts";
import type { Codec } from "../rpc/types.ts";
import { Peer } from "../rpc/peer.ts";
import { memoryPair } from "../rpc/testing.ts";
import { ConnectionClosedError, ProtocolError, RpcError } from "../rpc/errors.ts";
import { ObjectErrorCode, ObjectSession } from "../rpc/objects/mod.ts";

function connect<R>(root: R, window?: number, codec: () => Codec = jsonRpc, maxDepth?: number) {
  const [a, b] = memoryPair();
  const server = new ObjectSession({ root, ...(maxDepth === undefined ? {} : { maxDepth }) });
  const serverPeer = new Peer(a, { codec: codec(), service: server.service });
  server.attach(serverPeer);
  const client = new ObjectSession(window === undefined ? {} : { streamWindow: window });
  const peer = new Peer(b, { codec: codec(), service: client.service, timeout: 5_000 });
  client.attach(peer);
  return { server, client, peer, serverPeer, api: client.root<R>() };
}

const turn = () => new Promise((r) => setTimeout(r, 1));
const settle = () => new Promise((r) => setTimeout(r, 20));

// A producer that counts how far it was pulled, and whether its finally ran.
function counting(count: number, progress: { pulled: number; finished: boolean }) {
  return async function* () {
    try {
      for (let i = 0; i < count; i++) {
        progress.pulled++;
        yield i;
      }
    } finally {
      progress.finished = true;
    }
  };
}

for (const [name, codec] of [["JSON-RPC", jsonRpc], ["msgpack-rpc", msgpackRpc]] as const) {
  Deno.test(`objects streams (${name}): a slow reader holds the producer to the window it granted`, async () => {
    const progress = { pulled: 0, finished: false };
    const root = { numbers: counting(100, progress) };
    const { api, peer, server } = connect(root, 8, codec);
    let read = 0;
    for await (const n of await api.numbers() as unknown as AsyncIterable<number>) {
      assert.equal(n, read);
      read++;
      assert.ok(progress.pulled <= read + 8, `pulled ${progress.pulled} for ${read} read`);
      await turn(); // a slow reader: the producer gets every chance to run ahead
      assert.ok(progress.pulled <= read + 8, `pulled ${progress.pulled} for ${read} read`);
    }
    assert.equal(read, 100);
    assert.ok(progress.finished);
    await settle();
    assert.equal(server.exportCount, 0, "the iterator was released");
    await peer.close();
  });
}

Deno.test("objects streams: the end value and many items in batches arrive in order", async () => {
  const root = {
    async *numbers(count: number) {
      for (let i = 0; i < count; i++) yield { i, big: 2n ** 60n + BigInt(i) };
      return "end";
    },
  };
  const { api, peer } = connect(root, undefined, msgpackRpc);
  const iterator = (await api.numbers(5000) as unknown as AsyncIterable<unknown>)[
    Symbol.asyncIterator
  ]();
  for (let i = 0; i < 5000; i++) {
    assert.deepEqual(await iterator.next(), {
      done: false,
      value: { i, big: 2n ** 60n + BigInt(i) },
    });
  }
  assert.deepEqual(await iterator.next(), { done: true, value: "end" });
  assert.deepEqual(await iterator.next(), { done: true, value: undefined });
  await peer.close();
});

Deno.test("objects streams: reads made at once (next() not awaited in turn) each get their item", async () => {
  const { api, peer } = connect({ numbers: counting(10, { pulled: 0, finished: false }) }, 4);
  const iterator = (await api.numbers() as unknown as AsyncIterable<number>)
    [Symbol.asyncIterator]();
  const steps = await Promise.all(Array.from({ length: 12 }, () => iterator.next()));
  assert.deepEqual(steps.map((s) => s.value), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, undefined, undefined]);
  assert.deepEqual(steps.map((s) => s.done), [...Array(10).fill(false), true, true]);
  await peer.close();
});

Deno.test("objects streams: a producer slower than the peer's default timeout is read to the end", async () => {
  const root = {
    async *slow() {
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 40));
        yield i;
      }
    },
  };
  const [a, b] = memoryPair();
  const server = new ObjectSession({ root });
  server.attach(new Peer(a, { codec: jsonRpc(), service: server.service }));
  const client = new ObjectSession();
  // Each grant waits for its items longer than this timeout allows a call.
  const peer = new Peer(b, { codec: jsonRpc(), service: client.service, timeout: 50 });
  client.attach(peer);
  const seen: number[] = [];
  for await (
    const n of await client.root<typeof root>().slow() as unknown as AsyncIterable<number>
  ) {
    seen.push(n);
  }
  assert.deepEqual(seen, [0, 1, 2, 3]);
  await peer.close();
});

Deno.test("objects streams: leaving the loop stops the producer (its finally runs)", async () => {
  const progress = { pulled: 0, finished: false };
  const { api, peer, server } = connect({ numbers: counting(1_000_000, progress) }, 16);
  const seen: number[] = [];
  for await (const n of await api.numbers() as unknown as AsyncIterable<number>) {
    seen.push(n);
    if (n === 4) break;
  }
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  await settle();
  assert.ok(progress.finished, "return() reached the generator");
  assert.ok(progress.pulled <= 5 + 16, `pulled ${progress.pulled}`);
  assert.equal(server.exportCount, 0);
  await peer.close();
});

Deno.test("objects streams: the producer's error reaches the reader after the items before it", async () => {
  const root = {
    async *failing() {
      yield 1;
      yield 2;
      throw new RpcError(-32050, "producer broke");
    },
  };
  const { api, peer } = connect(root);
  const seen: number[] = [];
  const error = await (async () => {
    try {
      for await (const n of await api.failing() as unknown as AsyncIterable<number>) seen.push(n);
    } catch (error) {
      return error;
    }
    return undefined;
  })();
  assert.deepEqual(seen, [1, 2]);
  assert.ok(error instanceof RpcError);
  assert.equal(error.code, -32050);
  assert.equal(error.message, "producer broke");
  await peer.close();
});

Deno.test("objects streams: an item too deep to send fails the stream with TooDeep and exports nothing", async () => {
  const root = {
    async *deep() {
      yield 1;
      yield [[[[[[1]]]]]];
      yield 3;
    },
  };
  const { api, peer, server } = connect(root, undefined, jsonRpc, 4);
  const seen: unknown[] = [];
  const error = await (async () => {
    try {
      for await (const n of await api.deep() as unknown as AsyncIterable<number>) seen.push(n);
    } catch (error) {
      return error;
    }
    return undefined;
  })();
  assert.deepEqual(seen, [1]);
  assert.ok(error instanceof RpcError);
  assert.equal(error.code, ObjectErrorCode.TooDeep);
  await settle();
  assert.equal(server.exportCount, 0);
  await peer.close();
});

Deno.test("objects streams: items by reference are proxies (callbacks) on the reader's side", async () => {
  const root = {
    async *adders() {
      for (let i = 0; i < 3; i++) yield (n: number) => n + i;
    },
  };
  const { api, peer } = connect(root);
  const results: number[] = [];
  for await (const add of await api.adders() as unknown as AsyncIterable<(n: number) => number>) {
    results.push(await add(10));
  }
  assert.deepEqual(results, [10, 11, 12]);
  await peer.close();
});

Deno.test("objects streams: a ReadableStream is pulled no further than the credit; leaving cancels it", async () => {
  let cancelled = false;
  let pulled = 0;
  const root = {
    stream: () =>
      new ReadableStream<number>({
        pull(controller) {
          controller.enqueue(pulled++);
        },
        cancel() {
          cancelled = true;
        },
      }, { highWaterMark: 0 }),
  };
  const { api, peer } = connect(root, 4);
  const seen: number[] = [];
  for await (const n of await api.stream() as unknown as AsyncIterable<number>) {
    seen.push(n);
    await turn();
    if (seen.length === 10) break;
  }
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(pulled <= 10 + 4 + 1, `the server pulled ${pulled} chunks for 10 read`);
  await settle();
  assert.ok(cancelled, "leaving the loop cancelled the server's stream");
  await peer.close();
});

Deno.test("objects streams: connection loss ends the reader with an error and the producer's finally runs", async () => {
  const progress = { pulled: 0, finished: false };
  const { api, peer, serverPeer } = connect({ numbers: counting(1_000_000, progress) }, 8);
  const seen: number[] = [];
  const error = await (async () => {
    try {
      for await (const n of await api.numbers() as unknown as AsyncIterable<number>) {
        seen.push(n);
        if (n === 20) await serverPeer.close();
        await turn();
      }
    } catch (error) {
      return error;
    }
    return undefined;
  })();
  assert.ok(error instanceof ConnectionClosedError, String(error));
  assert.ok(seen.length >= 21 && seen.length <= 21 + 8, `read ${seen.length}`);
  await settle();
  assert.ok(progress.finished, "the producer was stopped");
  await peer.close();
});

// A hand-written producer that speaks only the wire: `$/call` on the root
// hands out iterator 1; what it does with `pull` and `next` is the test's.
function wireProducer(service: (peer: () => Peer) => Record<string, (...p: unknown[]) => unknown>) {
  const [a, b] = memoryPair();
  const serverPeer: Peer = new Peer(a, { codec: jsonRpc(), service: service(() => serverPeer) });
  const client = new ObjectSession({ streamWindow: 4 });
  const peer = new Peer(b, { codec: jsonRpc(), service: client.service, timeout: 5_000 });
  client.attach(peer);
  return { peer, api: client.root<{ numbers(): AsyncIterable<number> }>() };
}

Deno.test("objects streams: a producer that pushes beyond the credit fails the stream with a ProtocolError", async () => {
  const { peer, api } = wireProducer((server) => ({
    "$/call": (_target, path) => {
      const member = (path as string[])[0];
      if (member === "numbers") return { $ref: 1, type: "iterator" };
      if (member === "pull") {
        // Ten items for a credit of four.
        server().notify("$/items", [1, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
        return new Promise(() => {});
      }
      return { done: true };
    },
    "$/release": () => {},
  }));
  const seen: number[] = [];
  const error = await (async () => {
    try {
      for await (const n of await api.numbers()) seen.push(n);
    } catch (error) {
      return error;
    }
    return undefined;
  })();
  assert.deepEqual(seen, []);
  assert.ok(error instanceof ProtocolError, String(error));
  assert.match(error.message, /pushed 10 items, over the 4 granted/);
  await peer.close();
});

Deno.test("objects streams: an older producer without pull is pulled one item per call", async () => {
  let next = 0;
  const { peer, api } = wireProducer(() => ({
    "$/call": (_target, path) => {
      const member = (path as string[])[0];
      if (member === "numbers") return { $ref: 1, type: "iterator" };
      if (member === "next") return next < 3 ? { done: false, value: next++ } : { done: true };
      throw new RpcError(ObjectErrorCode.NotExposed, `"${member}" is not exposed`);
    },
    "$/release": () => {},
  }));
  const seen: number[] = [];
  for await (const n of await api.numbers()) seen.push(n);
  assert.deepEqual(seen, [0, 1, 2]);
  await peer.close();
});

Deno.test("objects streams: pull with a credit out of range is invalid params", async () => {
  const { peer, api } = connect({ async *numbers() {} });
  await using _ = peer;
  const iterable = await api.numbers() as unknown as object;
  void iterable;
  for (const bad of [0, -1, 1.5, 65_537, "4"]) {
    const error = await peer.call("$/call", [{ $you: 1 }, ["pull"], [bad]]).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(error instanceof RpcError, String(bad));
    assert.equal(error.code, -32602);
  }
  // Credit goes to an export only: through a kept answer it is not exposed.
  await peer.call("$/call", [null, ["numbers"], [], 7]);
  const error = await peer.call("$/call", [{ $answer: 7 }, ["pull"], [4]]).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(error instanceof RpcError);
  assert.equal(error.code, ObjectErrorCode.NotExposed);
});

Deno.test("objects streams: streamWindow that is not an integer from 0 to 65,536 is a RangeError up front", () => {
  for (const bad of [-1, 1.5, NaN, 65_537]) {
    assert.throws(() => new ObjectSession({ streamWindow: bad }), RangeError, String(bad));
  }
  assert.ok(new ObjectSession({ streamWindow: 0 }));
  assert.ok(new ObjectSession({ streamWindow: 65_536 }));
});
