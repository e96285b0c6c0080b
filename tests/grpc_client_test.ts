/**
 * parley's gRPC client (rpc/transports/grpc/client.ts) against parley's own
 * gRPC server, and against a real gRPC server: Debian's python3-grpcio
 * (tests/interop/python/grpc_calculator_server.py, generic handlers). Add,
 * errors with status, message and details, deadlines, cancellation,
 * metadata both ways, gzip both ways, close, one connection for many calls
 * and reconnecting after it died.
 *
 * The grpcio tests need `/usr/bin/python3` with python3-grpcio and
 * python3-protobuf, and `protoc` on the PATH.
 */

import assert from "node:assert/strict";
import { calculatorSchema, protobufCalculator } from "../examples/calculator/protobuf.ts";
import { protoClient } from "../codecs/protobuf.ts";
import { ConnectError } from "../protocols/connect.ts";
import { combineServices } from "../rpc/dispatch.ts";
import { ConnectionClosedError, TimeoutError } from "../rpc/errors.ts";
import {
  connectGrpc,
  type GrpcCallOptions,
  type GrpcResponseMetadata,
  serveGrpc,
} from "../rpc/transports/grpc.ts";
import { assertDivisionByZero, startGrpcCalculator } from "./_grpc_calculator.ts";
import { makeCertificates } from "./_certificates.ts";
import { rejection } from "./_rejection.ts";
import { DEBIAN_PYTHON, spawnListening } from "./interop/_process.ts";
import { testNeeding } from "./_needs.ts";

const schema = calculatorSchema();
const withGrpcio = testNeeding("py:grpc", "py:google.protobuf", "protoc");
const PY_SERVER = new URL("./interop/python/grpc_calculator_server.py", import.meta.url).pathname;

const startServer = startGrpcCalculator;

type Calculator = {
  Add(request: { num1: number; num2: number }): { sum: number };
  Calculate(request: { logid: number; w: { num1: number; num2: number; op: number } }): {
    value: number;
  };
};

Deno.test("parley ↔ parley: Add through protoClient, 50 calls in flight", async () => {
  await using server = await startServer().server;
  await using client = connectGrpc(server.url, { schema });
  const calculator = protoClient<Calculator>(client, schema, "interop.Calculator");
  assert.deepEqual(await calculator.Add({ num1: 1, num2: 2 }), { sum: 3 });
  const sums = await Promise.all(
    Array.from({ length: 50 }, (_, i) => calculator.Add({ num1: i, num2: 1 })),
  );
  assert.deepEqual(sums.map((r) => r.sum), Array.from({ length: 50 }, (_, i) => i + 1));
  assert.equal(client.pending, 0);
});

Deno.test("parley ↔ parley: an error's status, message and details; an unknown method is 12", async () => {
  await using server = await startServer({
    service: protobufCalculator(schema),
  }).server;
  await using client = connectGrpc(server.url, { schema });
  const error = await rejection(
    client.call("interop.Calculator/Calculate", { logid: 1, w: { num1: 1, num2: 0, op: 4 } }),
    ConnectError,
  );
  assert.equal(error.code, 3);
  assert.equal(error.connectCode, "invalid_argument");
  assert.equal(error.message, "Cannot divide by 0");
  assert.deepEqual(error.data, { whatOp: 4, why: "Cannot divide by 0" });
  // A schema that knows more methods than the server serves.
  await using bare = await serveGrpc({ schema, service: {} });
  await using other = connectGrpc(bare.url, { schema });
  const missing = await rejection(other.call("interop.Calculator/Add", {}), ConnectError);
  assert.equal(missing.connectCode, "unimplemented");
  await assert.rejects(client.call("interop.Calculator/Nope", {}), TypeError);
});

Deno.test("parley ↔ parley: the timeout is grpc-timeout and the local deadline; the handler's signal fires", async () => {
  const { server: starting, pingStarted, pingAborted } = startServer();
  await using server = await starting;
  await using client = connectGrpc(server.url, { schema });
  const error = await client.call("interop.Calculator/Ping", {}, { timeout: 200 }).catch((e) => e);
  assert.equal(await pingStarted, "200m");
  // Whichever deadline is first: the local one, or the server's 4 DEADLINE_EXCEEDED.
  assert.ok(
    error instanceof TimeoutError || (error instanceof ConnectError && error.code === 4),
    String(error),
  );
  // The server's deadline (TimeoutError), or the client's RST_STREAM when its timer was first.
  assert.match((await pingAborted as Error).name, /^(TimeoutError|AbortError)$/);
});

