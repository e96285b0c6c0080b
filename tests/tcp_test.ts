import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { xmlRpc } from "../codecs/xml_rpc.ts";
import {
  type CallContext,
  ConnectionClosedError,
  type Framing,
  type Peer,
  RpcError,
  withContext,
} from "../mod.ts";
import { contentLength } from "../rpc/framing/content_length.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
import { jsonValues } from "../rpc/framing/self_delimiting.ts";
import { varint } from "../rpc/framing/varint.ts";
import { connectTcp, perConnection, serveTcp, type SocketServer } from "../rpc/transports/tcp.ts";
import { framedStream } from "../rpc/framed.ts";

const service = {
  add: (a: number, b: number) => a + b,
  echo: (value: unknown) => value,
};

function portOf(server: SocketServer): number {
  return (server.addr as Deno.NetAddr).port;
}

// Reads from a raw socket until `predicate` holds for the text so far, or EOF.
async function readUntil(conn: Deno.Conn, predicate: (text: string) => boolean): Promise<string> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(65536);
  let text = "";
  while (!predicate(text)) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += decoder.decode(buffer.subarray(0, n), { stream: true });
  }
  return text;
}

const framings: [string, () => Framing][] = [
  ["newline", () => newline()],
  ["length-prefix", () => lengthPrefix()],
  ["varint", () => varint()],
  ["content-length", () => contentLength()],
  ["json-values", () => jsonValues()],
];

for (const [name, framing] of framings) {
  Deno.test(`JSON-RPC over TCP with ${name} framing: 200 pipelined calls and a batch`, async () => {
    await using server = serveTcp({ port: 0 }, { codec: jsonRpc(), framing: framing(), service });
    await using client = await connectTcp({ port: portOf(server) }, {
      codec: jsonRpc(),
      framing: framing(),
    });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => client.call("add", [i, 1])),
    );
    assert.deepEqual(results, Array.from({ length: 200 }, (_, i) => i + 1));
    const text = 'line\nbreak {"json"} \r\n\u2713';
    assert.equal(await client.call("echo", [text]), text);
    const batch = await client.batch([{ method: "add", params: [1, 1] }, {
      method: "echo",
      params: ["x"],
    }]);
    assert.deepEqual(batch.map((r) => r.status === "fulfilled" && r.value), [2, "x"]);
  });
}

Deno.test("the TCP server gives each connection its own peer and serves them concurrently", async () => {
  await using server = serveTcp({ port: 0 }, { codec: jsonRpc(), framing: newline(), service });
  const clients = await Promise.all(
    [1, 2, 3].map(() =>
      connectTcp({ port: portOf(server) }, { codec: jsonRpc(), framing: newline() })
    ),
  );
  assert.deepEqual(await Promise.all(clients.map((c, i) => c.call("add", [i, i]))), [0, 2, 4]);
  assert.equal(server.peers.size, 3);
  await Promise.all(clients.map((c) => c.close()));
});

Deno.test("malformed JSON answers -32700 with id null and the connection keeps working", async () => {
  await using server = serveTcp({ port: 0 }, { codec: jsonRpc(), framing: newline(), service });
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: portOf(server) });
  await conn.write(new TextEncoder().encode('{"jsonrpc":"2.0","method":"add",\n'));
  const first = JSON.parse(await readUntil(conn, (t) => t.endsWith("\n")));
  assert.equal(first.id, null);
  assert.equal(first.error.code, -32700);
  await conn.write(
    new TextEncoder().encode('{"jsonrpc":"2.0","method":"add","params":[2,3],"id":7}\n'),
  );
  assert.deepEqual(JSON.parse(await readUntil(conn, (t) => t.endsWith("\n"))), {
    jsonrpc: "2.0",
    id: 7,
    result: 5,
  });
});

Deno.test("an oversized frame closes only that connection, with a clear error", async () => {
  await using server = serveTcp({ port: 0 }, {
    codec: jsonRpc(),
    framing: lengthPrefix({ maxFrameSize: 1024 }),
    service,
  });
  await using bystander = await connectTcp({ port: portOf(server) }, {
    codec: jsonRpc(),
    framing: lengthPrefix(),
  });
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: portOf(server) });
  // Declares a 1 GiB frame; the server must refuse before reading it.
  await conn.write(new Uint8Array([0x40, 0, 0, 0]));
  const reply = await readUntil(conn, () => false); // until the server closes
  assert.match(reply, /Frame of 1073741824 bytes exceeds the limit of 1024 bytes/);
  assert.equal(await bystander.call("add", [1, 2]), 3);
});

