/**
 * Remote objects: references, callbacks, lifetimes, safety, streams and
 * promise pipelining, over an in-memory pair (JSON-RPC and msgpack-rpc) and
 * over TCP.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { msgpackRpc } from "../codecs/msgpack_rpc.ts";
import { type Codec, Peer, RpcError, withContext } from "../mod.ts";
import { memoryPair } from "../rpc/testing.ts";
import {
  expose,
  exposed,
  isExposed,
  ObjectErrorCode,
  ObjectSession,
  referenceExtension,
  serveObjects,
} from "../rpc/objects/mod.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { connectTcp, serveTcp } from "../rpc/transports/tcp.ts";
import { serveHttp } from "../rpc/transports/http.ts";
import { connectWebSocket } from "../rpc/transports/websocket.ts";
import { rejection } from "./_rejection.ts";

class Counter {
  #n: number;
  released = false;
  constructor(start = 0) {
    this.#n = start;
  }
  @exposed
  increment(by = 1): number {
    return this.#n += by;
  }
  @exposed
  get value(): number {
    return this.#n;
  }
  reset(): void { // not exposed
    this.#n = 0;
  }
}

class Store {
  readonly #items = new Map<string, unknown>();
  @exposed
  put(key: string, value: unknown): void {
    this.#items.set(key, value);
  }
  @exposed
  get(key: string): unknown {
    return this.#items.get(key);
  }
}

function makeRoot(log: string[] = [], probe?: () => number) {
  return {
    version: "1.0",
    limits: { maxItems: 10, tags: ["a", "b"] },
    counter: (start?: number) => new Counter(start),
    store: new Store(),
    echo: (value: unknown) => value,
    same: (a: unknown, b: unknown) => a === b,
    call: async (fn: (x: number) => Promise<number>, x: number) => await fn(x),
    work: async (steps: number, progress: (i: number, of: number) => unknown) => {
      for (let i = 1; i <= steps; i++) await progress(i, steps);
      return "done";
    },
    slowUser: async (id: number) => {
      log.push(`user ${id} start`);
      await new Promise((r) => setTimeout(r, 50));
      log.push(`user ${id} end`);
      if (probe !== undefined) log.push(`calls held at the end: ${probe()}`);
      return new User(id, log);
    },
    numbers: async function* (count: number) {
      try {
        for (let i = 0; i < count; i++) {
          log.push(`produce ${i}`);
          yield i;
        }
      } finally {
        log.push("generator finished");
      }
    },
    fail: (): number => {
      throw new RpcError(7, "nope", { why: "because" });
    },
    crash: () => {
      throw new Error("secret internals");
    },
    _hidden: () => "should not be reachable",
  };
}

class User {
  constructor(readonly id: number, readonly log: string[]) {}
  @exposed
  profile() {
    this.log.push(`profile ${this.id}`);
    return { name: `user ${this.id}` };
  }
  @exposed
  friend() {
    return new User(this.id + 1, this.log);
  }
}

/** A client session and a server session over an in-memory pair. */
function connect<R>(
  root: R,
  codec: () => Codec = jsonRpc,
  options: { maxExports?: number } = {},
  clientOptions: { streamWindow?: number } = {},
) {
  const [a, b] = memoryPair();
  const server = new ObjectSession({ root, ...options });
  const serverPeer = new Peer(a, { codec: codec(), service: server.service });
  server.attach(serverPeer);
  const client = new ObjectSession(clientOptions);
  const peer = new Peer(b, { codec: codec(), service: client.service, timeout: 5_000 });
  client.attach(peer);
  return { server, client, peer, serverPeer, api: client.root<R>() };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

for (const [name, codec] of [["JSON-RPC", jsonRpc], ["msgpack-rpc", msgpackRpc]] as const) {
  Deno.test(`objects (${name}): properties by value, objects by reference, methods on them`, async () => {
    const { api, peer, server } = connect(makeRoot(), codec);
    assert.equal(await api.version, "1.0");
    assert.deepEqual(await api.limits, { maxItems: 10, tags: ["a", "b"] });
    assert.deepEqual(await api.limits.tags, ["a", "b"]);
    const counter = await api.counter(10);
    assert.equal(typeof counter, "function"); // a proxy
    assert.equal(await counter.increment(5), 15);
    assert.equal(await counter.value, 15);
    assert.equal(server.exportCount, 1);
    // The same object comes back as the same proxy, and goes back as itself.
    const store = await api.store;
    assert.equal(await api.store, store);
    assert.equal(await api.same(store, store), true);
    await store.put("c", counter);
    const again = await store.get("c");
    assert.equal(again, counter);
    await peer.close();
  });

  Deno.test(`objects (${name}): a function passed is a callback the server calls back`, async () => {
    const { api, peer } = connect(makeRoot(), codec);
    const seen: [number, number][] = [];
    assert.equal(await api.work(3, (i: number, of: number) => seen.push([i, of])), "done");
    assert.deepEqual(seen, [[1, 3], [2, 3], [3, 3]]);
    assert.equal(await api.call((x: number) => Promise.resolve(x * 2), 21), 42);
    await peer.close();
  });

  Deno.test(`objects (${name}): async iterables pulled one item per call (streamWindow 0) keep backpressure; leaving the loop stops the server`, async () => {
    const log: string[] = [];
    const { api, peer, server } = connect(makeRoot(log), codec, {}, { streamWindow: 0 });
    const seen: number[] = [];
    for await (const n of await api.numbers(1000) as unknown as AsyncIterable<number>) {
      seen.push(n);
      // Pulled one at a time: the server produced only what was asked for.
      assert.equal(log.filter((l) => l.startsWith("produce")).length, seen.length);
      if (n === 4) break;
    }
    assert.deepEqual(seen, [0, 1, 2, 3, 4]);
    assert.ok(log.includes("generator finished"), "return() reached the generator");
    await settle();
    assert.equal(server.exportCount, 0, "the iterator was released");
    const all: number[] = [];
    for await (const n of await api.numbers(3) as unknown as AsyncIterable<number>) all.push(n);
    assert.deepEqual(all, [0, 1, 2]);
    await peer.close();
  });
}

Deno.test("objects: promise pipelining sends dependent calls before the first result arrives", async () => {
  const log: string[] = [];
  let held = () => 0;
  const { api, peer, server } = connect(makeRoot(log, () => held()));
  held = () => server.answerCount;
  const profile = await api.slowUser(1).friend().profile();
  assert.deepEqual(profile, { name: "user 2" });
  // When the first call finished, the server already held all three calls:
  // they had been sent at once, before the first result came back.
  assert.deepEqual(log.slice(0, 3), ["user 1 start", "user 1 end", "calls held at the end: 3"]);
  assert.equal(log.at(-1), "profile 2");
  // A result used after it has arrived goes to the object directly.
  const user = api.slowUser(5);
  await user;
  assert.deepEqual(await user.profile(), { name: "user 5" });
  await peer.close();
});

Deno.test("objects: explicit release, `using`, and the server's table shrinks back to zero", async () => {
  const { api, peer, server, client } = connect(makeRoot());
  const a = await api.counter(1);
  const b = await api.counter(2);
  assert.equal(server.exportCount, 2);
  client.release(a);
  {
    using _b = b;
  }
  await settle();
  assert.equal(server.exportCount, 0);
  assert.equal(client.importCount, 0);
  await assert.rejects(async () => await a.increment(), /released/);
  // Answers kept for pipelining are released as their results arrive.
  await api.counter(3).increment();
  await settle();
  assert.equal(server.answerCount, 0);
  await peer.close();
});

Deno.test("objects: proxies that are garbage-collected release their objects, in one batch", async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  assert.ok(gc, "run with --v8-flags=--expose-gc");
  const { api, peer, server } = connect(makeRoot());
  await (async () => {
    for (let i = 0; i < 20; i++) await (await api.counter(i)).increment();
  })();
  assert.equal(server.exportCount, 20);
  for (let i = 0; i < 10 && server.exportCount > 0; i++) {
    gc();
    await settle();
  }
  assert.equal(server.exportCount, 0);
  await peer.close();
});

