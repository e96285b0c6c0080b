// serveRpyc against hostile clients (raw sockets written here): truncated,
// oversized and bomb packets, absurd depth, unknown handlers, DEL of ids
// never given, prototype names, floods of requests. Each ends with an
// exception reply or the connection closed, and the server goes on serving
// everyone else (a real Python client among them).

import assert from "node:assert/strict";
import { DecodeError, FrameSizeError } from "../rpc/errors.ts";
import {
  type BrineValue,
  decodeException,
  decodeMessage,
  encodeMessage,
  HANDLE,
  type IdPack,
  LABEL,
  MSG,
  RpycChannel,
  type RpycServer,
  serveRpyc,
  type ServeRpycOptions,
} from "../rpc/transports/rpyc.ts";
import { header } from "./_rpyc_frames.ts";
import { DEBIAN_PYTHON } from "./interop/_process.ts";
import { testNeeding } from "./_needs.ts";

let gate = Promise.withResolvers<void>();
const root = {
  exposed_add: (a: number, b: number) => a + b,
  exposed_slow: async () => {
    await gate.promise;
    return "done";
  },
  exposed_make: () => ({ exposed_x: 1 }),
};

interface Raw extends AsyncDisposable {
  readonly channel: RpycChannel;
  readonly conn: Deno.Conn;
  request(
    handler: number,
    args: BrineValue,
    seq?: number,
  ): Promise<{ kind: number; payload: BrineValue }>;
  send(handler: number, args: BrineValue, seq: number): Promise<void>;
}

function serve(options: Partial<ServeRpycOptions> = {}): RpycServer & { errors: unknown[] } {
  const errors: unknown[] = [];
  const server = serveRpyc({ hostname: "127.0.0.1", port: 0 }, {
    root,
    onError: (e) => errors.push(e),
    ...options,
  });
  return Object.assign(server, { errors });
}

async function raw(server: RpycServer): Promise<Raw> {
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: (server.addr as Deno.NetAddr).port,
  });
  const channel = new RpycChannel(conn);
  let next = 1000;
  const send = (handler: number, args: BrineValue, seq: number) =>
    channel.send(encodeMessage({ kind: MSG.REQUEST, seq, payload: [handler, args] }));
  return {
    channel,
    conn,
    send,
    async request(handler, args, seq = next++) {
      await send(handler, args, seq);
      const reply = decodeMessage((await channel.recv())!);
      assert.equal(reply.seq, seq);
      return reply;
    },
    async [Symbol.asyncDispose]() {
      await channel.close().catch(() => {});
    },
  };
}

const tuple = (
  ...items: BrineValue[]
): BrineValue => [LABEL.TUPLE, items.map((v): BrineValue => [LABEL.VALUE, v])];
const ref = (idPack: IdPack, ...rest: BrineValue[]): BrineValue => [
  LABEL.TUPLE,
  [[LABEL.LOCAL_REF, idPack], ...rest.map((v): BrineValue => [LABEL.VALUE, v])],
];

async function rootOf(c: Raw): Promise<IdPack> {
  const reply = await c.request(HANDLE.GETROOT, tuple());
  assert.equal(reply.kind, MSG.REPLY);
  const [label, idPack] = reply.payload as [number, IdPack];
  assert.equal(label, LABEL.REMOTE_REF);
  return idPack;
}

function exceptionName(reply: { kind: number; payload: BrineValue }): string {
  assert.equal(reply.kind, MSG.EXCEPTION);
  return decodeException(reply.payload).name;
}

async function closedWith(server: RpycServer & { errors: unknown[] }): Promise<unknown> {
  while (server.sessions.size > 0) await Promise.all([...server.sessions].map((s) => s.closed));
  return server.errors.at(-1);
}

