/**
 * parley's HTTP/2 (serveHttp2, connectHttp2) with real HTTP/2 peers, both
 * directions: Node's node:http2 run by Node (tests/interop/node/http2_peer.mjs),
 * Deno's node:http2 in this process, Deno's fetch over TLS (ALPN h2), and
 * Debian's python3-grpcio, a whole gRPC stack: as a client of a tiny gRPC
 * echo on serveHttp2 (raw unary calls with bytes, h2c), and as the
 * calculator server that connectHttp2 calls with hand-made gRPC requests.
 */

import assert from "node:assert/strict";
import http2 from "node:http2";
import { Buffer } from "node:buffer";
import {
  connectHttp2,
  Http2ErrorCode,
  type Http2Stream,
  Http2StreamError,
  serveHttp2,
} from "../rpc/transports/http2.ts";
import { calculatorSchema } from "../examples/calculator/protobuf.ts";
import { makeCertificates } from "./_certificates.ts";
import { DEBIAN_PYTHON, formatOutput, run, spawnListening } from "./interop/_process.ts";
import { testNeeding } from "./_needs.ts";

const NODE_PEER = new URL("./interop/node/http2_peer.mjs", import.meta.url).pathname;
const PY_CALCULATOR = new URL("./interop/python/grpc_calculator_server.py", import.meta.url)
  .pathname;
const withGrpcio = testNeeding("py:grpc");
const withCalculator = testNeeding("py:grpc", "py:google.protobuf", "protoc");

async function bodyOf(stream: Http2Stream): Promise<Uint8Array> {
  return new Uint8Array(Buffer.concat(await Array.fromAsync(stream)));
}

function pattern(size: number, seed: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed + (i >>> 11)) & 0xff;
  return bytes;
}

/** The echo server the Node peer's client expects (see http2_peer.mjs), on serveHttp2. */
function echoServer(onCancel?: (path: string, reason: unknown) => void) {
  return serveHttp2({
    onStream: async (stream) => {
      const path = stream.headers[":path"]!;
      if (path === "/only") {
        return stream.respond({ ":status": 200, "grpc-status": "5" }, { endStream: true });
      }
      if (path === "/reset") return stream.reset(Http2ErrorCode.INTERNAL_ERROR);
      stream.respond({ ":status": 200 });
      if (path === "/cancel-me") {
        // Answered with headers only, until the client cancels (a client's
        // cancel may also end its body first: Node's does).
        stream.signal.addEventListener("abort", () => onCancel?.(path, stream.signal.reason));
        return;
      }
      let bytes = 0;
      for await (const chunk of stream) {
        bytes += chunk.length;
        await stream.write(chunk);
      }
      stream.end({ "x-bytes": String(bytes), "x-tag-end": stream.headers["x-tag"] ?? "" });
    },
  });
}

/** What a client of the echo server checks, on connectHttp2. */
async function callEcho(url: string): Promise<void> {
  await using client = connectHttp2(url);
  const results = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
    const stream = client.request({ ":method": "POST", ":path": `/echo/${i}`, "x-tag": `t${i}` });
    const body = pattern(10_000, i);
    stream.write(body);
    stream.end();
    assert.deepEqual(await bodyOf(stream), body);
    return [stream.trailers?.["x-bytes"], stream.trailers?.["x-tag-end"]];
  }));
  assert.deepEqual(results, Array.from({ length: 50 }, (_, i) => ["10000", `t${i}`]));
  const big = pattern(5_000_000, 9);
  const stream = client.request({ ":method": "POST", ":path": "/big" });
  const echoed = bodyOf(stream);
  for (let at = 0; at < big.length; at += 100_000) {
    await stream.write(big.subarray(at, at + 100_000));
  }
  stream.end();
  assert.deepEqual(await echoed, big);
  assert.equal(stream.trailers?.["x-bytes"], "5000000");
  const only = client.request({ ":method": "GET", ":path": "/only" }, { endStream: true });
  assert.equal((await only.response)["grpc-status"], "5");
  assert.equal(await only.read(), null);
  const reset = client.request({ ":method": "GET", ":path": "/reset" }, { endStream: true });
  const error = await bodyOf(reset).catch((e) => e);
  assert.ok(error instanceof Http2StreamError, String(error));
  assert.equal(error.code, Http2ErrorCode.INTERNAL_ERROR);
}

Deno.test("Node's node:http2 client (on Node) → serveHttp2: 50 at once, 5 MB echoed, trailers-only, resets both ways", async () => {
  const cancels = Promise.withResolvers<[string, unknown]>();
  await using server = echoServer((path, reason) => cancels.resolve([path, reason]));
  const result = await run("node", { args: [NODE_PEER, "client", server.url], timeout: 60_000 });
  assert.equal(result.code, 0, formatOutput(result));
  assert.deepEqual(JSON.parse(result.stdout), {
    concurrent: 50,
    big: true,
    only: { status: 200, grpcStatus: "5" },
    resetCode: Http2ErrorCode.INTERNAL_ERROR,
    cancelled: Http2ErrorCode.CANCEL,
  });
  const [path, reason] = await cancels.promise;
  assert.equal(path, "/cancel-me");
  assert.equal((reason as Http2StreamError).code, Http2ErrorCode.CANCEL);
});

