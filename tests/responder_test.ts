import assert from "node:assert/strict";
import { z } from "zod";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { xmlRpc } from "../codecs/xml_rpc.ts";
import {
  type CallContext,
  type Codec,
  DecodeError,
  defineService,
  ErrorCode,
  type Frame,
  method,
  RpcError,
  withContext,
} from "../mod.ts";
import { createDirectResponder, createResponder } from "../rpc/plumbing.ts";
import { callMetadata } from "../rpc/call_metadata.ts";

interface Reply {
  jsonrpc: string;
  id: string | number | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

function parse(frame: Frame | undefined): Reply {
  assert.equal(typeof frame, "string", "a JSON-RPC reply is one text frame");
  const reply = JSON.parse(frame as string);
  assert.ok(!Array.isArray(reply), "a single reply, not a batch");
  return reply;
}

function parseBatch(frame: Frame | undefined): Reply[] {
  assert.equal(typeof frame, "string", "a JSON-RPC reply is one text frame");
  const replies = JSON.parse(frame as string);
  assert.ok(Array.isArray(replies), "a batch reply");
  return replies;
}

function request(id: number | string, name: string, params?: unknown): string {
  return JSON.stringify(
    params === undefined
      ? { jsonrpc: "2.0", id, method: name }
      : { jsonrpc: "2.0", id, method: name, params },
  );
}

function notification(name: string, params?: unknown): string {
  return JSON.stringify(
    params === undefined
      ? { jsonrpc: "2.0", method: name }
      : { jsonrpc: "2.0", method: name, params },
  );
}

Deno.test("createResponder answers a call with its result", async () => {
  const respond = createResponder({
    codec: jsonRpc(),
    service: { add: (a: number, b: number) => a + b },
  });
  assert.deepEqual(parse(await respond(request(1, "add", [1, 2]))), {
    jsonrpc: "2.0",
    id: 1,
    result: 3,
  });
  assert.deepEqual(parse(await respond(request("s", "add", [40, 2]))), {
    jsonrpc: "2.0",
    id: "s",
    result: 42,
  });
  // A frame as UTF-8 bytes is answered as well.
  const bytes = new TextEncoder().encode(request(2, "add", [2, 2]));
  assert.equal(parse(await respond(bytes)).result, 4);
});

Deno.test("createResponder passes named params as one object, or by name to a definition", async () => {
  const named = createResponder({
    codec: jsonRpc(),
    service: { echo: (value: unknown) => value },
  });
  assert.deepEqual(parse(await named(request(1, "echo", { a: 1, b: [2] }))).result, {
    a: 1,
    b: [2],
  });
  const defined = createResponder({
    codec: jsonRpc(),
    service: defineService({
      sub: method({
        params: z.tuple([z.number(), z.number()]),
        names: ["a", "b"],
        result: z.number(),
        handler: (a, b) => a - b,
      }),
    }),
  });
  assert.equal(parse(await defined(request(1, "sub", { b: 2, a: 10 }))).result, 8);
  const invalid = parse(await defined(request(2, "sub", { a: "x", b: 2 })));
  assert.equal(invalid.id, 2);
  assert.equal(invalid.error?.code, ErrorCode.InvalidParams);
});

Deno.test("createResponder runs a notification and answers nothing", async () => {
  const seen: unknown[] = [];
  const respond = createResponder({
    codec: jsonRpc(),
    service: {
      note: (value: unknown) => {
        seen.push(value);
      },
      later: async (value: unknown) => {
        await Promise.resolve();
        seen.push(value);
      },
    },
  });
  assert.equal(await respond(notification("note", ["hello"])), undefined);
  assert.equal(await respond(notification("later", ["async"])), undefined);
  assert.deepEqual(seen, ["hello", "async"]);
});

Deno.test("createResponder tells onError about a notification that fails, and answers nothing", async () => {
  const errors: unknown[] = [];
  const respond = createResponder({
    codec: jsonRpc(),
    service: {
      boom: () => {
        throw new Error("boom");
      },
    },
    onError: (error) => errors.push(error),
  });
  assert.equal(await respond(notification("boom")), undefined);
  assert.equal(await respond(notification("missing")), undefined);
  assert.ok(errors.some((e) => e instanceof Error && e.message === "boom"));
  assert.ok(
    errors.some((e) => e instanceof RpcError && e.code === ErrorCode.MethodNotFound),
    "the unknown method of a notification is reported",
  );
});

Deno.test("createResponder answers a mixed batch with one frame of the calls' replies", async () => {
  const notes: unknown[] = [];
  const errors: unknown[] = [];
  const respond = createResponder({
    codec: jsonRpc(),
    service: {
      add: (a: number, b: number) => a + b,
      slowAdd: async (a: number, b: number) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return a + b;
      },
      note: (value: unknown) => {
        notes.push(value);
      },
      crash: () => {
        throw new Error("secret detail");
      },
      refuse: () => {
        throw new RpcError(7, "refused", { why: "policy" });
      },
    },
    onError: (error) => errors.push(error),
  });
  const frame = "[" + [
    request(1, "slowAdd", [1, 2]),
    notification("note", ["n1"]),
    request(2, "nope", []),
    request(3, "crash"),
    notification("note", ["n2"]),
    request(4, "refuse"),
    request(5, "add", [5, 5]),
  ].join(",") + "]";
  const replies = parseBatch(await respond(frame));
  assert.equal(replies.length, 5, "one reply per call, none for notifications");
  const byId = new Map(replies.map((reply) => [reply.id, reply]));
  assert.deepEqual(byId.get(1), { jsonrpc: "2.0", id: 1, result: 3 });
  assert.equal(byId.get(2)?.error?.code, ErrorCode.MethodNotFound);
  assert.deepEqual(byId.get(2)?.error?.data, { method: "nope" });
  assert.deepEqual(byId.get(3)?.error, {
    code: ErrorCode.InternalError,
    message: "Internal error",
  });
  assert.deepEqual(byId.get(4)?.error, { code: 7, message: "refused", data: { why: "policy" } });
  assert.deepEqual(byId.get(5), { jsonrpc: "2.0", id: 5, result: 10 });
  assert.deepEqual(notes.sort(), ["n1", "n2"]);
  assert.ok(errors.some((e) => e instanceof Error && e.message === "secret detail"));
  assert.ok(!errors.some((e) => e instanceof RpcError && e.code === 7), "RpcError is expected");
});

