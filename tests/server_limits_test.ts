/**
 * What a socket server does with connections that take too long or are too
 * many: the first-frame timeout (slowloris, a TLS handshake never made), the
 * idle timeout (and a slow call that keeps its connection), maxConnections
 * (closed at once, reported once), and serveHttp's maxWebSockets. Small
 * values, real sockets; every wait is bounded.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { ConnectionClosedError, LimitError, withContext } from "../mod.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { connectWebSocket, serveHttp } from "../rpc/transports/http.ts";
import { connectTcp, type ListenAddress, serveTcp } from "../rpc/transports/tcp.ts";
import { makeCertificates } from "./_certificates.ts";

const service = {
  add: (a: number, b: number) => a + b,
  sleep: withContext((ctx, ms: number) =>
    new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve("slept"), ms);
      ctx.signal.addEventListener("abort", () => clearTimeout(timer));
    })
  ),
};
const options = { codec: jsonRpc(), framing: newline() };
const BOUND = 10_000;

// Resolves with what `promise` gave, or fails when it takes longer than BOUND.
async function bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${BOUND} ms`)), BOUND);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// Reads until the other end closes; what came before.
async function readToEnd(conn: Deno.Conn): Promise<string> {
  const buffer = new Uint8Array(4096);
  let text = "";
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buffer);
    } catch {
      n = null; // Reset: closed as well.
    }
    if (n === null) return text;
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
}

function errorsOf(): { errors: unknown[]; onError: (error: unknown) => void } {
  const errors: unknown[] = [];
  return { errors, onError: (error) => errors.push(error) };
}

const limitErrors = (errors: unknown[], name: string) =>
  errors.filter((e) => e instanceof LimitError && e.limitName === name) as LimitError[];

const rawConnect = (address: ListenAddress & { port?: number }) =>
  address.transport === "unix"
    ? Deno.connect({ transport: "unix", path: address.path })
    : Deno.connect({ hostname: "127.0.0.1", port: address.port! });

// Where to listen, and a place that goes away with the test.
const places: [string, () => Promise<ListenAddress & AsyncDisposable>][] = [
  ["TCP", () => Promise.resolve({ port: 0, [Symbol.asyncDispose]: () => Promise.resolve() })],
  ["a Unix socket", async () => {
    const dir = await Deno.makeTempDir({ prefix: "parley-limits-" });
    return {
      transport: "unix",
      path: `${dir}/rpc.sock`,
      [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
    };
  }],
];

for (const [name, place] of places) {
  Deno.test(`${name}: a connection that sends one byte and stops is closed after firstFrameTimeout`, async () => {
    const { errors, onError } = errorsOf();
    await using listen = await place();
    await using server = serveTcp(listen, {
      ...options,
      service,
      onError,
      firstFrameTimeout: 200,
      idleTimeout: Infinity,
    });
    const address = server.address as ListenAddress & { port?: number };
    const slow = await rawConnect(address);
    await slow.write(new TextEncoder().encode("{"));
    // A client whose first frame came in time is not touched by it.
    await using client = await connectTcp(server.address, options);
    assert.equal(await client.call("add", [1, 2]), 3);
    assert.equal(await bounded(readToEnd(slow), "the slow connection closed"), "");
    slow.close();
    const [timeout] = limitErrors(errors, "firstFrameTimeout");
    assert.ok(timeout !== undefined, String(errors));
    assert.equal(timeout.limit, 200);
    assert.match(timeout.message, /sent no complete frame within 200 ms of connecting/);
    assert.equal(await client.call("add", [2, 3]), 5);
  });
}

Deno.test("an idle connection is closed after idleTimeout, without troubling onError", async () => {
  const { errors, onError } = errorsOf();
  await using server = serveTcp({ port: 0 }, { ...options, service, onError, idleTimeout: 200 });
  const client = await connectTcp(server.address, options);
  assert.equal(await client.call("add", [1, 2]), 3);
  await bounded(client.closed, "the idle connection closed");
  await assert.rejects(client.call("add", [1, 2]), ConnectionClosedError);
  assert.deepEqual(errors, []);
  assert.equal(server.peers.size, 0);
});

Deno.test("without a first-frame timeout, a connection that sends nothing is idle", async () => {
  await using server = serveTcp({ port: 0 }, {
    ...options,
    service,
    firstFrameTimeout: Infinity,
    idleTimeout: 200,
  });
  const silent = await Deno.connect({ hostname: "127.0.0.1", port: server.address.port });
  assert.equal(await bounded(readToEnd(silent), "the silent connection closed"), "");
  silent.close();
});

Deno.test("a connection with a slow call in flight is not idle; it is once the call is done", async () => {
  await using server = serveTcp({ port: 0 }, { ...options, service, idleTimeout: 100 });
  const client = await connectTcp(server.address, options);
  // Ten idle timeouts without a byte either way, while the call runs.
  assert.equal(await client.call("sleep", [1_000]), "slept");
  assert.equal(await client.call("add", [1, 2]), 3);
  await bounded(client.closed, "the connection closed once idle");
});

Deno.test("a connection that keeps calling outlives many idle timeouts", async () => {
  await using server = serveTcp({ port: 0 }, { ...options, service, idleTimeout: 1_000 });
  await using client = await connectTcp(server.address, options);
  // 3 s of calls 100 ms apart: three timeouts long, never a second quiet.
  for (let i = 0; i < 30; i++) {
    assert.equal(await client.call("add", [i, 1]), i + 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(client.isClosed, false);
});

Deno.test("TLS: a connection that never makes its handshake is given up after firstFrameTimeout", async () => {
  await using certificates = await makeCertificates();
  const { errors, onError } = errorsOf();
  await using server = serveTcp({
    transport: "tls",
    port: 0,
    cert: certificates.cert,
    key: certificates.key,
  }, { ...options, service, onError, firstFrameTimeout: 200 });
  const silent = await Deno.connect({ hostname: "127.0.0.1", port: server.address.port });
  try {
    await using client = await connectTcp(
      { ...server.address, caCerts: [certificates.ca] },
      options,
    );
    assert.equal(await client.call("add", [1, 2]), 3);
    await bounded(
      (async () => {
        while (errors.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      })(),
      "the timeout told to onError",
    );
    // Told as the timeout, not as a failed handshake as well. (Deno keeps
    // the socket itself until the client sends or leaves: see tcp.ts.)
    const [timeout] = limitErrors(errors, "firstFrameTimeout");
    assert.match(timeout?.message ?? String(errors), /no complete frame within 200 ms/);
    assert.equal(errors.length, 1, String(errors));
    assert.equal(await client.call("add", [2, 3]), 5);
  } finally {
    silent.close();
  }
});

Deno.test("over maxConnections a new connection is closed at once, told to onError once", async () => {
  const { errors, onError } = errorsOf();
  await using server = serveTcp({ port: 0 }, { ...options, service, onError, maxConnections: 2 });
  const first = await connectTcp(server.address, options);
  await using second = await connectTcp(server.address, options);
  assert.equal(await first.call("add", [1, 2]), 3);
  assert.equal(await second.call("add", [1, 2]), 3);
  for (let i = 0; i < 3; i++) {
    await using refused = await connectTcp(server.address, options);
    await assert.rejects(refused.call("add", [1, 2]), ConnectionClosedError);
  }
  const reports = limitErrors(errors, "maxConnections");
  assert.equal(reports.length, 1, String(errors));
  assert.match(reports[0]!.message, /closes new connections at once while it holds 2/);
  // A place that frees up is taken again.
  await first.close();
  await bounded(
    (async () => {
      while (server.peers.size > 1) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
    "the server let go of the closed connection",
  );
  await using third = await connectTcp(server.address, options);
  assert.equal(await third.call("add", [2, 3]), 5);
});

Deno.test("timeouts and maxConnections that are not positive are refused before listening", () => {
  for (
    const bad of [{ maxConnections: 0 }, { maxConnections: 1.5 }, { idleTimeout: -1 }, {
      firstFrameTimeout: 0,
    }]
  ) {
    assert.throws(() => serveTcp({ port: 0 }, { ...options, service, ...bad }), RangeError);
  }
});

Deno.test("serveHttp: a WebSocket beyond maxWebSockets is answered 503, told to onError once", async () => {
  const { errors, onError } = errorsOf();
  await using server = serveHttp({
    routes: { "/rpc": { codec: jsonRpc(), service, websocket: true } },
    maxWebSockets: 1,
    onError,
  });
  const url = `${server.url.replace(/^http/, "ws")}/rpc`;
  await using held = await connectWebSocket(url, { codec: jsonRpc() });
  assert.equal(await held.call("add", [1, 2]), 3);
  for (let i = 0; i < 2; i++) {
    await assert.rejects(connectWebSocket(url, { codec: jsonRpc() }), ConnectionClosedError);
  }
  const response = await fetch(`${server.url}/rpc`, {
    headers: {
      connection: "upgrade",
      upgrade: "websocket",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
    },
  });
  assert.equal(response.status, 503);
  assert.match(await response.text(), /holds 1: exceeds maxWebSockets of 1/);
  assert.equal(limitErrors(errors, "maxWebSockets").length, 1, String(errors));
});

// The connection clocks of the process share one timer (rpc/transports/_deadlines.ts): servers
// with different timeouts each close their own idle connections and no others, and stopping the
// last clock leaves no timer behind (the test sanitizers check it).

Deno.test("two servers' idle timeouts, one timer: the short one closes its connections only", async () => {
  await using quick = serveTcp({ port: 0 }, { ...options, service, idleTimeout: 150 });
  await using slow = serveTcp({ port: 0 }, { ...options, service, idleTimeout: 60_000 });
  // The long clock first: the short one must still be heard of in time.
  await using kept = await connectTcp(slow.address, options);
  assert.equal(await kept.call("add", [1, 1]), 2);
  const idle = await Promise.all(
    Array.from({ length: 20 }, () => connectTcp(quick.address, options)),
  );
  for (const [i, client] of idle.entries()) assert.equal(await client.call("add", [i, 1]), i + 1);
  await bounded(Promise.all(idle.map((client) => client.closed)), "every idle connection closed");
  assert.equal(quick.peers.size, 0);
  assert.equal(kept.isClosed, false);
  assert.equal(await kept.call("add", [2, 3]), 5);
});

Deno.test("a connection that makes no first frame is closed; one opened with it that did is kept", async () => {
  await using server = serveTcp({ port: 0 }, {
    ...options,
    service,
    firstFrameTimeout: 150,
    idleTimeout: 60_000,
  });
  const silent = await Deno.connect({ hostname: "127.0.0.1", port: server.address.port });
  await using client = await connectTcp(server.address, options);
  assert.equal(await client.call("add", [1, 2]), 3);
  const buffer = new Uint8Array(64);
  assert.equal(await bounded(silent.read(buffer).catch(() => null), "the silent one closed"), null);
  silent.close();
  assert.equal(await client.call("add", [2, 3]), 5);
  assert.equal(server.peers.size, 1);
});

Deno.test("connections closed before their timeouts leave no timer running", async () => {
  const server = serveTcp({ port: 0 }, { ...options, service, idleTimeout: 60_000 });
  const clients = await Promise.all(
    Array.from({ length: 10 }, () => connectTcp(server.address, options)),
  );
  for (const client of clients) assert.equal(await client.call("add", [1, 2]), 3);
  // Closed in an order unlike the one they were opened in.
  for (const client of clients.reverse()) await client.close();
  await server.shutdown();
});