Deno.test("connectHttp2 → Node's node:http2 server (on Node): 50 at once, 5 MB echoed, trailers-only, resets both ways", async () => {
  await using peer = await spawnListening("node", { args: [NODE_PEER, "server"] });
  await callEcho(peer.url);
  // A stream this side cancels: Node sees RST_STREAM CANCEL.
  await using client = connectHttp2(peer.url);
  const stream = client.request({ ":method": "POST", ":path": "/cancel-me" });
  stream.write(new Uint8Array(10));
  await stream.response;
  stream.reset();
  for (let i = 0; i < 100 && !peer.stdout().includes("aborted /cancel-me"); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.match(peer.stdout(), /aborted \/cancel-me rstCode=8/);
});

Deno.test("Deno's node:http2 client → serveHttp2: echo with trailers, and its cancel reaching the server", async () => {
  const cancels = Promise.withResolvers<[string, unknown]>();
  await using server = echoServer((path, reason) => cancels.resolve([path, reason]));
  const session = http2.connect(server.url);
  try {
    const body = pattern(1_000_000, 3);
    const request = session.request({ ":method": "POST", ":path": "/echo", "x-tag": "deno" });
    const chunks: Uint8Array[] = [];
    request.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    const closed = new Promise((resolve) => request.on("close", resolve));
    const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) =>
      request.on("trailers", resolve)
    );
    request.end(body);
    assert.deepEqual((await trailers)["x-tag-end"], "deno");
    await closed;
    assert.deepEqual(new Uint8Array(Buffer.concat(chunks)), body);

    const cancelled = session.request({ ":method": "POST", ":path": "/cancel-me" });
    cancelled.on("error", () => {});
    cancelled.write("some");
    await new Promise((resolve) => cancelled.on("response", resolve));
    cancelled.close(http2.constants.NGHTTP2_CANCEL);
    const [path, reason] = await cancels.promise;
    assert.equal(path, "/cancel-me");
    assert.equal((reason as Http2StreamError).code, Http2ErrorCode.CANCEL);
  } finally {
    session.close();
  }
});

Deno.test("connectHttp2 → Deno's node:http2 server: echo with trailers, a reset read as Http2StreamError", async () => {
  const server = http2.createServer();
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    stream.on("error", () => {});
    if (headers[":path"] === "/reset") return stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    stream.respond({ ":status": 200 }, { waitForTrailers: true });
    let bytes = 0;
    stream.on("data", (chunk: Uint8Array) => {
      bytes += chunk.length;
      stream.write(chunk);
    });
    stream.on("wantTrailers", () => stream.sendTrailers({ "x-bytes": String(bytes) }));
    stream.on("end", () => stream.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as { port: number };
    await using client = connectHttp2(`http://127.0.0.1:${port}`);
    const body = pattern(2_000_000, 5);
    const streams = Array.from({ length: 10 }, () => {
      const stream = client.request({ ":method": "POST", ":path": "/echo" });
      stream.write(body.subarray(0, 200_000));
      stream.end();
      return stream;
    });
    for (const stream of streams) {
      assert.deepEqual(await bodyOf(stream), body.subarray(0, 200_000));
      assert.equal(stream.trailers?.["x-bytes"], "200000");
    }
    const reset = client.request({ ":method": "GET", ":path": "/reset" }, { endStream: true });
    const error = await bodyOf(reset).catch((e) => e);
    assert.ok(error instanceof Http2StreamError, String(error));
    assert.equal(error.code, Http2ErrorCode.INTERNAL_ERROR);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

Deno.test("Deno's fetch (createHttpClient http2, no http1) over TLS → serveHttp2: ALPN h2, body both ways", async () => {
  await using certificates = await makeCertificates();
  let protocolSeen = "";
  await using server = serveHttp2({
    cert: certificates.cert,
    key: certificates.key,
    onStream: async (stream) => {
      protocolSeen = stream.headers[":scheme"]!;
      const body = await bodyOf(stream);
      stream.respond({ ":status": 201, "content-type": "text/plain", "x-length": body.length });
      stream.write(new TextEncoder().encode(`got ${body.length} bytes`));
      stream.end();
    },
  });
  using httpClient = Deno.createHttpClient({
    http2: true,
    http1: false,
    caCerts: [certificates.ca],
  });
  const responses = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
    const response = await fetch(`${server.url}/upload/${i}`, {
      method: "POST",
      body: pattern(50_000 + i, i),
      client: httpClient,
    });
    return [response.status, response.headers.get("x-length"), await response.text()];
  }));
  assert.deepEqual(
    responses,
    Array.from({ length: 20 }, (_, i) => [201, String(50_000 + i), `got ${50_000 + i} bytes`]),
  );
  assert.equal(protocolSeen, "https");
});