Deno.test("createResponder answers a batch of notifications only with nothing", async () => {
  const seen: unknown[] = [];
  const respond = createResponder({
    codec: jsonRpc(),
    service: { note: (value: unknown) => void seen.push(value) },
  });
  const frame = `[${notification("note", [1])},${notification("note", [2])}]`;
  assert.equal(await respond(frame), undefined);
  assert.deepEqual(seen.sort(), [1, 2]);
});

Deno.test("createResponder answers bad frames with error replies and keeps answering", async () => {
  const errors: unknown[] = [];
  let calls = 0;
  const respond = createResponder({
    codec: jsonRpc(),
    service: {
      add: (a: number, b: number) => {
        calls++;
        return a + b;
      },
    },
    onError: (error) => errors.push(error),
  });
  const next = async (n: number) => {
    assert.equal(parse(await respond(request(n, "add", [n, 1]))).result, n + 1);
  };

  const garbage = parse(await respond("hello, world"));
  assert.equal(garbage.id, null);
  assert.equal(garbage.error?.code, ErrorCode.ParseError);
  assert.equal(garbage.error?.message, "Parse error");
  await next(1);

  const truncated = parse(await respond('{"jsonrpc":"2.0","id":9,"method":"add","params":[1,'));
  assert.equal(truncated.id, null);
  assert.equal(truncated.error?.code, ErrorCode.ParseError);
  await next(2);

  const empty = parse(await respond("{}"));
  assert.equal(empty.id, null);
  assert.equal(empty.error?.code, ErrorCode.InvalidRequest);
  await next(3);

  const emptyBatch = parse(await respond("[]"));
  assert.equal(emptyBatch.id, null);
  assert.equal(emptyBatch.error?.code, ErrorCode.InvalidRequest);
  await next(4);

  // Over the default maxBatchSize (1000): one invalid-request reply, nothing is run.
  const before = calls;
  const oversized = "[" +
    Array.from({ length: 1001 }, (_, i) => request(i + 100, "add", [i, 0])).join(",") + "]";
  const tooLong = parse(await respond(oversized));
  assert.equal(tooLong.id, null);
  assert.equal(tooLong.error?.code, ErrorCode.InvalidRequest);
  assert.equal(calls, before, "no call of an oversized batch runs");
  await next(5);

  // A request without a method under a readable id is answered under that id.
  const noMethod = parse(await respond('{"jsonrpc":"2.0","id":77}'));
  assert.equal(noMethod.id, 77);
  assert.equal(noMethod.error?.code, ErrorCode.InvalidRequest);
  await next(6);

  assert.ok(errors.some((e) => e instanceof DecodeError), "decode failures are reported");
});

