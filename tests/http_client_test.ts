import assert from "node:assert/strict";
import { z } from "zod";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { xmlRpc } from "../codecs/xml_rpc.ts";
import {
  type CallContext,
  ConnectionClosedError,
  defineService,
  ErrorCode,
  LimitError,
  method,
  ProtocolError,
  RpcError,
  withContext,
} from "../mod.ts";
import { connectHttp, HttpError, serveHttp } from "../rpc/transports/http.ts";
import { spawnListening } from "./interop/_process.ts";
import { needs } from "./_needs.ts";

const codec = jsonRpc();

// A plain HTTP server for replies serveHttp would never send.
function rawServer(handler: (request: Request) => Response | Promise<Response>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  return Object.assign(server, { url: `http://127.0.0.1:${server.addr.port}/rpc` });
}

// The JSON-RPC reply a raw server sends for a method it does not treat specially.
function echoReply(call: { id?: unknown; params?: unknown }): Response {
  return Response.json({ jsonrpc: "2.0", id: call.id, result: call.params ?? null });
}

Deno.test("connectHttp runs XML-RPC calls concurrently and matches each reply", async () => {
  let active = 0;
  let most = 0;
  const overlap = Promise.withResolvers<void>();
  await using server = serveHttp({
    routes: {
      "/RPC2": {
        codec: xmlRpc(),
        service: {
          add: async (a: number, b: number) => {
            active++;
            most = Math.max(most, active);
            if (active >= 2) overlap.resolve();
            // Wait for another call to run at the same time; a client that
            // sends one call at a time fails the assertion below instead of hanging.
            let timer: ReturnType<typeof setTimeout> | undefined;
            await Promise.race([
              overlap.promise,
              new Promise((resolve) => timer = setTimeout(resolve, 2_000)),
            ]);
            clearTimeout(timer);
            active--;
            return a + b;
          },
        },
      },
    },
  });
  await using client = connectHttp(`${server.url}/RPC2`, { codec: xmlRpc() });
  const sums = await Promise.all(Array.from({ length: 10 }, (_, i) => client.call("add", [i, 1])));
  assert.deepEqual(sums, Array.from({ length: 10 }, (_, i) => i + 1));
  assert.ok(most > 1, `at most ${most} call ran at once`);
  // Faults and the batch fallback (one POST per entry) work too.
  await assert.rejects(
    client.call("nope"),
    (e: unknown) => e instanceof RpcError && e.code === ErrorCode.MethodNotFound,
  );
  const batch = await client.batch([{ method: "add", params: [1, 1] }, { method: "nope" }]);
  assert.deepEqual(batch[0], { status: "fulfilled", value: 2 });
  assert.equal(batch[1]?.status, "rejected");
  assert.equal(client.pending, 0);
});

Deno.test("connectHttp rejects a reply over maxBodySize with LimitError and keeps working", async () => {
  const large = JSON.stringify({ jsonrpc: "2.0", id: 1, result: "x".repeat(8192) });
  await using server = rawServer(async (request) => {
    const call = await request.json();
    if (call.method === "declared") {
      // Not a compressible type, so the length stays declared.
      return new Response(large, { headers: { "content-type": "application/octet-stream" } });
    }
    if (call.method === "chunked") {
      const chunk = new TextEncoder().encode("x".repeat(1024));
      let sent = 0;
      return new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent++ < 16) controller.enqueue(chunk);
            else controller.close();
          },
        }),
        { headers: { "content-type": "application/octet-stream" } },
      );
    }
    return echoReply(call);
  });
  // The first case really declares its length, the second does not.
  const probe = async (name: string) => {
    const response = await fetch(server.url, {
      method: "POST",
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: name }),
    });
    await response.body?.cancel();
    return response.headers.get("content-length");
  };
  assert.equal(await probe("declared"), String(large.length));
  assert.equal(await probe("chunked"), null);

  await using client = connectHttp(server.url, { codec, maxBodySize: 4096 });
  for (const name of ["declared", "chunked"]) {
    await assert.rejects(
      client.call(name),
      (e: unknown) => e instanceof LimitError && e.limitName === "maxBodySize" && e.limit === 4096,
      name,
    );
    assert.deepEqual(await client.call("echo", [name]), [name]);
  }
  assert.equal(client.pending, 0);
});

