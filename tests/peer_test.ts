import assert from "node:assert/strict";
import { z } from "zod";
import { jsonRpc } from "../codecs/json_rpc.ts";
import {
  type CallContext,
  ConnectionClosedError,
  defineService,
  LimitError,
  method,
  Peer,
  type PeerOptions,
  ProtocolError,
  RpcError,
  TimeoutError,
  withContext,
} from "../mod.ts";
import { memoryPair } from "../rpc/testing.ts";

function pair(
  service: object,
  serverOptions: Partial<PeerOptions> = {},
  clientOptions: Partial<PeerOptions> = {},
): { server: Peer; client: Peer; [Symbol.asyncDispose](): Promise<void> } {
  const [a, b] = memoryPair();
  const server = new Peer(a, { codec: jsonRpc(), service, ...serverOptions });
  const client = new Peer(b, { codec: jsonRpc(), ...clientOptions });
  return {
    server,
    client,
    async [Symbol.asyncDispose]() {
      await client.close();
      await server.close();
    },
  };
}

function deferred<T = void>(): PromiseWithResolvers<T> {
  return Promise.withResolvers<T>();
}

Deno.test("Peer.call() resolves with the result of a plain function", async () => {
  await using p = pair({ add: (a: number, b: number) => a + b });
  assert.equal(await p.client.call("add", [1, 2]), 3);
});

Deno.test("Peer.call() passes named params as one object", async () => {
  await using p = pair({ greet: ({ name }: { name: string }) => `hi ${name}` });
  assert.equal(await p.client.call("greet", { name: "ada" }), "hi ada");
});

Deno.test("Peer.call() answers void handlers with null", async () => {
  await using p = pair({ nothing: () => {} });
  assert.equal(await p.client.call("nothing"), null);
});

Deno.test("replies arrive in any order and each resolves its own call", async () => {
  const gates = [deferred(), deferred(), deferred()];
  await using p = pair({ wait: async (i: number) => (await gates[i]!.promise, i) });
  const settled: number[] = [];
  const calls = [0, 1, 2].map((i) =>
    p.client.call<number>("wait", [i]).then((v) => (settled.push(v), v))
  );
  gates[2]!.resolve();
  assert.equal(await calls[2], 2);
  assert.deepEqual(settled, [2], "calls 0 and 1 are still pending");
  gates[0]!.resolve();
  assert.equal(await calls[0], 0);
  gates[1]!.resolve();
  assert.deepEqual(await Promise.all(calls), [0, 1, 2]);
  assert.deepEqual(settled, [2, 0, 1]);
});

Deno.test("many calls are in flight on one connection at once", async () => {
  let concurrent = 0;
  let peak = 0;
  await using p = pair({
    async work(n: number) {
      peak = Math.max(peak, ++concurrent);
      await new Promise((r) => setTimeout(r, 5));
      concurrent--;
      return n * 2;
    },
  });
  const results = await Promise.all(
    Array.from({ length: 100 }, (_, i) => p.client.call("work", [i])),
  );
  assert.deepEqual(results, Array.from({ length: 100 }, (_, i) => i * 2));
  assert.ok(peak > 1, `handlers ran concurrently (peak ${peak})`);
});

Deno.test("a remote RpcError arrives with its code, message and data", async () => {
  await using p = pair({
    fail: () => {
      throw new RpcError(1, "overflow", { whatOp: 1, why: "overflow" });
    },
  });
  await assert.rejects(p.client.call("fail"), (e: unknown) => {
    assert.ok(e instanceof RpcError);
    assert.equal(e.code, 1);
    assert.equal(e.message, "overflow");
    assert.deepEqual(e.data, { whatOp: 1, why: "overflow" });
    return true;
  });
});

Deno.test("an unexpected handler error hides its details unless exposeErrors", async () => {
  const service = {
    boom: () => {
      throw new Error("secret database password in message");
    },
  };
  const errors: unknown[] = [];
  {
    await using p = pair(service, { onError: (e) => errors.push(e) });
    await assert.rejects(p.client.call("boom"), (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.code, -32603);
      assert.equal(e.message, "Internal error");
      assert.equal(e.data, undefined);
      return true;
    });
    assert.ok(
      errors.some((e) => e instanceof Error && e.message.includes("secret")),
      "the server logs it",
    );
  }
  {
    await using p = pair(service, { exposeErrors: true });
    await assert.rejects(p.client.call("boom"), (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.match(e.message, /secret/);
      assert.equal((e.data as { name: string }).name, "Error");
      return true;
    });
  }
});