Deno.test("createResponder answers a batch over a small maxBatchSize and one at the limit", async () => {
  const respond = createResponder({
    codec: jsonRpc({ maxBatchSize: 3 }),
    service: { id: (n: number) => n },
  });
  const batch = (n: number) =>
    "[" + Array.from({ length: n }, (_, i) => request(i, "id", [i])).join(",") + "]";
  assert.equal(parseBatch(await respond(batch(3))).length, 3);
  assert.equal(parse(await respond(batch(4))).error?.code, ErrorCode.InvalidRequest);
});

Deno.test("createResponder rejects an undecodable frame with DecodeError when the codec cannot answer it", async () => {
  const base = jsonRpc();
  const codec: Codec = {
    name: base.name,
    mediaType: base.mediaType,
    text: true,
    features: { ...base.features, replyToParseError: false },
    encode: (message) => base.encode(message),
    decode: (frame) => base.decode(frame),
  };
  const errors: unknown[] = [];
  const respond = createResponder({
    codec,
    service: { add: (a: number, b: number) => a + b },
    onError: (error) => errors.push(error),
  });
  await assert.rejects(respond("not json"), DecodeError);
  await assert.rejects(respond('{"jsonrpc":"2.0","id":1,"method":"a'), DecodeError);
  assert.equal(errors.length, 2);
  assert.ok(errors.every((e) => e instanceof DecodeError));
  // What decodes is still answered, an invalid message included.
  assert.equal(parse(await respond(request(1, "add", [1, 2]))).result, 3);
  assert.equal(parse(await respond("{}")).error?.code, ErrorCode.InvalidRequest);
});

Deno.test("createResponder refuses calls beyond maxInFlight across exchanges with ServerBusy", async () => {
  let gate = Promise.withResolvers<void>();
  const started: number[] = [];
  const errors: unknown[] = [];
  const respond = createResponder({
    codec: jsonRpc(),
    service: {
      slow: async (n: number) => {
        started.push(n);
        await gate.promise;
        return n;
      },
      fast: (n: number) => n,
      failLater: async () => {
        await Promise.resolve();
        throw new Error("late failure");
      },
      failNow: () => {
        throw new Error("early failure");
      },
    },
    limits: { maxInFlight: 2 },
    onError: (error) => errors.push(error),
  });
  const first = respond(request(1, "slow", [1]));
  const second = respond(request(2, "slow", [2]));
  const busy = parse(await respond(request(3, "slow", [3])));
  assert.equal(busy.id, 3);
  assert.equal(busy.error?.code, ErrorCode.ServerBusy);
  assert.deepEqual(started, [1, 2], "the refused call did not run");
  // A notification over the limit is dropped and reported.
  assert.equal(await respond(notification("fast", [0])), undefined);
  assert.ok(errors.some((e) => e instanceof RpcError && e.code === ErrorCode.ServerBusy));
  // In a batch, calls beyond the limit are refused one by one.
  const batch = parseBatch(await respond(`[${request(4, "fast", [4])}]`));
  assert.equal(batch[0]?.error?.code, ErrorCode.ServerBusy);

  gate.resolve();
  assert.equal(parse(await first).result, 1);
  assert.equal(parse(await second).result, 2);
  assert.equal(parse(await respond(request(5, "fast", [5]))).result, 5);

  // Failing handlers, sync or async, give their slot back.
  for (let i = 0; i < 3; i++) {
    assert.equal(parse(await respond(request(6, "failNow"))).error?.code, ErrorCode.InternalError);
    assert.equal(
      parse(await respond(request(7, "failLater"))).error?.code,
      ErrorCode.InternalError,
    );
  }
  gate = Promise.withResolvers<void>();
  const again = [respond(request(8, "slow", [8])), respond(request(9, "slow", [9]))];
  assert.equal(parse(await respond(request(10, "fast", [10]))).error?.code, ErrorCode.ServerBusy);
  gate.resolve();
  assert.deepEqual((await Promise.all(again)).map((frame) => parse(frame).result), [8, 9]);
});

