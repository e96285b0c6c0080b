/**
 * parley's gRPC server (rpc/transports/grpc.ts) called by a real gRPC client,
 * Debian's python3-grpcio (tests/interop/python/grpc_calculator_client.py),
 * serving the calculator of examples/calculator/ with a Ping that waits for
 * its signal (deadlines and cancellation); and hostile bytes that must not
 * stop it serving others.
 *
 * Needs `/usr/bin/python3` with python3-grpcio and python3-protobuf, and
 * `protoc` on the PATH.
 */

import assert from "node:assert/strict";
import http2 from "node:http2";
import { Buffer } from "node:buffer";
import {
  calculatorSchema,
  ERROR_DETAILS,
  protobufCalculator,
} from "../examples/calculator/protobuf.ts";
import { combineServices } from "../rpc/dispatch.ts";
import { type CallContext, withContext } from "../rpc/service.ts";
import { type GrpcServer, serveGrpc, type ServeGrpcOptions } from "../rpc/transports/grpc.ts";
import { makeCertificates } from "./_certificates.ts";
import { DEBIAN_PYTHON, formatOutput, run } from "./interop/_process.ts";
import { testNeeding } from "./_needs.ts";

const test = testNeeding("py:grpc", "py:google.protobuf", "protoc");
const CLIENT = new URL("./interop/python/grpc_calculator_client.py", import.meta.url).pathname;
const schema = calculatorSchema();

/** The calculator, with a Ping that answers only when its signal fires. */
function startServer(options: Partial<ServeGrpcOptions> = {}) {
  let started!: () => void;
  const pingStarted = new Promise<void>((resolve) => started = resolve);
  let aborted!: (reason: unknown) => void;
  const pingAborted = new Promise<unknown>((resolve) => aborted = resolve);
  const waitingPing = withContext((ctx: CallContext) => {
    started();
    return new Promise((_, reject) => {
      ctx.signal.addEventListener("abort", () => {
        aborted(ctx.signal.reason);
        reject(ctx.signal.reason);
      }, { once: true });
    });
  });
  const service = combineServices(
    { "interop.Calculator/Ping": waitingPing },
    protobufCalculator(schema),
  );
  const server = serveGrpc({
    schema,
    service,
    errorDetails: ERROR_DETAILS,
    errorStatus: () => 3, // InvalidOperation
    ...options,
  });
  return { server, pingStarted, pingAborted };
}

interface Outcome {
  readonly code: number;
  readonly details?: string;
  readonly [key: string]: unknown;
}

async function grpcio(server: GrpcServer, scenario: string, ca?: string): Promise<Outcome> {
  const target = `${ca === undefined ? "127.0.0.1" : "localhost"}:${server.addr.port}`;
  const result = await run(DEBIAN_PYTHON, {
    args: [CLIENT, target, scenario, ...(ca === undefined ? [] : [ca])],
    timeout: 60_000,
  });
  assert.equal(result.code, 0, formatOutput(result));
  return JSON.parse(result.stdout);
}

test("grpcio calls Add: the sum, and many calls on one channel", async () => {
  await using server = await startServer().server;
  assert.match(server.url, /^grpc:\/\/127\.0\.0\.1:\d+$/);
  assert.deepEqual(await grpcio(server, "add"), { code: 0, sum: 3 });
  assert.deepEqual(await grpcio(server, "add-many"), { code: 0, ok: true });
});

test("grpcio over TLS (ALPN h2): Add and an error", async () => {
  await using certs = await makeCertificates();
  await using server = await startServer({ cert: certs.cert, key: certs.key }).server;
  assert.match(server.url, /^grpcs:\/\/127\.0\.0\.1:\d+$/);
  const ca = `${certs.dir}/ca.pem`;
  assert.deepEqual(await grpcio(server, "add", ca), { code: 0, sum: 3 });
  assert.equal((await grpcio(server, "invalid", ca)).code, 3);
});