Deno.test("an unknown method answers -32601", async () => {
  await using p = pair({});
  await assert.rejects(
    p.client.call("nope"),
    (e: unknown) => e instanceof RpcError && e.code === -32601,
  );
});

Deno.test("a class instance exposes its methods, never constructor or Object.prototype", async () => {
  class Counter {
    count = 0;
    inc(by: number) {
      return (this.count += by);
    }
    _secret() {
      return "hidden";
    }
  }
  await using p = pair(new Counter());
  assert.equal(await p.client.call("inc", [2]), 2);
  assert.equal(await p.client.call("inc", [3]), 5);
  for (
    const name of [
      "constructor",
      "__proto__",
      "toString",
      "hasOwnProperty",
      "valueOf",
      "_secret",
      "count",
    ]
  ) {
    await assert.rejects(
      p.client.call(name, []),
      (e: unknown) => e instanceof RpcError && e.code === -32601,
      `${name} must not be callable`,
    );
  }
});

Deno.test("a per-call timeout rejects with TimeoutError and tells the server to cancel", async () => {
  const cancelled = deferred<unknown>();
  await using p = pair({
    hang: withContext((ctx: CallContext) =>
      new Promise((_, reject) => {
        ctx.signal.addEventListener("abort", () => {
          cancelled.resolve(ctx.signal.reason);
          reject(ctx.signal.reason);
        });
      })
    ),
  });
  await assert.rejects(p.client.call("hang", [], { timeout: 20 }), TimeoutError);
  const reason = await cancelled.promise;
  assert.ok(reason instanceof RpcError && reason.code === -32800, "the handler's signal fired");
  assert.equal(p.client.pending, 0);
});

Deno.test("aborting a call rejects it with the signal's reason and cancels it on the server", async () => {
  const started = deferred();
  const cancelled = deferred();
  await using p = pair({
    hang: withContext((ctx: CallContext) => {
      started.resolve();
      return new Promise((_, reject) =>
        ctx.signal.addEventListener("abort", () => {
          cancelled.resolve();
          reject(ctx.signal.reason);
        })
      );
    }),
  });
  const controller = new AbortController();
  const call = p.client.call("hang", [], { signal: controller.signal });
  await started.promise;
  controller.abort(new Error("user gave up"));
  await assert.rejects(call, /user gave up/);
  await cancelled.promise;
});

Deno.test("a call with an already aborted signal is never sent", async () => {
  let calls = 0;
  await using p = pair({ f: () => calls++ });
  await assert.rejects(
    p.client.call("f", [], { signal: AbortSignal.abort(new Error("early")) }),
    /early/,
  );
  assert.equal(await p.client.call("f"), 0);
  assert.equal(calls, 1);
});

Deno.test("every pending call rejects with ConnectionClosedError when the connection drops", async () => {
  const started = deferred();
  const aborted = deferred();
  await using p = pair({
    hang: withContext((ctx: CallContext) => {
      started.resolve();
      ctx.signal.addEventListener("abort", () => aborted.resolve());
      return new Promise(() => {});
    }),
  });
  const calls = [p.client.call("hang"), p.client.call("hang")];
  await started.promise;
  await p.server.close();
  for (const call of calls) await assert.rejects(call, ConnectionClosedError);
  await aborted.promise; // the server's handler saw the drop too
  await assert.rejects(p.client.call("hang"), ConnectionClosedError);
});

Deno.test("notifications reach the handler and get no reply", async () => {
  const seen = deferred<string>();
  await using p = pair({ log: (text: string) => seen.resolve(text) });
  await p.client.notify("log", ["hello"]);
  assert.equal(await seen.promise, "hello");
  assert.equal(p.client.pending, 0);
});