Deno.test("createResponder runs a batch over maxInFlight partly, refusing the rest", async () => {
  const gate = Promise.withResolvers<void>();
  const respond = createResponder({
    codec: jsonRpc(),
    service: {
      slow: async (n: number) => {
        await gate.promise;
        return n;
      },
    },
    limits: { maxInFlight: 2 },
  });
  const pending = respond(`[${[1, 2, 3].map((n) => request(n, "slow", [n])).join(",")}]`);
  gate.resolve();
  const replies = parseBatch(await pending);
  assert.deepEqual(replies.map((reply) => reply.result ?? reply.error?.code), [
    1,
    2,
    ErrorCode.ServerBusy,
  ]);
});

Deno.test("createResponder asks for the signal only when a handler reads it", async () => {
  let asked = 0;
  const controller = new AbortController();
  const signal = () => {
    asked++;
    return controller.signal;
  };
  const reading = Promise.withResolvers<void>();
  const respond = createResponder({
    codec: jsonRpc(),
    service: {
      plain: (n: number) => n,
      contextual: withContext((ctx: CallContext, n: number) => ({ n, id: ctx.id, m: ctx.method })),
      wait: withContext((ctx: CallContext) =>
        new Promise((resolve) => {
          const s = ctx.signal;
          s.addEventListener("abort", () => resolve(`aborted: ${s.reason}`), { once: true });
          reading.resolve();
        })
      ),
    },
  });
  assert.equal(parse(await respond(request(1, "plain", [1]), signal)).result, 1);
  assert.deepEqual(parse(await respond(request(2, "contextual", [2]), signal)).result, {
    n: 2,
    id: 2,
    m: "contextual",
  });
  assert.equal(await respond(notification("plain", [3]), signal), undefined);
  assert.equal(asked, 0, "no handler read ctx.signal");

  const waiting = respond(request(3, "wait"), signal);
  await reading.promise;
  assert.equal(asked, 1);
  controller.abort("client left");
  assert.equal(parse(await waiting).result, "aborted: client left");
});

Deno.test("createResponder without a signal gives handlers one that never aborts", async () => {
  const respond = createResponder({
    codec: jsonRpc(),
    service: { aborted: withContext((ctx: CallContext) => ctx.signal.aborted) },
  });
  assert.equal(parse(await respond(request(1, "aborted"))).result, false);
});

Deno.test("createResponder answers a result the codec cannot carry with an internal error", async () => {
  const errors: unknown[] = [];
  const respond = createResponder({
    codec: jsonRpc({ bigint: "error" }),
    service: {
      huge: () => 2n ** 60n,
      hugeLater: () => Promise.resolve(2n ** 60n),
      small: () => 5n,
    },
    onError: (error) => errors.push(error),
  });
  for (const [id, name] of [[1, "huge"], [2, "hugeLater"]] as const) {
    assert.deepEqual(parse(await respond(request(id, name))), {
      jsonrpc: "2.0",
      id,
      error: { code: ErrorCode.InternalError, message: "Internal error" },
    });
  }
  assert.equal(errors.length, 2);
  assert.ok(errors.every((e) => e instanceof TypeError), String(errors));
  // A bigint within the safe range is carried as a number.
  assert.equal(parse(await respond(request(3, "small"))).result, 5);
  // In a batch, only the entry that cannot travel becomes an error.
  const batch = await respond(JSON.stringify([
    { jsonrpc: "2.0", id: 4, method: "small" },
    { jsonrpc: "2.0", id: 5, method: "huge" },
  ]));
  assert.deepEqual(JSON.parse(batch as string), [
    { jsonrpc: "2.0", id: 4, result: 5 },
    { jsonrpc: "2.0", id: 5, error: { code: ErrorCode.InternalError, message: "Internal error" } },
  ]);
});