test("a message split across many DATA frames, its prefix too, arrives whole", async () => {
  await using server = await startServer().server;
  const add = frame(schema.message("interop.AddRequest").encode({ num1: 20, num2: 22 }));
  const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
  const call = session.request({
    ":method": "POST",
    ":path": "/interop.Calculator/Add",
    "content-type": "application/grpc",
  });
  const closed = new Promise((resolve) => call.on("close", resolve));
  const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) =>
    call.on("trailers", resolve)
  );
  const chunks: Buffer[] = [];
  call.on("data", (chunk: Buffer) => chunks.push(chunk));
  for (const byte of add) {
    await new Promise<void>((resolve) => call.write(new Uint8Array([byte]), () => resolve()));
  }
  call.end();
  assert.equal((await trailers)["grpc-status"], "0");
  await closed;
  session.close();
  const reply = Buffer.concat(chunks).subarray(5);
  assert.deepEqual(schema.message("interop.AddReply").decode(reply), { sum: 42 });
});

test("TLS needs both cert and key; a malformed grpc-timeout is 3 INVALID_ARGUMENT", async () => {
  await assert.rejects(serveGrpc({ schema, service: {}, cert: "PEM" }), TypeError);
  await using server = await startServer().server;
  const add = frame(schema.message("interop.AddRequest").encode({ num1: 1, num2: 2 }));
  const outcome = await rawCall(server.addr.port, add, "/interop.Calculator/Add", {
    "grpc-timeout": "soon",
  });
  assert.equal(outcome.status, "3");
  assert.equal(outcome.message, "Malformed grpc-timeout: soon");
});

test("grpcio gets InvalidOperation as status 3, its message, and google.rpc.Status details", async () => {
  await using server = await startServer().server;
  assert.deepEqual(await grpcio(server, "invalid"), {
    code: 3,
    details: "Cannot divide by 0",
    status: {
      code: 3,
      message: "Cannot divide by 0",
      details: ["type.googleapis.com/interop.InvalidOperation"],
    },
    invalid_operation: { what_op: 4, why: "Cannot divide by 0" },
  });
});

test("metadata: onCall echoes x-request-tag as a header and a trailer, on an error's trailers-only reply too", async () => {
  await using server = await startServer({
    onCall: ({ request, headers, trailers }) => {
      const tag = request.get("x-request-tag");
      if (tag === null) return;
      headers.set("x-request-tag", tag);
      trailers.set("x-request-tag-end", tag);
    },
  }).server;
  assert.deepEqual(await grpcio(server, "metadata"), {
    code: 0,
    sum: 3,
    headers: { "x-request-tag": "py-7" },
    trailers: { "x-request-tag-end": "py-7" },
  });
  // grpcio reads a trailers-only reply's one block as trailers: both are there.
  assert.deepEqual(await grpcio(server, "metadata-error"), {
    code: 3,
    headers: {},
    trailers: { "x-request-tag": "py-8", "x-request-tag-end": "py-8" },
  });
});

test("gzip: grpcio's compressed request is read; a gzip bomb is 8 RESOURCE_EXHAUSTED", async () => {
  const encodings: (string | null)[] = [];
  await using server = await startServer({
    compressThreshold: 0,
    limits: { maxFrameSize: 64 * 1024 },
    onCall: ({ request }) => encodings.push(request.get("grpc-encoding")),
  }).server;
  assert.deepEqual(await grpcio(server, "gzip"), { code: 0, length: 13_000, same: true });
  assert.deepEqual(encodings, ["gzip"]);
  const bomb = await grpcio(server, "gzip-bomb");
  assert.equal(bomb.code, 8);
  assert.match(bomb.details!, /inflates past the limit of 65536 bytes/);
  assert.deepEqual(await grpcio(server, "add"), { code: 0, sum: 3 });
});

test("gzip refusals: deflate is 12, a compressed flag without grpc-encoding 13, bytes that are not gzip 13", async () => {
  await using server = await startServer().server;
  const add = frame(schema.message("interop.AddRequest").encode({ num1: 1, num2: 2 }));
  const deflate = await rawCall(server.addr.port, add, undefined, { "grpc-encoding": "deflate" });
  assert.equal(deflate.status, "12");
  assert.equal(deflate.message, "Unsupported grpc-encoding: deflate");
  const flagged = Uint8Array.from(add);
  flagged[0] = 1;
  const unagreed = await rawCall(server.addr.port, flagged);
  assert.equal(unagreed.status, "13");
  const notGzip = await rawCall(server.addr.port, flagged, undefined, { "grpc-encoding": "gzip" });
  assert.equal(notGzip.status, "13");
  assert.match(notGzip.message!, /not gzip/);
  // Identity still works, with or without the header.
  const plain = await rawCall(server.addr.port, add, undefined, { "grpc-encoding": "identity" });
  assert.equal(plain.status, "0");
});