Deno.test("parley ↔ parley: aborting the signal resets the stream; the handler sees AbortError", async () => {
  const { server: starting, pingStarted, pingAborted } = startServer();
  await using server = await starting;
  await using client = connectGrpc(server.url, { schema });
  const controller = new AbortController();
  const call = client.call("interop.Calculator/Ping", {}, { signal: controller.signal });
  await pingStarted;
  controller.abort(new Error("changed my mind"));
  assert.equal((await call.catch((e) => e) as Error).message, "changed my mind");
  assert.equal((await pingAborted as Error).name, "AbortError");
  // The session carries on.
  assert.deepEqual(await client.call("interop.Calculator/Add", { num1: 2, num2: 2 }), { sum: 4 });
});

Deno.test("parley ↔ parley: metadata both ways, on successes and on trailers-only errors", async () => {
  await using server = await startServer().server;
  await using client = connectGrpc(server.url, { schema, headers: { "x-echo": "from options" } });
  let seen: GrpcResponseMetadata | undefined;
  const onMetadata = (metadata: GrpcResponseMetadata) => seen = metadata;
  await client.call("interop.Calculator/Add", { num1: 1, num2: 1 }, {
    headers: { "x-request-tag": "t-1" },
    onMetadata,
  });
  assert.equal(seen?.headers.get("x-request-tag"), "t-1");
  assert.equal(seen?.trailers.get("x-request-tag-end"), "t-1");
  assert.equal(seen?.trailers.get("grpc-status"), "0");
  await client.call("interop.Calculator/Echo", { text: "x" }, { onMetadata });
  assert.equal(seen?.trailers.get("x-echo"), "from options");
  await client.call("interop.Calculator/Echo", { text: "x" }, {
    headers: { "x-echo": "per call" },
    onMetadata,
  });
  assert.equal(seen?.trailers.get("x-echo"), "per call");
  seen = undefined;
  await assert.rejects(
    client.call("interop.Calculator/Calculate", { logid: 1, w: { num1: 1, num2: 0, op: 4 } }, {
      headers: { "x-request-tag": "t-2" },
      onMetadata,
    }),
    ConnectError,
  );
  // A trailers-only reply: both in its one block.
  assert.equal(seen!.headers.get("x-request-tag"), "t-2");
  assert.equal(seen!.trailers.get("x-request-tag-end"), "t-2");
  assert.equal(seen!.trailers.get("grpc-status"), "3");
});

Deno.test("parley ↔ parley: gzip both ways; a gzip bomb is 8 RESOURCE_EXHAUSTED", async () => {
  await using server = await startServer({
    compressThreshold: 0,
    limits: { maxFrameSize: 64 * 1024 },
  }).server;
  await using client = connectGrpc(server.url, { schema, compression: "gzip" });
  let seen: GrpcResponseMetadata | undefined;
  const data = new TextEncoder().encode("compressible ".repeat(1000));
  const reply = await client.call<{ data: Uint8Array }>("interop.Calculator/EchoBinary", { data }, {
    onMetadata: (metadata) => seen = metadata,
  });
  assert.deepEqual(reply.data, data);
  assert.equal(seen?.headers.get("grpc-encoding"), "gzip");
  // 1 MiB of zeros gzips to ~1 KiB, under the 64 KiB limit as sent, not as inflated.
  const bomb = await rejection(
    client.call("interop.Calculator/EchoBinary", { data: new Uint8Array(1 << 20) }),
    ConnectError,
  );
  assert.equal(bomb.connectCode, "resource_exhausted");
  assert.match(bomb.message, /inflates past the limit of 65536 bytes/);
  assert.deepEqual(await client.call("interop.Calculator/Add", { num1: 1, num2: 2 }), { sum: 3 });
});

Deno.test("parley ↔ parley: the client refuses a reply larger than maxMessageSize", async () => {
  await using server = await startServer().server;
  await using client = connectGrpc(server.url, { schema, maxMessageSize: 1000 });
  const error = await rejection(
    client.call("interop.Calculator/EchoBinary", { data: new Uint8Array(2000) }),
    ConnectError,
  );
  assert.equal(error.connectCode, "resource_exhausted");
});

Deno.test("close(): waiting calls fail with ConnectionClosedError, later calls too; the handler is cancelled", async () => {
  const { server: starting, pingStarted, pingAborted } = startServer();
  await using server = await starting;
  const client = connectGrpc(server.url, { schema });
  const failed = rejection(client.call("interop.Calculator/Ping", {}), ConnectionClosedError);
  await pingStarted;
  assert.equal(client.pending, 1);
  await client.close("done");
  const error = await failed;
  assert.equal(error.cause, "done");
  assert.equal((await pingAborted as Error).name, "AbortError");
  await rejection(client.call("interop.Calculator/Add", {}), ConnectionClosedError);
  await client.closed;
});