Deno.test("batch() sends calls and notifications together and settles each in order", async () => {
  const notes: string[] = [];
  await using p = pair({
    add: (a: number, b: number) => a + b,
    note: (s: string) => void notes.push(s),
    fail: () => {
      throw new RpcError(7, "nope");
    },
  });
  const results = await p.client.batch([
    { method: "add", params: [1, 2] },
    { method: "note", params: ["x"], notification: true },
    { method: "fail" },
    { method: "missing" },
  ]);
  assert.deepEqual(results[0], { status: "fulfilled", value: 3 });
  assert.deepEqual(results[1], { status: "fulfilled", value: undefined });
  assert.equal(((results[2] as PromiseRejectedResult).reason as RpcError).code, 7);
  assert.equal(((results[3] as PromiseRejectedResult).reason as RpcError).code, -32601);
  assert.deepEqual(notes, ["x"]);
});

Deno.test("both ends serve: the server calls the client back", async () => {
  const [a, b] = memoryPair();
  const client = new Peer(b, { codec: jsonRpc(), service: { whoami: () => "client" } });
  const server: Peer = new Peer(a, {
    codec: jsonRpc(),
    service: { ask: async () => `server asked ${await server.call("whoami")}` },
  });
  assert.equal(await client.call("ask"), "server asked client");
  await client.close();
  await server.closed;
});

Deno.test("the typed proxy calls methods by name and is not thenable", async () => {
  const calculator = {
    add: (a: number, b: number) => a + b,
    hello: (n: string) => Promise.resolve(`hi ${n}`),
  };
  await using p = pair(calculator);
  const calc = p.client.proxy<typeof calculator>();
  assert.equal(await calc.add(1, 2), 3);
  assert.equal(await calc.hello("x"), "hi x");
  assert.equal((calc as unknown as { then: unknown }).then, undefined);
  // @ts-expect-error: a wrong argument type does not type-check
  await calc.add("1", 2).catch(() => {});
});

const zodService = defineService({
  add: method({
    params: z.tuple([z.number().int(), z.number().int()]),
    names: ["a", "b"],
    result: z.number(),
    handler: (a, b) => a + b,
  }),
  greet: method({
    params: z.tuple([z.string(), z.string().optional()]),
    names: ["name", "greeting"],
    result: z.string(),
    handler: (name, greeting) => `${greeting ?? "hello"} ${name}`,
  }),
  wrong: method({
    params: z.tuple([]),
    result: z.number(),
    handler: () => "not a number" as unknown as number,
  }),
  signal: method({
    params: z.tuple([]),
    result: z.boolean(),
    handler: (ctx: CallContext) => ctx.signal instanceof AbortSignal,
  }),
});

Deno.test("a zod service validates params: invalid ones answer -32602 with zod's issues", async () => {
  await using p = pair(zodService);
  assert.equal(await p.client.call("add", [1, 2]), 3);
  assert.equal(await p.client.call("add", { a: 1, b: 2 }), 3);
  assert.equal(await p.client.call("greet", { name: "ada" }), "hello ada");
  assert.equal(await p.client.call("greet", ["ada", "hey"]), "hey ada");
  for (const params of [[1], [1, 2, 3], ["1", 2], [1.5, 2], { a: 1, b: 2, c: 3 }, { a: 1 }]) {
    await assert.rejects(p.client.call("add", params), (e: unknown) => {
      assert.ok(e instanceof RpcError, String(e));
      assert.equal(e.code, -32602, JSON.stringify(params));
      assert.ok(e.data !== undefined, "the issues travel in data");
      return true;
    });
  }
});

Deno.test("a zod handler's result that breaks its schema is an internal error", async () => {
  await using p = pair(zodService);
  await assert.rejects(
    p.client.call("wrong"),
    (e: unknown) => e instanceof RpcError && e.code === -32603,
  );
});

Deno.test("a zod method without params takes no params, [] or {} alike; {x: 1} is refused", async () => {
  await using p = pair(zodService);
  assert.equal(await p.client.call("signal"), true);
  assert.equal(await p.client.call("signal", []), true);
  assert.equal(await p.client.call("signal", {}), true);
  await assert.rejects(
    p.client.call("signal", { x: 1 }),
    (e: unknown) => e instanceof RpcError && e.code === -32602,
  );
});

Deno.test("a zod handler receives the call context after its params", async () => {
  await using p = pair(zodService);
  assert.equal(await p.client.call("signal"), true);
});

Deno.test("a proxy given the definition validates on the client too, with inferred types", async () => {
  await using p = pair(zodService);
  const remote = p.client.proxy(zodService);
  const sum: number = await remote.add(2, 3);
  assert.equal(sum, 5);
  // @ts-expect-error: a wrong argument type does not type-check
  await assert.rejects(remote.add("2", 3), TypeError);
});

