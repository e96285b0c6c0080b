/**
 * Interceptors on a `Peer` and serveHttp's routes, beyond the shared suite
 * (interceptors_suite_test.ts): the handler's context, a broken
 * interceptor, the caller's signal.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { RpcError } from "../rpc/errors.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import type { Interceptor } from "../rpc/interceptors.ts";
import { withContext } from "../rpc/service.ts";
import { connectHttp, serveHttp } from "../rpc/transports/http.ts";
import { connectTcp, serveTcp } from "../rpc/transports/tcp.ts";
import { connectWebSocket } from "../rpc/transports/websocket.ts";
import type { RpcClient } from "../rpc/client.ts";

// Denying, rewriting, timing, order and the client's side over every codec
// and transport are the shared suite's (interceptors_suite_test.ts).

Deno.test("interceptors: a server interceptor sees the handler's context", async () => {
  const contexts: (string | undefined)[] = [];
  const look: Interceptor = (next) => (call) => {
    contexts.push(call.context?.method);
    return next(call);
  };
  await using server = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    codec: jsonRpc(),
    framing: newline(),
    service: { add: (a: number, b: number) => a + b },
    interceptors: [look],
  });
  await using client = await connectTcp(server.address, { codec: jsonRpc(), framing: newline() });
  assert.equal(await client.call("add", [1, 2]), 3);
  assert.deepEqual(contexts, ["add"]);
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