Deno.test("serveRpyc: a truncated packet closes that connection only", async () => {
  await using server = serve();
  await using good = await raw(server);
  await using bad = await raw(server);
  await bad.conn.write(header(100));
  await bad.conn.write(new Uint8Array(10));
  bad.conn.closeWrite();
  assert.equal(await bad.channel.recv(), null);
  const sum = await good.request(HANDLE.CALLATTR, ref(await rootOf(good), "add", [1, 2], []));
  assert.deepEqual(sum.payload, [LABEL.VALUE, 3]);
  assert.ok(server.errors.some((e) => e instanceof DecodeError));
});

Deno.test("serveRpyc: an oversized header, a zlib bomb, absurd depth: closed with the reason", async () => {
  {
    await using server = serve({ maxFrameBytes: 1024 });
    await using c = await raw(server);
    await c.conn.write(header(0x7fffffff));
    assert.equal(await c.channel.recv(), null);
    const why = await closedWith(server);
    assert.ok(why instanceof FrameSizeError && why.limit === 1024);
  }
  {
    await using server = serve({ maxInflatedBytes: 1024 * 1024 });
    await using c = await raw(server);
    const zeros = new Blob([new Uint8Array(32 * 1024 * 1024)]).stream().pipeThrough(
      new CompressionStream("deflate"),
    );
    const bomb = new Uint8Array(await new Response(zeros).arrayBuffer());
    await c.conn.write(new Uint8Array([...header(bomb.length, 1), ...bomb, 0x0a]));
    assert.equal(await c.channel.recv(), null);
    const why = await closedWith(server);
    assert.ok(why instanceof FrameSizeError && why.limit === 1024 * 1024);
  }
  {
    await using server = serve();
    await using c = await raw(server);
    const deep = new Uint8Array(200_000).fill(0x10);
    await c.conn.write(new Uint8Array([...header(deep.length), ...deep, 0x0a]));
    assert.equal(await c.channel.recv(), null);
    assert.ok(await closedWith(server) instanceof DecodeError);
  }
});