test("grpcio calling an unknown method gets 12 UNIMPLEMENTED", async () => {
  await using server = await startServer().server;
  const outcome = await grpcio(server, "unknown");
  assert.equal(outcome.code, 12);
  assert.match(outcome.details!, /interop\.Calculator\/Nope/);
});

test("grpcio's deadline: 4 DEADLINE_EXCEEDED and the handler's signal fires", async () => {
  const { server: starting, pingAborted } = startServer();
  await using server = await starting;
  const outcome = await grpcio(server, "deadline");
  assert.equal(outcome.code, 4);
  // grpcio's own timer races the server's: either its RST_STREAM or grpc-timeout fires the signal.
  const reason = await pingAborted;
  assert.ok(["TimeoutError", "AbortError"].includes((reason as DOMException).name));
});

test("grpc-timeout alone (a client without its own timer): the server answers 4 and the handler's signal times out", async () => {
  const { server: starting, pingAborted } = startServer();
  await using server = await starting;
  const outcome = await rawCall(
    server.addr.port,
    frame(new Uint8Array()),
    "/interop.Calculator/Ping",
    {
      "grpc-timeout": "50m",
    },
  );
  assert.equal(outcome.status, "4");
  assert.equal(outcome.message, "Deadline exceeded");
  assert.equal(((await pingAborted) as DOMException).name, "TimeoutError");
});

test("grpc-timeout bounds a request body that never ends: 4 DEADLINE_EXCEEDED", async () => {
  await using server = await startServer().server;
  const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
  const call = session.request({
    ":method": "POST",
    ":path": "/interop.Calculator/Add",
    "content-type": "application/grpc",
    "grpc-timeout": "50m",
  });
  call.on("error", () => {});
  const closed = new Promise((resolve) => call.on("close", resolve));
  const headers = new Promise<http2.IncomingHttpHeaders>((resolve) => call.on("response", resolve));
  call.write(new Uint8Array([0, 0, 0, 0, 9, 8])); // the start of a message, and no end
  assert.equal((await headers)["grpc-status"], "4");
  await closed;
  session.close();
  assert.deepEqual(await grpcio(server, "add"), { code: 0, sum: 3 });
});

test("a cancelled call (RST_STREAM) fires the handler's signal", async () => {
  const { server: starting, pingStarted, pingAborted } = startServer();
  await using server = await starting;
  const child = new Deno.Command(DEBIAN_PYTHON, {
    args: [CLIENT, `127.0.0.1:${server.addr.port}`, "cancel"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  await pingStarted;
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("go\n"));
  await writer.close();
  const reason = await pingAborted;
  assert.equal((reason as DOMException).name, "AbortError");
  const output = await child.output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(output.stdout)), {
    code: 1,
    cancelled: true,
  });
});

test("a message over maxFrameSize is 8 RESOURCE_EXHAUSTED; smaller calls still work", async () => {
  await using server = await startServer({ limits: { maxFrameSize: 1024 } }).server;
  const outcome = await grpcio(server, "oversize");
  assert.equal(outcome.code, 8);
  assert.match(outcome.details!, /exceeds the limit of 1024 bytes/);
  assert.deepEqual(await grpcio(server, "add"), { code: 0, sum: 3 });
});

// A raw call with node:http2: the headers (or trailers) that end it.
async function rawCall(
  port: number,
  body: Uint8Array,
  path = "/interop.Calculator/Add",
  headers: http2.OutgoingHttpHeaders = {},
): Promise<{ status: string | undefined; message: string | undefined; reply: Buffer }> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on("error", () => {});
  try {
    const call = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      "te": "trailers",
      ...headers,
    });
    call.on("error", () => {});
    const chunks: Buffer[] = [];
    const closed = new Promise((resolve) => call.on("close", resolve));
    let last: http2.IncomingHttpHeaders = {};
    call.on("response", (headers) => last = headers);
    call.on("trailers", (trailers) => last = trailers);
    call.on("data", (chunk: Buffer) => chunks.push(chunk));
    call.end(body);
    await closed;
    return {
      status: last["grpc-status"] as string | undefined,
      message: last["grpc-message"] as string | undefined,
      reply: Buffer.concat(chunks),
    };
  } finally {
    session.close();
  }
}