Deno.test("objects: everything a connection held is dropped when it closes", async () => {
  const { api, peer, server, serverPeer } = connect(makeRoot());
  await api.counter(1);
  await api.work(1, () => {});
  assert.equal(server.exportCount, 1);
  await peer.close();
  await serverPeer.closed;
  await settle();
  assert.equal(server.exportCount, 0);
  assert.equal(server.answerCount, 0);
});

Deno.test("objects: only what is exposed is reachable", async () => {
  const { api, peer, client } = connect(makeRoot());
  const counter = await api.counter(1);
  const refused = [
    () => (api as unknown as { _hidden(): Promise<unknown> })._hidden(),
    () => (api as unknown as { constructor(): Promise<unknown> }).constructor(),
    () => (counter as unknown as { reset(): Promise<unknown> }).reset(),
    () => (counter as unknown as { toString(): Promise<unknown> }).toString(),
    () => (counter as unknown as { __proto__: Promise<unknown> }).__proto__,
    () => (counter as unknown as { constructor: { name: Promise<unknown> } }).constructor.name,
    () => (api.store as unknown as { items: Promise<unknown> }).items,
    () => (api.echo as unknown as { call(): Promise<unknown> }).call(),
  ];
  for (const attempt of refused) {
    const error = await rejection(Promise.resolve().then(attempt), RpcError);
    assert.equal(error.code, ObjectErrorCode.NotExposed, error.message);
  }
  // `then` is never a member: a remote object is not awaitable as a promise.
  assert.equal(await counter, counter);
  // A class instance exposes nothing unless it says so.
  class Plain {
    secret = 1;
    method() {
      return 2;
    }
  }
  const other = connect({
    make: () => new Plain(),
    exposedOne: () => expose(new Plain(), ["method"]),
  });
  const plain = await other.api.make();
  await assert.rejects(async () => await plain.method(), /not exposed/);
  assert.equal(await (await other.api.exposedOne()).method(), 2);
  await other.peer.close();
  // A reference from another connection cannot be passed on.
  const second = connect(makeRoot());
  await assert.rejects(async () => await second.api.echo(counter), /another connection/);
  await second.peer.close();
  void client;
  await peer.close();
});