Deno.test("a session that died is replaced on the next call; no server is a ConnectionClosedError", async () => {
  const first = await startServer().server;
  const port = first.addr.port;
  await using client = connectGrpc(first.url, { schema });
  assert.deepEqual(await client.call("interop.Calculator/Add", { num1: 1, num2: 2 }), { sum: 3 });
  await first.shutdown(); // GOAWAY, then the connection closes
  await rejection(client.call("interop.Calculator/Add", {}), ConnectionClosedError);
  await using second = await startServer({ port }).server;
  assert.equal(second.addr.port, port);
  assert.deepEqual(await client.call("interop.Calculator/Add", { num1: 2, num2: 3 }), { sum: 5 });
});

Deno.test("one connection carries every call; when it drops, the next call opens another", async () => {
  await using server = await startServer().server;
  await using proxy = countingProxy(server.addr.port);
  await using client = connectGrpc(`grpc://127.0.0.1:${proxy.port}`, { schema });
  const sums = await Promise.all(
    Array.from({ length: 20 }, (_, i) => client.call("interop.Calculator/Add", { num1: i })),
  );
  assert.equal(sums.length, 20);
  assert.equal(proxy.accepted, 1);
  proxy.dropAll();
  // A call may still meet the dying connection (ConnectionClosedError); the one after it cannot.
  let sum: unknown;
  for (let attempt = 0; attempt < 2 && sum === undefined; attempt++) {
    sum = await client.call("interop.Calculator/Add", { num1: 5, num2: 5 }).catch((error) => {
      assert.ok(error instanceof ConnectionClosedError, String(error));
      return undefined;
    });
  }
  assert.deepEqual(sum, { sum: 10 });
  assert.equal(proxy.accepted, 2);
});

Deno.test("the server's GOAWAY: the call in flight finishes, a new call is refused, not run", async () => {
  const { promise: release, resolve: go } = Promise.withResolvers<void>();
  const { promise: started, resolve: start } = Promise.withResolvers<void>();
  const service = combineServices({
    "interop.Calculator/Ping": async () => {
      start();
      await release;
      return {};
    },
  }, protobufCalculator(schema));
  const server = await serveGrpc({ schema, service });
  await using client = connectGrpc(server.url, { schema });
  const inFlight = client.call("interop.Calculator/Ping", {});
  await started;
  const stopping = server.shutdown(); // GOAWAY; the listener closes
  // Not run: once the client has the GOAWAY, a new connection is refused (ConnectionClosedError);
  // if the call raced ahead of it, the closing session refuses its stream (14 UNAVAILABLE).
  const refused = await client.call("interop.Calculator/Add", {}).catch((e) => e);
  assert.ok(
    refused instanceof ConnectionClosedError ||
      (refused instanceof ConnectError && refused.code === 14),
    String(refused),
  );
  go();
  assert.deepEqual(await inFlight, {});
  await stopping;
});

Deno.test("grpcs://: TLS with ALPN h2 and caCerts; a URL of another scheme is a TypeError", async () => {
  await using certs = await makeCertificates();
  await using server = await startServer({ cert: certs.cert, key: certs.key }).server;
  await using client = connectGrpc(`grpcs://localhost:${server.addr.port}`, {
    schema,
    caCerts: [certs.ca],
  });
  assert.deepEqual(await client.call("interop.Calculator/Add", { num1: 1, num2: 2 }), { sum: 3 });
  assert.throws(() => connectGrpc("http://localhost:1", { schema }), TypeError);
});

// ---- parley's client → Python grpcio's server ----

const startGrpcio = (...args: string[]) =>
  spawnListening(DEBIAN_PYTHON, {
    args: [PY_SERVER, ...args],
    env: { PATH: Deno.env.get("PATH")! },
  });

withGrpcio("parley → grpcio: Add, and x-request-tag echoed as header and trailer", async () => {
  await using server = await startGrpcio();
  await using client = connectGrpc(server.url, { schema });
  const calculator = protoClient<Calculator>(client, schema, "interop.Calculator");
  assert.deepEqual(await calculator.Add({ num1: 1, num2: 2 }), { sum: 3 });
  let seen: GrpcResponseMetadata | undefined;
  // protoClient passes the options on: gRPC's own options go through it.
  const options: GrpcCallOptions = {
    headers: { "x-request-tag": "py-1" },
    onMetadata: (metadata) => seen = metadata,
  };
  await calculator.Add({ num1: 1, num2: 2 }, options);
  assert.equal(seen?.headers.get("x-request-tag"), "py-1");
  assert.equal(seen?.trailers.get("x-request-tag-end"), "py-1");
});