Deno.test("a client gets a ConnectionClosedError whose cause is the server's complaint", async () => {
  await using server = serveTcp({ port: 0 }, {
    codec: jsonRpc(),
    framing: lengthPrefix({ maxFrameSize: 64 }),
    service,
  });
  await using client = await connectTcp({ port: portOf(server) }, {
    codec: jsonRpc(),
    framing: lengthPrefix(),
  });
  await assert.rejects(client.call("echo", ["x".repeat(100)]), (error: unknown) => {
    assert.ok(error instanceof ConnectionClosedError);
    assert.ok(error.cause instanceof RpcError, String(error.cause));
    assert.match(error.cause.message, /exceeds the limit of 64 bytes/);
    return true;
  });
});

Deno.test("a client that vanishes in the middle of a frame leaves the server serving everyone else", async () => {
  const errors: unknown[] = [];
  await using server = serveTcp({ port: 0 }, {
    codec: jsonRpc(),
    framing: lengthPrefix(),
    service,
    onError: (e) => errors.push(e),
  });
  await using bystander = await connectTcp({ port: portOf(server) }, {
    codec: jsonRpc(),
    framing: lengthPrefix(),
  });
  for (let i = 0; i < 5; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: portOf(server) });
    await conn.write(new Uint8Array([0, 0, 0, 100, ...new TextEncoder().encode('{"jsonrpc":')]));
    conn.close();
  }
  assert.equal(await bystander.call("add", [20, 22]), 42);
  while (server.peers.size > 1) await new Promise((r) => setTimeout(r, 5));
  assert.equal(server.peers.size, 1, "the vanished connections were released");
  assert.ok(
    errors.some((e) => e instanceof Error && e.name === "DecodeError"),
    "the truncation was reported",
  );
});

Deno.test("shutdown() stops accepting, finishes calls in flight, then closes", async () => {
  const started = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const server = serveTcp({ port: 0 }, {
    codec: jsonRpc(),
    framing: newline(),
    service: {
      slow: async () => {
        started.resolve();
        await release.promise;
        return "finished";
      },
    },
  });
  const port = portOf(server);
  const client = await connectTcp({ port }, { codec: jsonRpc(), framing: newline() });
  const call = client.call("slow");
  await started.promise;
  const stopping = server.shutdown();
  // Refused, or reset when the kernel had queued it before the listener closed.
  const refused = await Deno.connect({ hostname: "127.0.0.1", port }).then(async (conn) => {
    try {
      return await conn.read(new Uint8Array(1)) === null;
    } finally {
      conn.close();
    }
  }).catch(() => true);
  assert.ok(refused, "no new connection is served");
  release.resolve();
  assert.equal(await call, "finished");
  await stopping;
  await client.closed;
});

Deno.test("the server calls the client back over the same TCP connection", async () => {
  await using server = serveTcp({ port: 0 }, {
    codec: jsonRpc(),
    framing: newline(),
    service: perConnection((conn) => ({
      greet: async () => `hello ${await conn.peer().call("name")}`,
    })),
  });
  await using client = await connectTcp({ port: portOf(server) }, {
    codec: jsonRpc(),
    framing: newline(),
    service: { name: () => "client" },
  });
  assert.equal(await client.call("greet"), "hello client");
});

Deno.test("cancellation crosses TCP: the handler's signal fires on abort and on disconnect", async () => {
  const aborted: unknown[] = [];
  const started: PromiseWithResolvers<void>[] = [];
  let next = 0;
  await using server = serveTcp({ port: 0 }, {
    codec: jsonRpc(),
    framing: newline(),
    service: {
      hang: withContext((ctx: CallContext) => {
        started[next++]?.resolve();
        return new Promise((_, reject) =>
          ctx.signal.addEventListener("abort", () => {
            aborted.push(ctx.signal.reason);
            reject(ctx.signal.reason);
          })
        );
      }),
    },
  });
  started.push(Promise.withResolvers(), Promise.withResolvers());
  const client: Peer = await connectTcp({ port: portOf(server) }, {
    codec: jsonRpc(),
    framing: newline(),
  });
  const controller = new AbortController();
  const call = client.call("hang", [], { signal: controller.signal });
  await started[0]!.promise;
  controller.abort(new Error("stop"));
  await assert.rejects(call, /stop/);
  const second = client.call("hang").catch((e) => e);
  await started[1]!.promise;
  await client.close();
  assert.ok((await second) instanceof ConnectionClosedError);
  while (aborted.length < 2) await new Promise((r) => setTimeout(r, 5));
  assert.ok(aborted[0] instanceof RpcError && aborted[0].code === -32800);
  assert.ok(aborted[1] instanceof ConnectionClosedError);
});