Deno.test("connectHttp applies maxBodySize to a gzipped reply after decompression", async () => {
  const big = "y".repeat(64 * 1024);
  await using server = serveHttp({
    routes: { "/rpc": { codec, service: { big: () => big, small: () => "ok" } } },
  });
  let encoding: string | null = null;
  await using client = connectHttp(`${server.url}/rpc`, {
    codec,
    maxBodySize: 16 * 1024,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      encoding = response.headers.get("content-encoding");
      return response;
    },
  });
  await assert.rejects(
    client.call("big"),
    (e: unknown) => e instanceof LimitError && e.limitName === "maxBodySize",
  );
  assert.equal(encoding, "gzip", "the reply was gzipped, far below the limit on the wire");
  assert.equal(await client.call("small"), "ok");
});

Deno.test("connectHttp close() rejects calls in flight and the server handler sees the abort", async () => {
  const started = Promise.withResolvers<void>();
  const aborted = Promise.withResolvers<void>();
  await using server = serveHttp({
    routes: {
      "/rpc": {
        codec,
        service: {
          wait: withContext((ctx: CallContext) =>
            new Promise((resolve) => {
              ctx.signal.addEventListener("abort", () => {
                aborted.resolve();
                resolve("aborted");
              }, { once: true });
              started.resolve();
            })
          ),
        },
      },
    },
  });
  const client = connectHttp(`${server.url}/rpc`, { codec });
  const call = client.call("wait");
  await started.promise;
  assert.equal(client.pending, 1);
  assert.equal(client.isClosed, false);
  const closing = client.close("done here");
  assert.equal(client.isClosed, true);
  await assert.rejects(
    call,
    (e: unknown) => e instanceof ConnectionClosedError && e.cause === "done here",
  );
  await closing;
  await client.closed;
  await aborted.promise;
  assert.equal(client.pending, 0);
  await assert.rejects(client.call("wait"), ConnectionClosedError);
  await assert.rejects(client.notify("wait"), ConnectionClosedError);
  const batch = client.batch([{ method: "wait" }]);
  await assert.rejects(batch, ConnectionClosedError);
  // Closing again is harmless.
  await client.close();
});

Deno.test("connectHttp close() lets a notification in flight arrive, within closeTimeout", async () => {
  const arrived = { first: Promise.withResolvers<void>(), second: Promise.withResolvers<void>() };
  const release = Promise.withResolvers<void>();
  const aborted = Promise.withResolvers<void>();
  await using server = serveHttp({
    routes: {
      "/rpc": {
        codec,
        service: {
          slowNote: withContext(async (ctx: CallContext, which: "first" | "second") => {
            arrived[which].resolve();
            if (which === "first") return await release.promise;
            await new Promise<void>((resolve) =>
              ctx.signal.addEventListener("abort", () => resolve(), { once: true })
            );
            aborted.resolve();
          }),
        },
      },
    },
  });
  // Given time, the notification finishes.
  const patient = connectHttp(`${server.url}/rpc`, { codec, closeTimeout: 10_000 });
  const note = patient.notify("slowNote", ["first"]);
  await arrived.first.promise;
  const closing = patient.close();
  assert.equal(patient.isClosed, true);
  release.resolve();
  await note;
  await closing;

  // Past closeTimeout it is aborted.
  const hasty = connectHttp(`${server.url}/rpc`, { codec, closeTimeout: 20 });
  const dropped = hasty.notify("slowNote", ["second"]);
  await arrived.second.promise;
  await hasty.close();
  await assert.rejects(dropped, ConnectionClosedError);
  await aborted.promise;
});

Deno.test("connectHttp closes when its signal aborts", async () => {
  const started = Promise.withResolvers<void>();
  await using server = serveHttp({
    routes: {
      "/rpc": {
        codec,
        service: {
          add: (a: number, b: number) => a + b,
          wait: withContext((ctx: CallContext) =>
            new Promise((resolve) => {
              ctx.signal.addEventListener("abort", () => resolve(null), { once: true });
              started.resolve();
            })
          ),
        },
      },
    },
  });
  const controller = new AbortController();
  const client = connectHttp(`${server.url}/rpc`, { codec, signal: controller.signal });
  assert.equal(await client.call("add", [1, 2]), 3);
  const call = client.call("wait");
  await started.promise;
  const reason = new Error("shutting down");
  controller.abort(reason);
  await assert.rejects(
    call,
    (e: unknown) => e instanceof ConnectionClosedError && e.cause === reason,
  );
  await client.closed;
  assert.equal(client.isClosed, true);
  await assert.rejects(client.call("add", [1, 2]), ConnectionClosedError);

  // A signal aborted already closes the client at once.
  const early = connectHttp(`${server.url}/rpc`, { codec, signal: AbortSignal.abort("gone") });
  await early.closed;
  await assert.rejects(early.call("add", [1, 2]), ConnectionClosedError);
});