Deno.test("createResponder with exposeErrors sends the message of unexpected errors", async () => {
  const service = {
    crash: () => {
      throw new Error("disk on fire");
    },
    huge: () => 2n ** 60n,
  };
  const exposed = createResponder({ codec: jsonRpc(), service, exposeErrors: true });
  const reply = parse(await exposed(request(1, "crash")));
  assert.equal(reply.error?.code, ErrorCode.InternalError);
  assert.equal(reply.error?.message, "disk on fire");
  const data = reply.error?.data as { name: string; stack: string };
  assert.equal(data.name, "Error");
  assert.match(data.stack, /disk on fire/);
  const unencodable = parse(await exposed(request(2, "huge")));
  assert.equal(unencodable.error?.code, ErrorCode.InternalError);
  assert.notEqual(unencodable.error?.message, "Internal error");

  const hidden = createResponder({ codec: jsonRpc(), service });
  assert.deepEqual(parse(await hidden(request(1, "crash"))).error, {
    code: ErrorCode.InternalError,
    message: "Internal error",
  });
});

// XML-RPC: one client codec per exchange, as an HTTP client would use.
function xmlCall(
  name: string,
  params: unknown[] = [],
): { frame: Frame; read: (reply: Frame) => unknown } {
  const client = xmlRpc();
  const frame = client.encode({ kind: "request", id: 1, method: name, params });
  return { frame, read: (reply) => client.decode(reply) };
}

Deno.test("createResponder serves XML-RPC exchanges concurrently, a codec instance each", async () => {
  const base = xmlRpc();
  let forks = 0;
  const codec: Codec = {
    ...base,
    fork: () => {
      forks++;
      return base.fork!();
    },
  };
  const gates = { a: Promise.withResolvers<void>(), b: Promise.withResolvers<void>() };
  const arrived = { a: Promise.withResolvers<void>(), b: Promise.withResolvers<void>() };
  const respond = createResponder({
    codec,
    service: {
      wait: async (name: "a" | "b", value: number) => {
        arrived[name].resolve();
        await gates[name].promise;
        return value;
      },
    },
  });
  const a = xmlCall("wait", ["a", 1]);
  const b = xmlCall("wait", ["b", 2]);
  const replyA = respond(a.frame);
  const replyB = respond(b.frame);
  await Promise.all([arrived.a.promise, arrived.b.promise]);
  gates.b.resolve();
  assert.deepEqual(b.read((await replyB)!), { kind: "result", id: 1, result: 2 });
  gates.a.resolve();
  assert.deepEqual(a.read((await replyA)!), { kind: "result", id: 1, result: 1 });
  assert.equal(forks, 2, "one codec instance per exchange");
});

Deno.test("createResponder answers XML-RPC faults for an unknown method and a bad frame", async () => {
  const respond = createResponder({
    codec: xmlRpc(),
    service: { add: (a: number, b: number) => a + b },
  });
  const unknown = xmlCall("nope", [1]);
  const fault = unknown.read((await respond(unknown.frame))!) as {
    kind: string;
    error: { code: number };
  };
  assert.equal(fault.kind, "error");
  assert.equal(fault.error.code, ErrorCode.MethodNotFound);

  const broken = await respond("<methodCall><methodName>add</methodName><params>");
  assert.match(broken as string, /<fault>/);
  // Read as the reply to a call: a codec that made none answers a fault instead.
  const reader = xmlRpc();
  reader.encode({ kind: "request", id: 1, method: "add" });
  const parsed = reader.decode(broken!) as { kind: string; id: unknown; error: { code: number } };
  assert.equal(parsed.kind, "error");
  assert.equal(parsed.error.code, ErrorCode.ParseError);

  const add = xmlCall("add", [40, 2]);
  assert.deepEqual(add.read((await respond(add.frame))!), { kind: "result", id: 1, result: 42 });
});