function frame(message: Uint8Array): Uint8Array {
  return new Uint8Array([0, 0, 0, 0, message.length, ...message]);
}

test("hostile: a length prefix of 2^31 is refused from the prefix; other callers are served", async () => {
  await using server = await startServer().server;
  const claim = new Uint8Array([0, 0x80, 0, 0, 0, 1, 2, 3]);
  const refused = await rawCall(server.addr.port, claim);
  assert.equal(refused.status, "8");
  assert.match(refused.message!, /2147483648 bytes exceeds the limit/);
  const add = schema.message("interop.AddRequest").encode({ num1: 40, num2: 2 });
  const ok = await rawCall(server.addr.port, frame(add));
  assert.equal(ok.status, "0");
  assert.deepEqual(schema.message("interop.AddReply").decode(ok.reply.subarray(5)), { sum: 42 });
});

test("hostile: a truncated message and a message that does not decode; the server serves on", async () => {
  await using server = await startServer().server;
  const truncated = await rawCall(server.addr.port, new Uint8Array([0, 0, 0, 0, 9, 8]));
  assert.equal(truncated.status, "13");
  const garbage = await rawCall(server.addr.port, frame(new Uint8Array([0xff, 0xff, 0xff])));
  assert.equal(garbage.status, "3");
  assert.match(garbage.message!, /not a interop\.AddRequest/);
  assert.deepEqual(await grpcio(server, "add"), { code: 0, sum: 3 });
});

test("hostile: garbage and malformed frames on the h2c port end that connection; other callers are served", async () => {
  await using server = await startServer().server;
  const text = (s: string) => new TextEncoder().encode(s);
  const preface = text("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  // A SETTINGS frame of 5 bytes (settings are 6 bytes each): FRAME_SIZE_ERROR.
  const badSettings = new Uint8Array([0, 0, 5, 0x4, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5]);
  for (
    const junk of [
      text("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
      new Uint8Array(64),
      new Uint8Array([...preface, ...badSettings]),
    ]
  ) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    await conn.write(junk);
    // The server ends the connection (after a GOAWAY, for a bad preface or frame).
    const buffer = new Uint8Array(4096);
    while (await conn.read(buffer) !== null) { /* drain until the server closes */ }
    conn.close();
  }
  assert.deepEqual(await grpcio(server, "add"), { code: 0, sum: 3 });
});

test("shutdown: a call in flight finishes; new connections are refused", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => entered = resolve);
  const service = combineServices({
    "interop.Calculator/Add": async ({ num1, num2 }: { num1: number; num2: number }) => {
      entered();
      await released;
      return { sum: num1 + num2 };
    },
  });
  const server = await serveGrpc({ schema, service });
  const add = schema.message("interop.AddRequest").encode({ num1: 1, num2: 2 });
  const call = rawCall(server.addr.port, frame(add));
  await inside;
  const stopped = server.shutdown();
  release();
  const answered = await call;
  assert.equal(answered.status, "0");
  assert.deepEqual(schema.message("interop.AddReply").decode(answered.reply.subarray(5)), {
    sum: 3,
  });
  await stopped;
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: server.addr.port }));
});

test("HTTP/2: the server announces maxConcurrentStreams and answers pings", async () => {
  await using server = await startServer({ maxConcurrentStreams: 2 }).server;
  const session = http2.connect(`http://127.0.0.1:${server.addr.port}`);
  const settings = await new Promise<http2.Settings>((resolve) =>
    session.once("remoteSettings", resolve)
  );
  assert.equal(settings.maxConcurrentStreams, 2);
  const pong = await new Promise<Error | null>((resolve) =>
    session.ping((error) => resolve(error))
  );
  assert.equal(pong, null);
  session.close();
});
