/**
 * The HTTP client over a Unix domain socket: `http+unix://` URLs in both
 * forms and the `unixSocket` option, against a real server listening on a
 * socket (Deno.serve answering with parley's responder). supervisord, the
 * program this is for, is tested in tests/interop/supervisord_test.ts.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { xmlRpc } from "../codecs/xml_rpc.ts";
import { ConnectionClosedError, RpcError, TimeoutError, withSystemMethods } from "../mod.ts";
import { createResponder } from "../rpc/plumbing.ts";
import { connectHttp } from "../rpc/transports/http.ts";
import { parseUnixUrl } from "../rpc/transports/http/_unix.ts";

/** What the server saw of each request. */
interface Seen {
  readonly path: string;
  readonly host: string | null;
}

/** An XML-RPC server on `/RPC2` and a JSON-RPC one on `/rpc`, on a socket in a temp dir. */
async function unixServer() {
  const dir = await Deno.makeTempDir({ prefix: "parley-http-unix-" });
  const socket = `${dir}/rpc.sock`;
  const seen: Seen[] = [];
  const service = withSystemMethods({ add: (a: number, b: number) => a + b });
  const responders: Record<string, ReturnType<typeof createResponder>> = {
    "/RPC2": createResponder({ codec: xmlRpc(), service }),
    "/rpc": createResponder({ codec: jsonRpc(), service }),
  };
  const server = Deno.serve({ path: socket, onListen: () => {} }, async (request) => {
    const url = new URL(request.url);
    seen.push({ path: url.pathname + url.search, host: request.headers.get("host") });
    const respond = responders[url.pathname];
    if (respond === undefined) return new Response("Not Found\n", { status: 404 });
    const reply = await respond(await request.text());
    return reply === undefined
      ? new Response(null, { status: 204 })
      : new Response(reply as string);
  });
  return {
    socket,
    seen,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("parseUnixUrl reads both http+unix:// forms and leaves other URLs alone", () => {
  const cases: [string, { socket: string; url: string }][] = [
    ["http+unix://%2Fvar%2Frun%2Fsupervisor.sock/RPC2", {
      socket: "/var/run/supervisor.sock",
      url: "http://localhost/RPC2",
    }],
    ["http+unix:///var/run/supervisor.sock:/RPC2", {
      socket: "/var/run/supervisor.sock",
      url: "http://localhost/RPC2",
    }],
    ["HTTP+UNIX://%2Ftmp%2Fa%20b.sock", { socket: "/tmp/a b.sock", url: "http://localhost/" }],
    ["http+unix:///tmp/s.sock", { socket: "/tmp/s.sock", url: "http://localhost/" }],
    ["http+unix://%2Ftmp%2Fs.sock?x=1#top", {
      socket: "/tmp/s.sock",
      url: "http://localhost/?x=1",
    }],
    ["http+unix:///tmp/a:b/s.sock:/api/rpc?x=1", {
      socket: "/tmp/a:b/s.sock",
      url: "http://localhost/api/rpc?x=1",
    }],
    ["http+unix://run%2Fapp.sock/rpc", { socket: "run/app.sock", url: "http://localhost/rpc" }],
  ];
  for (const [text, expected] of cases) assert.deepEqual(parseUnixUrl(text), expected, text);
  for (const other of ["http://127.0.0.1:80/RPC2", "unix:/tmp/s.sock", "https://x/"]) {
    assert.equal(parseUnixUrl(other), undefined);
  }
  for (const bad of ["http+unix://", "http+unix://?x=1", "http+unix://%E0%A4%A/x"]) {
    assert.throws(() => parseUnixUrl(bad), TypeError, bad);
  }
});

Deno.test("connectHttp calls over a Unix socket with either URL form and with unixSocket", async () => {
  await using server = await unixServer();
  const encoded = `http+unix://${encodeURIComponent(server.socket)}/RPC2`;
  for (
    const [url, options] of [
      [encoded, {}],
      [`http+unix://${server.socket}:/RPC2`, {}],
      ["http://localhost/RPC2", { unixSocket: server.socket }],
    ] as const
  ) {
    await using client = connectHttp(url, { codec: xmlRpc(), timeout: 10_000, ...options });
    assert.equal(client.remote, url);
    assert.equal(await client.call("add", [40, 2]), 42);
    const methods = await client.call<string[]>("system.listMethods");
    assert.ok(methods.includes("add") && methods.includes("system.multicall"), url);
  }
  assert.deepEqual(server.seen.map((s) => s.path), Array(6).fill("/RPC2"));
  assert.ok(server.seen.every((s) => s.host === "localhost"));
  // Another codec and path on the same socket; concurrent calls each get their reply.
  await using json = connectHttp(`http+unix://${server.socket}:/rpc`, { codec: jsonRpc() });
  const sums = await Promise.all([1, 2, 3].map((n) => json.call("add", [n, n])));
  assert.deepEqual(sums, [2, 4, 6]);
  // Faults come back as errors, and the client goes on.
  await using xml = connectHttp(encoded, { codec: xmlRpc() });
  await assert.rejects(
    xml.call("nope", []),
    (e: unknown) => e instanceof RpcError && e.code === -32601,
  );
  assert.equal(await xml.call("add", [1, 1]), 2);
});

Deno.test("connectHttp over a Unix socket that is not there fails the call, naming the socket", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-http-unix-" });
  try {
    await using client = connectHttp(`http+unix://${dir}/none.sock:/RPC2`, { codec: xmlRpc() });
    await assert.rejects(
      client.call("add", [1, 2]),
      (e: unknown) =>
        e instanceof ConnectionClosedError &&
        e.message.includes(`cannot reach the Unix socket ${dir}/none.sock: `) &&
        e.cause instanceof TypeError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("connectHttp refuses a Unix socket with its own fetch, with https, or without a socket", () => {
  const codec = xmlRpc();
  assert.throws(
    () => connectHttp("http+unix:///tmp/s.sock:/RPC2", { codec, fetch: globalThis.fetch }),
    /cannot be combined/,
  );
  assert.throws(
    () => connectHttp("https://localhost/RPC2", { codec, unixSocket: "/tmp/s.sock" }),
    /http:\/\/ or http\+unix:\/\//,
  );
  assert.throws(() => connectHttp("http+unix://", { codec }), /names no socket/);
});

/** Reads one request head and body from a raw connection. */
async function readRequest(conn: Deno.Conn): Promise<{ head: string; body: string }> {
  const decoder = new TextDecoder();
  let text = "";
  const buffer = new Uint8Array(65536);
  while (true) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += decoder.decode(buffer.subarray(0, n), { stream: true });
    const end = text.indexOf("\r\n\r\n");
    if (end < 0) continue;
    const length = Number(/content-length: *(\d+)/i.exec(text)?.[1] ?? 0);
    if (text.length >= end + 4 + length) {
      return { head: text.slice(0, end), body: text.slice(end + 4, end + 4 + length) };
    }
  }
  throw new Error(`the connection ended in the request: ${JSON.stringify(text)}`);
}

Deno.test("connectHttp over a Unix socket sends an origin-form request and reads a gzipped reply", async () => {
  // A raw server: it sees the request line as written, as supervisord's does
  // (which answers 400 to the absolute form a proxy gets).
  const dir = await Deno.makeTempDir({ prefix: "parley-http-unix-" });
  const socket = `${dir}/raw.sock`;
  const listener = Deno.listen({ transport: "unix", path: socket });
  const reply = xmlRpc().encode({ kind: "result", id: 1, result: "x".repeat(5000) }) as string;
  const served = (async () => {
    const conn = await listener.accept();
    try {
      const request = await readRequest(conn);
      const gzipped = new Uint8Array(
        await new Response(
          new Blob([reply]).stream().pipeThrough(new CompressionStream("gzip")),
        ).arrayBuffer(),
      );
      const head = "HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-encoding: gzip\r\n" +
        `content-length: ${gzipped.length}\r\nconnection: close\r\n\r\n`;
      await conn.write(new TextEncoder().encode(head));
      await conn.write(gzipped);
      return request;
    } finally {
      conn.close();
    }
  })();
  try {
    await using client = connectHttp(`http+unix://${socket}:/RPC2?key=1`, { codec: xmlRpc() });
    assert.equal(await client.call("echo", ["hi"]), "x".repeat(5000));
    const { head, body } = await served;
    const [line, ...headers] = head.split("\r\n");
    assert.equal(line, "POST /RPC2?key=1 HTTP/1.1");
    assert.ok(headers.some((h) => /^host: localhost$/i.test(h)), head);
    assert.ok(headers.some((h) => /^content-type: text\/xml$/i.test(h)), head);
    assert.ok(!headers.some((h) => /^accept-encoding:/i.test(h)), head);
    assert.match(body, /<methodName>echo<\/methodName>/);
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("connectHttp over a Unix socket: a call's timeout aborts its request", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-http-unix-" });
  const socket = `${dir}/silent.sock`;
  const listener = Deno.listen({ transport: "unix", path: socket });
  // Reads the request and never answers; the connection ends when the client aborts.
  const held = (async () => {
    const conn = await listener.accept();
    try {
      await readRequest(conn);
      const buffer = new Uint8Array(1024);
      while (await conn.read(buffer) !== null) { /* until the client hangs up */ }
    } catch {
      // Reset by the client: what an abort does.
    } finally {
      conn.close();
    }
  })();
  try {
    await using client = connectHttp(`http+unix://${socket}:/RPC2`, { codec: xmlRpc() });
    await assert.rejects(
      client.call("add", [1, 2], { timeout: 100 }),
      (e: unknown) => e instanceof TimeoutError,
    );
    await held;
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});