Deno.test("serveRpyc: unknown handlers and malformed requests get exception replies", async () => {
  await using server = serve();
  await using c = await raw(server);
  const unknown = await c.request(99, tuple());
  assert.equal(exceptionName(unknown), "ValueError");
  assert.match(String(decodeException(unknown.payload).args[0]), /does not serve handler #99/);
  assert.equal(exceptionName(await c.request(HANDLE.PICKLE, tuple())), "ValueError");
  await c.channel.send(encodeMessage({ kind: MSG.REQUEST, seq: 5, payload: "junk" }));
  assert.equal(decodeMessage((await c.channel.recv())!).kind, MSG.EXCEPTION);
  assert.equal(
    exceptionName(await c.request(HANDLE.GETATTR, [LABEL.VALUE, "not a tuple"])),
    "TypeError",
  );
  assert.equal(exceptionName(await c.request(HANDLE.GETATTR, [7, 7])), "ValueError");
  assert.equal(exceptionName(await c.request(HANDLE.GETATTR, tuple(1, "x"))), "TypeError");
  assert.equal(
    exceptionName(await c.request(HANDLE.CALL, ref(["x", 1, 99999], [], []))),
    "KeyError",
  );
  assert.equal(exceptionName(await c.request(HANDLE.INSPECT, tuple(["x", 1, 99999]))), "KeyError");
  assert.deepEqual((await c.request(HANDLE.PING, tuple("abc"))).payload, [LABEL.VALUE, "abc"]);
});

Deno.test("serveRpyc: DEL of ids never given, with huge or bad counts", async () => {
  await using server = serve();
  await using c = await raw(server);
  const id = await rootOf(c);
  assert.equal(
    exceptionName(await c.request(HANDLE.DEL, ref(["parley.Object", 2, 424242], 1))),
    "KeyError",
  );
  assert.equal(exceptionName(await c.request(HANDLE.DEL, ref(id, -5))), "ValueError");
  assert.equal(exceptionName(await c.request(HANDLE.DEL, ref(id, "lots"))), "ValueError");
  const session = [...server.sessions][0]!;
  assert.equal(session.liveLocalObjects, 1);
  assert.equal((await c.request(HANDLE.DEL, ref(id, 2n ** 100n))).kind, MSG.REPLY);
  assert.equal(session.liveLocalObjects, 0);
  assert.equal(exceptionName(await c.request(HANDLE.GETATTR, ref(id, "add"))), "KeyError");
});

Deno.test("serveRpyc: prototype and private names are AttributeError, on the root and on functions", async () => {
  await using server = serve();
  await using c = await raw(server);
  const id = await rootOf(c);
  for (
    const name of [
      "__proto__",
      "constructor",
      "toString",
      "prototype",
      "valueOf",
      "_x",
      "",
      "hasOwnProperty",
    ]
  ) {
    assert.equal(
      exceptionName(await c.request(HANDLE.GETATTR, ref(id, name))),
      "AttributeError",
      name,
    );
    assert.equal(
      exceptionName(await c.request(HANDLE.CALLATTR, ref(id, name, [], []))),
      "AttributeError",
      name,
    );
  }
  assert.equal(exceptionName(await c.request(HANDLE.GETATTR, ref(id, 42))), "AttributeError");
  const add = await c.request(HANDLE.GETATTR, ref(id, "add"));
  const [, fn] = add.payload as [number, IdPack];
  assert.equal(fn[0], "builtins.function");
  for (const name of ["call", "apply", "bind", "name", "length", "caller", "arguments"]) {
    assert.equal(
      exceptionName(await c.request(HANDLE.GETATTR, ref(fn, name))),
      "AttributeError",
      name,
    );
  }
  assert.equal(exceptionName(await c.request(HANDLE.SETATTR, ref(id, "add", 1))), "AttributeError");
});

Deno.test("serveRpyc: a flood of requests is bounded by maxInFlight; each gets an answer", async () => {
  gate = Promise.withResolvers();
  await using server = serve({ maxInFlight: 16 });
  await using c = await raw(server);
  const id = await rootOf(c);
  const n = 500;
  for (let seq = 1; seq <= n; seq++) await c.send(HANDLE.CALLATTR, ref(id, "slow", [], []), seq);
  let refused = 0;
  for (let i = 0; i < n - 16; i++) {
    const reply = decodeMessage((await c.channel.recv())!);
    assert.equal(exceptionName(reply), "ValueError");
    refused++;
  }
  gate.resolve();
  const done = new Set<number>();
  for (let i = 0; i < 16; i++) {
    const reply = decodeMessage((await c.channel.recv())!);
    assert.deepEqual(reply.payload, [LABEL.VALUE, "done"]);
    done.add(reply.seq);
  }
  assert.equal(refused, n - 16);
  assert.deepEqual([...done].sort((a, b) => a - b), Array.from({ length: 16 }, (_, i) => i + 1));
});

testNeeding("py:rpyc")(
  "serveRpyc: one connection sends garbage while Python's client is served",
  async () => {
    await using server = serve();
    await using bad = await raw(server);
    const port = (server.addr as Deno.NetAddr).port;
    const python = new Deno.Command(DEBIAN_PYTHON, {
      args: [
        "-c",
        `import rpyc\nc = rpyc.connect("127.0.0.1", ${port})\nprint(sum(c.root.add(i, 1) for i in range(200)))`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    for (let i = 0; i < 50; i++) {
      await bad.channel.send(
        encodeMessage({ kind: MSG.REQUEST, seq: i, payload: [HANDLE.GETATTR, [9, i]] }),
      );
      assert.equal(decodeMessage((await bad.channel.recv())!).kind, MSG.EXCEPTION);
    }
    await bad.conn.write(new Uint8Array([0, 0, 0, 3, 0, 0xff, 0xff, 0xff, 0x0a]));
    assert.equal(await bad.channel.recv(), null);
    const result = await python;
    assert.ok(result.success, new TextDecoder().decode(result.stderr));
    assert.equal(new TextDecoder().decode(result.stdout).trim(), String(20100));
  },
);
