/**
 * Interceptors on a `Peer`, one suite run over several codecs on real TCP:
 * denying, rewriting, timing, the order of a chain, the client's side, and
 * notifications.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { msgpackRpc } from "../codecs/msgpack_rpc.ts";
import { loadProto, protobufRpc } from "../codecs/protobuf.ts";
import { xmlRpc } from "../codecs/xml_rpc.ts";
import { RpcError } from "../rpc/errors.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
import type { InterceptedCall, Interceptor } from "../rpc/interceptors.ts";
import { type Service, withContext } from "../rpc/service.ts";
import { connectHttp, serveHttp } from "../rpc/transports/http.ts";
import { connectTcp, serveTcp } from "../rpc/transports/tcp.ts";
import { connectWebSocket } from "../rpc/transports/websocket.ts";
import type { Codec, Framing, RpcParams } from "../rpc/types.ts";
import type { RpcClient } from "../rpc/client.ts";

const schema = loadProto(`
  syntax = "proto3";
  package demo;
  message AddRequest { int32 a = 1; int32 b = 2; }
  message AddReply { int32 sum = 1; }
  message LogRequest { string text = 1; }
  message Empty {}
  service Demo {
    rpc Add(AddRequest) returns (AddReply);
    rpc Fail(Empty) returns (Empty);
    rpc Log(LogRequest) returns (Empty);
  }
`);

interface Case {
  readonly name: string;
  readonly codec: () => Codec;
  readonly framing: () => Framing;
  /** How one message-like argument travels as params with this codec. */
  readonly wrap: (arg: Record<string, unknown>) => RpcParams;
  readonly notifications: boolean;
}

const CASES: Case[] = [
  { name: "JSON-RPC", codec: jsonRpc, framing: newline, wrap: (a) => a, notifications: true },
  {
    name: "msgpack-rpc",
    codec: msgpackRpc,
    framing: lengthPrefix,
    wrap: (a) => [a],
    notifications: true,
  },
  {
    name: "protobuf envelope",
    codec: () => protobufRpc({ schema }),
    framing: lengthPrefix,
    wrap: (a) => a,
    notifications: true,
  },
  { name: "XML-RPC", codec: xmlRpc, framing: lengthPrefix, wrap: (a) => [a], notifications: false },
];

const ADD = "demo.Demo/Add";
const FAIL = "demo.Demo/Fail";
const LOG = "demo.Demo/Log";

/** The one message-like argument of a call, whichever way its codec carries it. */
const argOf = (params: RpcParams | undefined): Record<string, number> =>
  (Array.isArray(params) ? params[0] : params) as Record<string, number>;

/** A server and a connected client with the given interceptors on each side. */
async function start(
  c: Case,
  server: readonly Interceptor[],
  client: readonly Interceptor[] = [],
) {
  const handled: string[] = [];
  const logged = Promise.withResolvers<string>();
  const service: Service = {
    [ADD]: ({ a, b }: { a: number; b: number }) => {
      handled.push(ADD);
      return { sum: a + b };
    },
    [FAIL]: () => {
      handled.push(FAIL);
      throw new RpcError(7, "boom");
    },
    [LOG]: ({ text }: { text: string }) => {
      handled.push(LOG);
      logged.resolve(text);
    },
  };
  const listening = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    codec: c.codec(),
    framing: c.framing(),
    service,
    interceptors: server,
  });
  const peer = await connectTcp(listening.address, {
    codec: c.codec(),
    framing: c.framing(),
    interceptors: client,
  });
  return {
    handled,
    logged: logged.promise,
    peer,
    add: (a: number, b: number) => peer.call(ADD, c.wrap({ a, b })),
    async [Symbol.asyncDispose]() {
      await peer.close();
      await listening.shutdown();
    },
  };
}