Deno.test("connectHttp notify() resolves when the server answers 204 and rejects on another status", async () => {
  const notes: unknown[] = [];
  await using server = serveHttp({
    routes: { "/rpc": { codec, service: { note: (value: unknown) => void notes.push(value) } } },
    authenticate: (request) => {
      const auth = request.headers.get("authorization");
      if (auth === "crash") throw new Error("auth backend down");
      return auth === "Bearer ok";
    },
    onError: () => {},
  });
  await using client = connectHttp(`${server.url}/rpc`, {
    codec,
    headers: { authorization: "Bearer ok" },
  });
  await client.notify("note", ["hello"]);
  assert.deepEqual(notes, ["hello"], "notify resolved after the handler ran");

  await using stranger = connectHttp(`${server.url}/rpc`, { codec });
  await assert.rejects(
    stranger.notify("note", ["denied"]),
    (e: unknown) => e instanceof HttpError && e.status === 401 && /Unauthorized/.test(e.body),
  );
  await using crashing = connectHttp(`${server.url}/rpc`, {
    codec,
    headers: { authorization: "crash" },
  });
  await assert.rejects(
    crashing.notify("note", ["crashed"]),
    (e: unknown) => e instanceof HttpError && e.status === 500,
  );
  assert.deepEqual(notes, ["hello"]);
});

Deno.test("connectHttp notify() reports a reply it did not ask for to onError", async () => {
  await using server = rawServer(() =>
    Response.json({ jsonrpc: "2.0", id: null, error: { code: -32600, message: "nope" } })
  );
  const errors: unknown[] = [];
  await using client = connectHttp(server.url, { codec, onError: (e) => errors.push(e) });
  await client.notify("anything");
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof RpcError && errors[0].code === -32600);
});

Deno.test("connectHttp refuses calls beyond limits.maxPending with LimitError", async () => {
  const gate = Promise.withResolvers<void>();
  let running = 0;
  const two = Promise.withResolvers<void>();
  await using server = serveHttp({
    routes: {
      "/rpc": {
        codec,
        service: {
          slow: async (n: number) => {
            if (++running === 2) two.resolve();
            await gate.promise;
            return n;
          },
          note: () => {},
        },
      },
    },
  });
  await using client = connectHttp(`${server.url}/rpc`, { codec, limits: { maxPending: 2 } });
  const first = client.call("slow", [1]);
  const second = client.call("slow", [2]);
  await two.promise;
  assert.equal(client.pending, 2);
  await assert.rejects(
    client.call("slow", [3]),
    (e: unknown) => e instanceof LimitError && e.limitName === "maxPending" && e.limit === 2,
  );
  await assert.rejects(client.batch([{ method: "slow", params: [4] }]), LimitError);
  // Notifications are not awaiting a reply, so they still go.
  await client.notify("note");
  gate.resolve();
  assert.deepEqual(await Promise.all([first, second]), [1, 2]);
  assert.equal(client.pending, 0);
  assert.equal(await client.call("slow", [5]), 5);
});