Deno.test("a proxy given the definition rejects a result that breaks the schema", async () => {
  await using p = pair({ wrong: () => "not a number" });
  await assert.rejects(p.client.proxy(zodService).wrong(), /does not match its schema/);
});

Deno.test("a client over maxPending gets a LimitError, not unbounded memory", async () => {
  const gate = deferred();
  await using p = pair({ wait: () => gate.promise }, {}, { limits: { maxPending: 2 } });
  const calls = [p.client.call("wait"), p.client.call("wait")];
  await assert.rejects(p.client.call("wait"), LimitError);
  gate.resolve();
  await Promise.all(calls);
});

Deno.test("a server over maxInFlight refuses the excess with -32000 and serves the rest", async () => {
  const gate = deferred();
  await using p = pair({ wait: () => gate.promise }, { limits: { maxInFlight: 2 } });
  const calls = [1, 2, 3].map(() =>
    p.client.call("wait").then(() => "ok", (e: RpcError) => e.code)
  );
  await new Promise((r) => setTimeout(r, 20));
  gate.resolve();
  assert.deepEqual((await Promise.all(calls)).sort(), [-32000, "ok", "ok"].sort());
});

Deno.test("drain() finishes the calls in flight, refuses new ones, then closes", async () => {
  const gate = deferred();
  const started = deferred();
  await using p = pair({
    wait: async () => {
      started.resolve();
      await gate.promise;
      return "done";
    },
    quick: () => "quick",
  });
  const inFlight = p.client.call("wait");
  await started.promise;
  const draining = p.server.drain();
  await assert.rejects(
    p.client.call("quick"),
    (e: unknown) => e instanceof RpcError && e.code === -32000,
  );
  gate.resolve();
  assert.equal(await inFlight, "done");
  await draining;
  await p.client.closed;
});

Deno.test("a bigint result beyond JSON's exact range fails loudly instead of rounding", async () => {
  await using p = pair({ big: () => 2n ** 60n, small: () => 5n });
  assert.equal(await p.client.call("small"), 5);
  await assert.rejects(
    p.client.call("big"),
    (e: unknown) => e instanceof RpcError && e.code === -32603,
  );
  await assert.rejects(p.client.call("small", [2n ** 60n]), TypeError);
});

Deno.test("closing via the options' signal rejects pending calls", async () => {
  const controller = new AbortController();
  await using p = pair({ hang: () => new Promise(() => {}) }, {}, { signal: controller.signal });
  const call = p.client.call("hang");
  controller.abort(new Error("shutting down"));
  await assert.rejects(
    call,
    (e: unknown) =>
      e instanceof ConnectionClosedError && (e.cause as Error).message === "shutting down",
  );
});

Deno.test("a malformed reply fails its own call with a ProtocolError, not the connection", async () => {
  const [a, b] = memoryPair();
  const client = new Peer(b, { codec: jsonRpc() });
  const reading = a.readable.getReader();
  const writer = a.writable.getWriter();
  const call = client.call("f");
  await reading.read(); // the request, id 1
  await writer.write('{"jsonrpc":"2.0","result":1,"error":{"code":1,"message":"m"},"id":1}');
  await assert.rejects(call, ProtocolError);
  const next = client.call("g");
  await reading.read();
  await writer.write('{"jsonrpc":"2.0","result":"fine","id":2}');
  assert.equal(await next, "fine");
  await client.close();
});

Deno.test("a chunk of several frames is handled in order and answered in one chunk", async () => {
  const [a, b] = memoryPair();
  const server = new Peer(a, {
    codec: jsonRpc(),
    service: { add: (x: number, y: number) => x + y },
  });
  const reading = b.readable.getReader();
  const writer = b.writable.getWriter();
  await writer.write([
    '{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}',
    '{"jsonrpc":"2.0","method":"add","params":[3,4],"id":2}',
  ]);
  const { value } = await reading.read();
  assert.ok(Array.isArray(value), "the replies leave together");
  assert.deepEqual(value.map((frame) => JSON.parse(frame as string)), [
    { jsonrpc: "2.0", result: 3, id: 1 },
    { jsonrpc: "2.0", result: 7, id: 2 },
  ]);
  reading.releaseLock();
  writer.releaseLock();
  await server.close();
});