withGrpcio(
  "parley → grpcio: status 3, its message, and an InvalidOperation in the details",
  async () => {
    await using server = await startGrpcio();
    await using client = connectGrpc(server.url, { schema });
    const error = await assertDivisionByZero(client);
    assert.deepEqual(error.details, [{
      type: "interop.InvalidOperation",
      value: { whatOp: 4, why: "Cannot divide by 0" },
    }]);
    const missing = await rejection(client.call("interop.Calculator/Echo", {}), ConnectError);
    assert.equal(missing.connectCode, "unimplemented");
  },
);

withGrpcio("parley → grpcio: the deadline reaches the server and ends the call", async () => {
  await using server = await startGrpcio();
  await using client = connectGrpc(server.url, { schema });
  const error = await client.call("interop.Calculator/Ping", {}, { timeout: 300 }).catch((e) => e);
  assert.ok(
    error instanceof TimeoutError || (error instanceof ConnectError && error.code === 4),
    String(error),
  );
  await waitFor(() => server.stdout().includes("ping ended"));
  const remaining = /ping started remaining=([\d.]+)/.exec(server.stdout());
  assert.ok(remaining !== null, server.stdout()); // grpcio knew the deadline
  assert.ok(Number(remaining[1]) > 0 && Number(remaining[1]) <= 0.3, remaining[1]);
});

withGrpcio("parley → grpcio: cancelling ends the call on the server", async () => {
  await using server = await startGrpcio();
  await using client = connectGrpc(server.url, { schema });
  const controller = new AbortController();
  const call = client.call("interop.Calculator/Ping", {}, { signal: controller.signal });
  await waitFor(() => server.stdout().includes("ping started"));
  controller.abort(new Error("stop"));
  assert.equal((await call.catch((e) => e) as Error).message, "stop");
  await waitFor(() => server.stdout().includes("ping ended"));
  // No deadline was sent: grpcio's time_remaining is its "infinite" (~9.2e18 s).
  const remaining = /ping started remaining=(\S+)/.exec(server.stdout());
  assert.ok(remaining !== null && Number(remaining[1]) > 1e9, server.stdout());
});

withGrpcio(
  "parley → grpcio: gzip both ways (requests compressed, grpcio's replies compressed)",
  async () => {
    await using server = await startGrpcio("--gzip");
    await using client = connectGrpc(server.url, { schema, compression: "gzip" });
    const data = new TextEncoder().encode("compressible ".repeat(1000));
    let seen: GrpcResponseMetadata | undefined;
    const reply = await client.call<{ data: Uint8Array }>(
      "interop.Calculator/EchoBinary",
      { data },
      {
        onMetadata: (metadata) => seen = metadata,
      },
    );
    assert.deepEqual(reply.data, data);
    assert.equal(seen?.headers.get("grpc-encoding"), "gzip");
  },
);

withGrpcio("parley → grpcio over TLS (grpcs://, caCerts)", async () => {
  await using certs = await makeCertificates();
  await using server = await startGrpcio(
    "--cert",
    `${certs.dir}/server.pem`,
    "--key",
    `${certs.dir}/server-key.pem`,
  );
  await using client = connectGrpc(`grpcs://localhost:${server.port}`, {
    schema,
    caCerts: [certs.ca],
  });
  assert.deepEqual(await client.call("interop.Calculator/Add", { num1: 2, num2: 2 }), { sum: 4 });
});

// A TCP relay to `port` that counts the connections it accepts and can drop them all.
function countingProxy(port: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const pipes: Promise<unknown>[] = [];
  let accepted = 0;
  const dropAll = () => {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    conns.clear();
  };
  const accepting = (async () => {
    for await (const conn of listener) {
      accepted++;
      const upstream = await Deno.connect({ hostname: "127.0.0.1", port });
      conns.add(conn).add(upstream);
      pipes.push(
        conn.readable.pipeTo(upstream.writable).catch(() => {}),
        upstream.readable.pipeTo(conn.writable).catch(() => {}),
      );
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    get accepted() {
      return accepted;
    },
    dropAll,
    async [Symbol.asyncDispose]() {
      listener.close();
      dropAll();
      await accepting;
      await Promise.all(pipes);
    },
  };
}

// Polls a child's output: bounded, 10 s at most.
async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(condition(), "timed out waiting for the server's output");
}