Deno.test("connectHttp fails a call with a malformed 200 reply with ProtocolError and keeps working", async () => {
  await using server = rawServer(async (request) => {
    const call = await request.json();
    switch (call.method) {
      case "garbage":
        return new Response("not json", { headers: { "content-type": "application/json" } });
      case "invalidUtf8":
        return new Response(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
      case "wrongId":
        return Response.json({ jsonrpc: "2.0", id: 999_999, result: 1 });
      case "noResult":
        return Response.json({ jsonrpc: "2.0", id: call.id });
      case "empty":
        return new Response(null, { status: 200 });
      default:
        return echoReply(call);
    }
  });
  await using client = connectHttp(server.url, { codec });
  for (const name of ["garbage", "invalidUtf8", "wrongId", "noResult", "empty"]) {
    await assert.rejects(client.call(name), ProtocolError, name);
    assert.deepEqual(await client.call("echo", [name]), [name]);
  }
  assert.equal(client.pending, 0);
});

Deno.test("connectHttp fails a call answered with an id-null error with a ProtocolError caused by it", async () => {
  await using server = rawServer(() =>
    Response.json({
      jsonrpc: "2.0",
      id: null,
      error: { code: ErrorCode.ParseError, message: "Parse error", data: "bad" },
    })
  );
  await using client = connectHttp(server.url, { codec });
  await assert.rejects(client.call("add", [1, 2]), (e: unknown) => {
    assert.ok(e instanceof ProtocolError);
    assert.ok(e.cause instanceof RpcError);
    assert.equal(e.cause.code, ErrorCode.ParseError);
    assert.equal(e.cause.data, "bad");
    return true;
  });
});

const calculator = defineService({
  add: method({
    params: z.tuple([z.number().int(), z.number().int()]),
    names: ["a", "b"],
    result: z.number(),
    handler: (a, b) => a + b,
  }),
  greet: method({
    params: z.tuple([z.string()]),
    result: z.string(),
    handler: (name) => `Hello, ${name}`,
  }),
});

Deno.test("connectHttp proxy(definition) validates params before sending and results after", async () => {
  let calls = 0;
  await using server = serveHttp({
    routes: {
      "/rpc": { codec, service: calculator },
      // Claims to be the calculator but answers with the wrong types.
      "/liar": {
        codec,
        service: {
          add: () => {
            calls++;
            return "three";
          },
        },
      },
    },
  });
  await using client = connectHttp(`${server.url}/rpc`, { codec });
  const calc = client.proxy(calculator);
  assert.equal(await calc.add(1, 2), 3);
  assert.equal(await calc.greet("Ada"), "Hello, Ada");
  // @ts-expect-error: a string where a number is expected
  await assert.rejects(calc.add(1, "2"), TypeError);
  await assert.rejects(calc.add(1.5, 2), TypeError);
  assert.equal((calc as Record<string, unknown>)["missing"], undefined);
  // The server validates too.
  await assert.rejects(
    client.call("add", [1, "2"]),
    (e: unknown) => e instanceof RpcError && e.code === ErrorCode.InvalidParams,
  );

  await using liar = connectHttp(`${server.url}/liar`, { codec });
  const lying = liar.proxy(calculator);
  await assert.rejects(lying.add(1, 2), ProtocolError);
  assert.equal(calls, 1);
  await assert.rejects(lying.add(1, "2" as unknown as number), TypeError);
  assert.equal(calls, 1, "invalid params are never sent");
});

Deno.test("connectHttp gzips request bodies over compressThreshold, and servers read them", {
  ignore: needs("python3"),
}, async () => {
  await using server = serveHttp({
    routes: { "/rpc": { codec: jsonRpc(), service: { echo: (value: unknown) => value } } },
  });
  const sent: (string | null)[] = [];
  await using client = connectHttp(`${server.url}/rpc`, {
    codec: jsonRpc(),
    compressThreshold: 1000,
    fetch: (input, init) => {
      sent.push(new Headers(init?.headers).get("content-encoding"));
      return fetch(input, init);
    },
  });
  const text = "compressible ".repeat(10_000);
  assert.equal(await client.call("echo", [text]), text);
  assert.equal(await client.call("echo", ["short"]), "short");
  assert.deepEqual(sent, ["gzip", null]);
  // Python's SimpleXMLRPCServer reads gzipped requests too.
  const script = `import xmlrpc.server
server = xmlrpc.server.SimpleXMLRPCServer(("127.0.0.1", 0), logRequests=False)
server.register_function(lambda s: len(s), "length")
print("listening http://127.0.0.1:%d/RPC2" % server.server_address[1], flush=True)
server.serve_forever()`;
  await using python = await spawnListening("python3", { args: ["-c", script] });
  await using xml = connectHttp(python.url, { codec: xmlRpc(), compressThreshold: 1000 });
  assert.equal(await xml.call("length", [text]), text.length);
});

Deno.test("connectHttp says what came instead of a reply: status, content type and its start", async () => {
  await using server = rawServer(() =>
    new Response("<html><body>502 Bad Gateway from a proxy</body></html>", {
      headers: { "content-type": "text/html; charset=utf-8" },
    })
  );
  await using client = connectHttp(server.url, { codec });
  await assert.rejects(client.call("add", [1, 2]), (error: unknown) => {
    assert.ok(error instanceof ProtocolError, String(error));
    assert.match(error.message, /HTTP 200, text\/html; charset=utf-8, 54 bytes/);
    assert.match(error.message, /<html><body>502 Bad Gateway/);
    return true;
  });
});