Deno.test("objects: errors carry the remote code and message, not stacks", async () => {
  const { api, peer } = connect(makeRoot());
  const error = await rejection(api.fail(), RpcError);
  assert.deepEqual([error.code, error.message, error.data], [7, "nope", { why: "because" }]);
  const crash = await rejection(api.crash(), RpcError);
  assert.equal(crash.message, "Internal error");
  assert.doesNotMatch(JSON.stringify(crash.data ?? null), /secret internals/);
  await peer.close();
});

Deno.test("objects: a limit on exports per connection", async () => {
  const { api, peer, server } = connect(makeRoot(), jsonRpc, { maxExports: 3 });
  const held = [await api.counter(), await api.counter(), await api.counter()];
  const error = await rejection(api.counter(), RpcError);
  assert.equal(error.code, ObjectErrorCode.TooManyExports);
  assert.equal(server.exportCount, 3);
  void held;
  await peer.close();
});

Deno.test("objects: plain objects with $ keys travel escaped, and come back as they were", async () => {
  const { api, peer } = connect(makeRoot());
  const tricky = { $ref: 5, nested: { $you: 1, $answer: 2 }, list: [{ $esc: {} }] };
  assert.deepEqual(await api.echo(tricky), tricky);
  await peer.close();
});

Deno.test("objects: hostile requests get the protocol's errors and the session goes on", async () => {
  const { peer, server } = connect(makeRoot());
  const cases: [string, unknown, number][] = [
    ["$/call", { target: null }, -32602],
    ["$/call", [null, "add", []], -32602],
    ["$/call", [{ $you: 999 }, ["x"], []], ObjectErrorCode.UnknownReference],
    ["$/call", [{ $answer: 999 }, ["x"], []], ObjectErrorCode.UnknownReference],
    ["$/call", [{ $what: 1 }, ["x"], []], -32602],
    ["$/call", [null, ["echo"], [{ $you: 12345 }]], ObjectErrorCode.UnknownReference],
    ["$/get", [null, []], -32602],
    ["$/get", [null, ["__proto__"]], ObjectErrorCode.NotExposed],
    ["$/call", [null, ["version"], []], ObjectErrorCode.NotExposed],
  ];
  for (const [method, params, code] of cases) {
    const error = await rejection(
      peer.call(method, params as unknown[]),
      RpcError,
    );
    assert.equal(error.code, code, `${method} ${JSON.stringify(params)}: ${error.message}`);
  }
  await peer.notify("$/release", [["ref", "x"], 5, null, ["ref", 999, 1], ["answer", 3, 1]]);
  assert.equal(await peer.call("$/get", [null, ["version"]]), "1.0");
  assert.equal(server.exportCount, 0);
  await peer.close();
});