// A gRPC echo on serveHttp2, for grpcio: one length-prefixed message in, the
// same out, grpc-status in trailers; /x/fail is trailers-only status 7.
function grpcEcho() {
  return serveHttp2({
    onStream: async (stream) => {
      const tag = stream.headers["x-tag"] ?? "";
      if (stream.headers[":path"] === "/x/fail") {
        await bodyOf(stream);
        return stream.respond({
          ":status": 200,
          "content-type": "application/grpc",
          "grpc-status": "7",
          "grpc-message": "denied%20here",
        }, { endStream: true });
      }
      const body = await bodyOf(stream);
      const length = new DataView(body.buffer, body.byteOffset).getUint32(1);
      stream.respond({ ":status": 200, "content-type": "application/grpc", "x-tag": tag });
      stream.write(body.subarray(0, 5 + length));
      stream.end({ "grpc-status": "0", "x-tag-end": tag });
    },
  });
}

const GRPCIO_CLIENT = `
import grpc, json, sys
channel = grpc.insecure_channel(sys.argv[1])
echo = channel.unary_unary("/x/y")
ok = 0
for i in range(200):
    message = bytes([i % 256]) * i
    if echo(message, timeout=10) == message:
        ok += 1
big = bytes(range(256)) * 4000
reply, call = echo.with_call(big, metadata=[("x-tag", "py")], timeout=10)
try:
    channel.unary_unary("/x/fail")(b"", timeout=10)
    failed = None
except grpc.RpcError as error:
    failed = [error.code().value[0], error.details()]
print(json.dumps({
    "ok": ok,
    "big": reply == big,
    "initial": dict(call.initial_metadata()).get("x-tag"),
    "trailing": dict(call.trailing_metadata()).get("x-tag-end"),
    "failed": failed,
}))
`;

withGrpcio(
  "python grpcio → serveHttp2: 200 raw unary calls, a 1 MB message, metadata, a status in a trailers-only reply",
  async () => {
    await using server = grpcEcho();
    const result = await run(DEBIAN_PYTHON, {
      args: ["-c", GRPCIO_CLIENT, `127.0.0.1:${server.addr.port}`],
      timeout: 60_000,
    });
    assert.equal(result.code, 0, formatOutput(result));
    assert.deepEqual(JSON.parse(result.stdout), {
      ok: 200,
      big: true,
      initial: "py",
      trailing: "py",
      failed: [7, "denied here"],
    });
  },
);

withCalculator(
  "connectHttp2 → python grpcio's calculator: hand-made gRPC calls, 50 at once, status and details",
  async () => {
    await using peer = await spawnListening(DEBIAN_PYTHON, {
      args: [PY_CALCULATOR],
      env: { PATH: Deno.env.get("PATH")! },
    });
    const schema = calculatorSchema();
    const frame = (bytes: Uint8Array) => {
      const framed = new Uint8Array(5 + bytes.length);
      new DataView(framed.buffer).setUint32(1, bytes.length);
      framed.set(bytes, 5);
      return framed;
    };
    await using client = connectHttp2(`http://127.0.0.1:${peer.port}`);
    const call = async (method: string, message: Uint8Array, tag: string) => {
      const stream = client.request({
        ":method": "POST",
        ":path": `/interop.Calculator/${method}`,
        "content-type": "application/grpc",
        "te": "trailers",
        "x-request-tag": tag,
      });
      stream.write(frame(message));
      stream.end();
      const headers = await stream.response;
      const body = await bodyOf(stream);
      return { headers, body, trailers: stream.trailers ?? headers };
    };
    const sums = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
      const { headers, body, trailers } = await call(
        "Add",
        schema.message("interop.AddRequest").encode({ num1: i, num2: 1 }),
        `t${i}`,
      );
      assert.equal(headers["x-request-tag"], `t${i}`);
      assert.equal(trailers["grpc-status"], "0");
      assert.equal(trailers["x-request-tag-end"], `t${i}`);
      return schema.message("interop.AddReply").decode(body.subarray(5)).sum;
    }));
    assert.deepEqual(sums, Array.from({ length: 50 }, (_, i) => i + 1));
    const failed = await call(
      "Calculate",
      schema.message("interop.CalculateRequest").encode({
        logid: 1,
        w: { num1: 1, num2: 0, op: 4 },
      }),
      "div",
    );
    assert.equal(failed.trailers["grpc-status"], "3");
    assert.equal(decodeURIComponent(failed.trailers["grpc-message"]!), "Cannot divide by 0");
    assert.ok(failed.trailers["grpc-status-details-bin"]!.length > 0);
  },
);