for (const c of CASES) {
  Deno.test(`interceptors over ${c.name}: a denying one answers with its RpcError, the handler never runs`, async () => {
    const deny: Interceptor = (next) => (call) =>
      argOf(call.params).a! < 0 ? Promise.reject(new RpcError(403, "Denied")) : next(call);
    await using t = await start(c, [deny]);
    await assert.rejects(t.add(-1, 2), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, 403);
      assert.equal(error.message, "Denied");
      return true;
    });
    assert.deepEqual(t.handled, []);
    assert.deepEqual(await t.add(1, 2), { sum: 3 });
    assert.deepEqual(t.handled, [ADD]);
  });

  Deno.test(`interceptors over ${c.name}: a rewriting one changes the params the handler sees`, async () => {
    const double: Interceptor = (next) => (call) => {
      const { a, b } = argOf(call.params);
      return next({ ...call, params: c.wrap({ a: 2 * a!, b: 2 * b! }) });
    };
    await using t = await start(c, [double]);
    assert.deepEqual(await t.add(20, 1), { sum: 42 });
  });

  Deno.test(`interceptors over ${c.name}: a timing one sees each result and error`, async () => {
    const seen: { method: string; side: string; outcome: unknown; ms: number }[] = [];
    const time: Interceptor = (next) => async (call) => {
      const start = performance.now();
      let outcome: unknown;
      try {
        return outcome = await next(call);
      } catch (error) {
        outcome = error;
        throw error;
      } finally {
        seen.push({ method: call.method, side: call.side, outcome, ms: performance.now() - start });
      }
    };
    await using t = await start(c, [time]);
    assert.deepEqual(await t.add(2, 3), { sum: 5 });
    await assert.rejects(t.peer.call(FAIL, c.wrap({})), (e: unknown) => (e as RpcError).code === 7);
    assert.equal(seen.length, 2);
    assert.deepEqual(seen[0]!.outcome, { sum: 5 });
    assert.equal(seen[0]!.side, "server");
    assert.equal(seen[1]!.method, FAIL);
    assert.ok(seen[1]!.outcome instanceof RpcError);
    assert.equal((seen[1]!.outcome as RpcError).code, 7);
    for (const { ms } of seen) assert.ok(Number.isFinite(ms) && ms >= 0);
  });

  Deno.test(`interceptors over ${c.name}: a chain runs outer first, the client's around the server's`, async () => {
    const order: string[] = [];
    const tag = (name: string): Interceptor => (next) => async (call) => {
      order.push(`${name}>`);
      const result = await next(call);
      order.push(`<${name}`);
      return result;
    };
    await using t = await start(c, [tag("s1"), tag("s2")], [tag("c1"), tag("c2")]);
    assert.deepEqual(await t.add(1, 1), { sum: 2 });
    assert.deepEqual(order, ["c1>", "c2>", "s1>", "s2>", "<s2", "<s1", "<c2", "<c1"]);
  });

  Deno.test(`interceptors over ${c.name}: the client's can short-circuit and rewrite before sending`, async () => {
    const calls: InterceptedCall[] = [];
    const cache: Interceptor = (next) => (call) => {
      calls.push(call);
      if (argOf(call.params).a === 0) return Promise.resolve({ sum: argOf(call.params).b });
      return next({ ...call, params: c.wrap({ ...argOf(call.params), b: 100 }) });
    };
    await using t = await start(c, [], [cache]);
    assert.deepEqual(await t.add(0, 9), { sum: 9 });
    assert.deepEqual(t.handled, [], "answered without sending");
    assert.deepEqual(await t.add(1, 2), { sum: 101 });
    assert.deepEqual(t.handled, [ADD]);
    assert.deepEqual(calls.map((call) => [call.side, call.kind, call.method]), [
      ["client", "call", ADD],
      ["client", "call", ADD],
    ]);
    assert.equal(calls[0]!.metadata.has("anything"), false);
    assert.equal(calls[0]!.signal.aborted, false);
  });

  if (!c.notifications) continue;
  Deno.test(`interceptors over ${c.name}: notifications go through both sides' chains`, async () => {
    const kinds: string[] = [];
    const shout = (side: string): Interceptor => (next) => (call) => {
      kinds.push(`${side}:${call.side}:${call.kind}`);
      const { text } = argOf(call.params) as unknown as { text: string };
      return next({ ...call, params: c.wrap({ text: `${text}!` }) });
    };
    await using t = await start(c, [shout("s")], [shout("c")]);
    await t.peer.notify(LOG, c.wrap({ text: "hi" }));
    assert.equal(await t.logged, "hi!!");
    assert.deepEqual(kinds, ["c:client:notification", "s:server:notification"]);
    assert.ok(t.handled.includes(LOG));
  });
}