Deno.test("JSON-RPC over a Unix socket", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/parley.sock`;
  try {
    await using server = serveTcp({ transport: "unix", path }, {
      codec: jsonRpc(),
      framing: newline(),
      service,
    });
    assert.equal(server.url, `unix:${path}`);
    await using client = await connectTcp({ transport: "unix", path }, {
      codec: jsonRpc(),
      framing: newline(),
    });
    assert.equal(await client.call("add", [40, 2]), 42);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("connectTcp() to a closed port rejects with ConnectionRefused", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await assert.rejects(
    connectTcp({ port }, { codec: jsonRpc(), framing: newline() }),
    Deno.errors.ConnectionRefused,
  );
});

Deno.test("connectTcp() gives up after connectTimeout when the server does not answer", async () => {
  // A listener that never accepts: once its backlog is full, the kernel
  // drops new handshakes, so a connection attempt hangs until we give up.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const filled: Deno.Conn[] = [];
  const stalled: Promise<unknown>[] = [];
  try {
    for (let i = 0; i < 5000; i++) {
      const attempt = Deno.connect({ hostname: "127.0.0.1", port });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const conn = await Promise.race([
        attempt,
        new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), 300)),
      ]);
      clearTimeout(timer);
      if (conn !== undefined) {
        filled.push(conn);
        continue;
      }
      stalled.push(attempt.then((late) => late.close(), () => {}));
      break;
    }
    assert.equal(stalled.length, 1, "the backlog filled up");
    await assert.rejects(
      connectTcp({ port }, { codec: jsonRpc(), framing: newline(), connectTimeout: 100 }),
      (error: unknown) => {
        assert.ok(error instanceof Deno.errors.TimedOut);
        assert.match(error.message, /timed out after 100 ms/);
        return true;
      },
    );
  } finally {
    for (const conn of filled) conn.close();
    listener.close();
    await Promise.all(stalled);
  }
});

Deno.test("framedStream() hands over every frame of one read together, split as decoder() splits", async () => {
  const pipe = new TransformStream<Uint8Array, Uint8Array>();
  const stream = framedStream({
    readable: pipe.readable,
    writable: new WritableStream(),
    close: () => {},
  }, lengthPrefix());
  const writer = pipe.writable.getWriter();
  const frames = [new Uint8Array([1]), new Uint8Array([2, 2]), new Uint8Array([3, 3, 3])];
  const bytes = frames.map((f) => lengthPrefix().frame(f) as Uint8Array);
  writer.write(new Uint8Array([...bytes[0]!, ...bytes[1]!, ...bytes[2]!.subarray(0, 3)]));
  writer.write(bytes[2]!.subarray(3));
  writer.close();
  const chunks = await Array.fromAsync(stream.readable);
  assert.deepEqual(chunks, [[frames[0], frames[1]], frames[2]]);
});

Deno.test("a stateful codec (XML-RPC) gets one instance per connection, so callbacks on two connections do not mix", async () => {
  await using server = serveTcp({ port: 0 }, {
    codec: xmlRpc(),
    framing: lengthPrefix(),
    timeout: 2_000,
    service: perConnection((conn) => ({
      greet: async () => {
        await conn.peer().call("warm"); // so that the two connections' call ids differ
        return `hello ${await conn.peer().call("name")}`;
      },
    })),
  });
  const slow = {
    warm: () => null,
    name: () => new Promise<string>((resolve) => setTimeout(() => resolve("slow"), 50)),
  };
  await using a = await connectTcp(server.address, {
    codec: xmlRpc(),
    framing: lengthPrefix(),
    service: slow,
  });
  await using b = await connectTcp(server.address, {
    codec: xmlRpc(),
    framing: lengthPrefix(),
    service: { warm: () => null, name: () => "fast" },
  });
  const first = a.call("greet");
  await new Promise((resolve) => setTimeout(resolve, 10)); // the server has called a back by now
  assert.equal(await b.call("greet"), "hello fast");
  assert.equal(await first, "hello slow");
});

Deno.test("a client that does not read its replies stops being served; the server's queue stays bounded", async () => {
  let handled = 0;
  await using server = serveTcp({ port: 0 }, {
    codec: jsonRpc(),
    framing: newline(),
    limits: { maxQueuedBytes: 256 * 1024 },
    service: {
      big: () => {
        handled++;
        return "x".repeat(64 * 1024);
      },
    },
  });
  const port = (server.addr as Deno.NetAddr).port;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const requests = new TextEncoder().encode(
    Array.from({ length: 2000 }, (_, i) => `{"jsonrpc":"2.0","method":"big","id":${i}}\n`)
      .join(""),
  );
  // Written in the background: the server stops reading, so this write stalls too.
  const writing = conn.write(requests).catch(() => 0);
  await new Promise((resolve) => setTimeout(resolve, 500));
  // 2000 replies of 64 KiB are 125 MiB: the server answered only what the
  // socket buffers and its queue limit hold, then waited for the reader.
  assert.ok(handled < 2000, `handled ${handled} of 2000 without a reader`);
  // Another client is served meanwhile.
  await using other = await connectTcp({ hostname: "127.0.0.1", port }, {
    codec: jsonRpc(),
    framing: newline(),
  });
  assert.equal((await other.call<string>("big")).length, 64 * 1024);
  conn.close();
  await writing;
});