Deno.test("objects over TCP: serveObjects gives each connection its own session", async () => {
  const sessions: ObjectSession[] = [];
  await using server = serveTcp({ port: 0 }, {
    codec: jsonRpc(),
    framing: newline(),
    service: serveObjects(makeRoot(), { onSession: (s) => sessions.push(s) }),
  });
  const clients = await Promise.all([1, 2].map(async () => {
    const objects = new ObjectSession();
    const peer = await connectTcp(server.address, {
      codec: jsonRpc(),
      framing: newline(),
      service: objects.service,
    });
    objects.attach(peer);
    return { objects, peer, api: objects.root<ReturnType<typeof makeRoot>>() };
  }));
  const [one, two] = clients as [typeof clients[0], typeof clients[0]];
  const counter = await one.api.counter(1);
  assert.equal(await counter.increment(), 2);
  assert.equal(await two.api.counter(7).increment(), 8);
  assert.equal(sessions.length, 2);
  await one.peer.close();
  await settle();
  await settle();
  assert.equal(sessions[0]!.exportCount, 0, "the closed connection's exports are gone");
  await two.peer.close();
});

Deno.test("objects: a call's result is a promise: catch and finally work on it", async () => {
  const { api, peer } = connect(makeRoot());
  let finished = false;
  const caught = await api.fail().catch((error: RpcError) => error.code);
  assert.equal(caught, 7);
  assert.equal(await api.counter(1).increment().finally(() => finished = true), 2);
  assert.ok(finished);
  await peer.close();
});

Deno.test("objects over WebSocket: a session per socket (the route's service option)", async () => {
  const sessions: ObjectSession[] = [];
  await using server = serveHttp({
    routes: {
      "/objects": {
        codec: jsonRpc(),
        service: {},
        websocket: { service: serveObjects(makeRoot(), { onSession: (s) => sessions.push(s) }) },
      },
    },
  });
  const objects = new ObjectSession();
  const peer = await connectWebSocket(`${server.url.replace("http", "ws")}/objects`, {
    codec: jsonRpc(),
    service: objects.service,
  });
  objects.attach(peer);
  const api = objects.root<ReturnType<typeof makeRoot>>();
  const seen: number[] = [];
  assert.equal(await api.work(2, (i: number) => seen.push(i)), "done");
  assert.deepEqual(seen, [1, 2]);
  assert.equal(await api.counter(4).increment(), 5);
  assert.equal(sessions.length, 1);
  await peer.close();
});