Deno.test("interceptors: a server interceptor sees the handler's context", async () => {
  const contexts: (string | undefined)[] = [];
  const look: Interceptor = (next) => (call) => {
    contexts.push(call.context?.method);
    return next(call);
  };
  await using t = await start(CASES[0]!, [look]);
  await t.add(1, 2);
  assert.deepEqual(contexts, [ADD]);
});

// serveHttp's routes take interceptors too, for POSTed calls and for calls
// over the route's WebSocket; connectHttp's client runs its own.
const HTTP_CLIENTS: [string, (url: string, interceptors: Interceptor[]) => Promise<RpcClient>][] = [
  [
    "POST",
    (url, interceptors) => Promise.resolve(connectHttp(url, { codec: jsonRpc(), interceptors })),
  ],
  [
    "WebSocket",
    (url, interceptors) =>
      connectWebSocket(url.replace("http", "ws"), { codec: jsonRpc(), interceptors }),
  ],
];

for (const [name, connect] of HTTP_CLIENTS) {
  Deno.test(`interceptors over HTTP ${name}: a route's chain and the client's, denial and notifications`, async () => {
    const order: string[] = [];
    const logged = Promise.withResolvers<unknown>();
    const tag = (name: string): Interceptor => (next) => async (call) => {
      order.push(`${name}>${call.kind}`);
      const result = await next(call);
      order.push(`<${name}`);
      return result;
    };
    const deny: Interceptor = (next) => (call) =>
      call.method === "secret" ? Promise.reject(new RpcError(403, "Denied")) : next(call);
    await using server = serveHttp({
      routes: {
        "/rpc": {
          codec: jsonRpc(),
          service: {
            add: (a: number, b: number) => a + b,
            secret: () => "leaked",
            log: (text: string) => logged.resolve(text),
          },
          interceptors: [tag("s"), deny],
          websocket: true,
        },
      },
    });
    await using client = await connect(`${server.url}/rpc`, [tag("c")]);
    assert.equal(await client.call("add", [1, 2]), 3);
    assert.deepEqual(order, ["c>call", "s>call", "<s", "<c"]);
    await assert.rejects(
      client.call("secret", []),
      (e: unknown) => e instanceof RpcError && e.code === 403,
    );
    order.length = 0;
    await client.notify("log", ["hi"]);
    assert.equal(await logged.promise, "hi");
    // A stream's notify resolves once sent, perhaps before the server's chain has run.
    assert.deepEqual(order.filter((step) => step.includes(">")), [
      "c>notification",
      "s>notification",
    ]);
  });
}

Deno.test("interceptors: one that throws a plain error (even synchronously) answers -32603, the connection serves on", async () => {
  const errors: unknown[] = [];
  const broken: Interceptor = () => (call) => {
    if (call.method === "add") throw new Error("interceptor bug");
    return Promise.resolve("fine");
  };
  await using server = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    codec: jsonRpc(),
    framing: newline(),
    service: { add: (a: number, b: number) => a + b, other: () => "handler" },
    interceptors: [broken],
    onError: (error) => errors.push(error),
  });
  await using client = await connectTcp(server.address, { codec: jsonRpc(), framing: newline() });
  await assert.rejects(
    client.call("add", [1, 2]),
    (e: unknown) => e instanceof RpcError && e.code === -32603 && !e.message.includes("bug"),
  );
  assert.equal(await client.call("other", []), "fine");
  assert.ok(errors.some((e) => e instanceof Error && e.message === "interceptor bug"));
});

Deno.test("interceptors: a client's sees the caller's signal, and aborting it cancels the call", async () => {
  const started = Promise.withResolvers<void>();
  await using server = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    codec: jsonRpc(),
    framing: newline(),
    service: {
      wait: withContext((ctx) => {
        started.resolve();
        return new Promise((_, reject) => ctx.signal.addEventListener("abort", reject));
      }),
    },
  });
  const signals: AbortSignal[] = [];
  const keep: Interceptor = (next) => (call) => {
    signals.push(call.signal);
    return next(call);
  };
  await using client = await connectTcp(server.address, {
    codec: jsonRpc(),
    framing: newline(),
    interceptors: [keep],
  });
  const controller = new AbortController();
  const call = client.call("wait", [], { signal: controller.signal });
  await started.promise;
  controller.abort(new Error("stop"));
  await assert.rejects(call, /stop/);
  assert.equal(signals[0], controller.signal);
});