Deno.test("createDirectResponder answers synchronous handlers at once, and every frame as createResponder does", async () => {
  const service = {
    add: (a: number, b: number) => a + b,
    later: async (n: number) => await Promise.resolve(n * 2),
    fails: () => {
      throw new RpcError(-32010, "refused");
    },
    big: () => 2n ** 70n, // a reply JSON cannot carry: an internal error in its place
  };
  const direct = createDirectResponder({ codec: jsonRpc(), service });
  const awaited = createResponder({ codec: jsonRpc(), service });
  const frames: { frame: string; now: boolean }[] = [
    { frame: request(1, "add", [1, 2]), now: true },
    { frame: request(2, "later", [4]), now: false },
    { frame: request(3, "fails"), now: true },
    { frame: request(4, "nope"), now: true },
    { frame: request(5, "big"), now: true },
    { frame: notification("add", [1, 2]), now: true },
    { frame: notification("later", [1]), now: false },
    { frame: "{not json", now: true },
    { frame: '{"jsonrpc":"2.0","id":6}', now: true },
    { frame: `[${request(7, "add", [2, 2])},${request(8, "fails")}]`, now: true },
    { frame: `[${request(9, "add", [2, 2])},${request(10, "later", [3])}]`, now: false },
    { frame: `[${notification("add", [1, 1])}]`, now: true },
    { frame: "[]", now: true },
  ];
  for (const { frame, now } of frames) {
    const reply = direct(frame);
    assert.equal(!(reply instanceof Promise), now, `answered at once: ${frame}`);
    const expected = await awaited(frame);
    const got = await reply;
    assert.deepEqual(
      got === undefined ? undefined : JSON.parse(got as string),
      expected === undefined ? undefined : JSON.parse(expected as string),
      frame,
    );
  }
});

Deno.test("createDirectResponder with an interceptor answers through it, as a promise", async () => {
  const seen: string[] = [];
  const direct = createDirectResponder({
    codec: jsonRpc(),
    service: { add: (a: number, b: number) => a + b },
    interceptors: [(next) => (call) => {
      seen.push(call.method);
      return next(call);
    }],
  });
  const reply = direct(request(1, "add", [1, 2]));
  assert.ok(reply instanceof Promise);
  assert.deepEqual(parse(await reply), { jsonrpc: "2.0", id: 1, result: 3 });
  assert.deepEqual(seen, ["add"]);
});

Deno.test("createDirectResponder throws DecodeError at once when the codec cannot answer a bad frame", () => {
  const codec: Codec = {
    ...jsonRpc(),
    features: { ...jsonRpc().features, replyToParseError: false },
  };
  const direct = createDirectResponder({ codec, service: {} });
  assert.throws(() => direct("{not json"), DecodeError);
});

Deno.test("createResponder makes a call's metadata when read: the exchange's headers, its meta over them", async () => {
  const respond = createResponder({
    codec: jsonRpc(),
    service: {
      read: withContext((ctx: CallContext) => {
        const metadata = callMetadata(ctx)!;
        metadata.headers.set("x-out", "1");
        metadata.trailers.set("x-end", "2");
        return [metadata.request.get("x-in"), metadata.trailers.get("x-end")];
      }),
      skip: withContext((ctx: CallContext) => callMetadata(ctx) !== undefined),
    },
  });
  const exchange = { request: new Headers({ "x-in": "a" }), headers: new Headers() };
  const reply = parse(await respond(request(1, "read"), undefined, exchange));
  assert.deepEqual(reply.result, ["a", "2"]);
  assert.equal(exchange.headers.get("x-out"), "1", "reply headers go to the exchange's");
  // Without an exchange there is no metadata at all.
  assert.equal(parse(await respond(request(2, "skip"))).result, false);
});