Deno.test("objects over msgpack-rpc with references as the extension type: plain maps need no escaping", async () => {
  const codec = () => msgpackRpc({ extensions: [referenceExtension] });
  const [a, b] = memoryPair();
  const frames: Uint8Array[] = [];
  const server = new ObjectSession({ root: makeRoot(), references: "extension" });
  server.attach(new Peer(a, { codec: codec(), service: server.service }));
  const client = new ObjectSession({ references: "extension" });
  const spying = {
    ...codec(),
    encode(message: Parameters<Codec["encode"]>[0]) {
      const frame = codec().encode(message) as Uint8Array;
      frames.push(frame);
      return frame;
    },
  } as Codec;
  const peer = new Peer(b, { codec: spying, service: client.service, timeout: 5_000 });
  client.attach(peer);
  const api = client.root<ReturnType<typeof makeRoot>>();
  const counter = await api.counter(1);
  assert.equal(await counter.increment(2), 3);
  const seen: number[] = [];
  assert.equal(await api.work(2, (i: number) => seen.push(i)), "done");
  assert.deepEqual(seen, [1, 2]);
  // The callback went out as extension type 80: ext 8 headers 0xc7, length 10 ($ref) or 9 ($you).
  const hasExtension = (f: Uint8Array) =>
    f.some((byte, i) => byte === 0xc7 && (f[i + 1] === 10 || f[i + 1] === 9) && f[i + 2] === 0x50);
  assert.ok(frames.some(hasExtension), "an extension of type 80 was sent");
  const tricky = { $ref: 5, $you: 1 };
  assert.deepEqual(await api.echo(tricky), tricky);
  assert.equal(await api.same(counter, counter), true);
  await peer.close();
});

Deno.test("objects: a ReadableStream returned by a method is read with for await; leaving the loop cancels it", async () => {
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
  // Pulled one item per call; tests/objects_streams_test.ts reads with credit.
  const { api, peer } = connect(root, jsonRpc, {}, { streamWindow: 0 });
  const seen: number[] = [];
  for await (const n of await api.stream() as unknown as AsyncIterable<number>) {
    seen.push(n);
    if (seen.length === 3) break;
  }
  assert.deepEqual(seen, [0, 1, 2]);
  assert.ok(pulled <= 4, `the server pulled ${pulled} chunks for 3 read`);
  assert.ok(cancelled, "leaving the loop cancelled the server's stream");
  await peer.close();
});

Deno.test("objects: a caller that never releases its answers is refused beyond the limit", async () => {
  const { peer, server } = connect(makeRoot(), jsonRpc, { maxExports: 2 });
  await peer.call("$/call", [null, ["echo"], [1], 1]);
  await peer.call("$/call", [null, ["echo"], [2], 2]);
  const error = await rejection(peer.call("$/call", [null, ["echo"], [3], 3]), RpcError);
  assert.equal(error.code, ObjectErrorCode.TooManyExports);
  assert.equal(server.answerCount, 2);
  await peer.notify("$/release", [["answer", 1, 1], ["answer", 2, 1]]);
  assert.equal(await peer.call("$/call", [null, ["echo"], [4], 4]), 4);
  await peer.close();
});

Deno.test("objects: a method marked withContext sees the call's signal fire when the connection drops", async () => {
  let aborted: unknown;
  const { resolve: started, promise: running } = Promise.withResolvers<void>();
  const root = {
    wait: withContext((ctx, ms: number) =>
      new Promise((resolve, reject) => {
        started();
        const timer = setTimeout(resolve, ms);
        ctx.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          aborted = ctx.signal.reason;
          reject(ctx.signal.reason);
        });
      })
    ),
  };
  const { api, peer, serverPeer } = connect(root);
  const pending = Promise.resolve(api.wait(10_000)).then(() => "done", () => "failed");
  await running;
  await peer.close();
  await serverPeer.closed;
  assert.equal(await pending, "failed");
  assert.ok(aborted !== undefined, "the handler's signal fired");
});

Deno.test("objects: @exposed works on fields (a class with only a field), methods, getters and accessors", () => {
  class OnlyField {
    @exposed
    run = () => 1;
    hidden = () => 2;
  }
  class Mixed {
    @exposed
    method() {}
    @exposed
    get value() {
      return 1;
    }
    @exposed
    accessor count = 0;
  }
  assert.ok(isExposed(new OnlyField(), "run"));
  assert.ok(!isExposed(new OnlyField(), "hidden"));
  for (const name of ["method", "value", "count"]) assert.ok(isExposed(new Mixed(), name), name);
});
