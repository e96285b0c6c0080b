/**
 * parley's HTTP/2 (protocols/http2/, rpc/transports/http2/): its client
 * against its server over real sockets. Bodies of several MB both ways
 * (windows exhausted and refilled), a reader that stops reading stopping
 * the writer, many streams at once and past the server's limit, trailers
 * and trailers-only replies, resets both ways, GOAWAY's graceful drain,
 * TLS with ALPN h2, pings. Real peers (Node, grpcio, fetch) are in
 * http2_interop_test.ts, hostile ones in http2_hostile_test.ts.
 */

import assert from "node:assert/strict";
import {
  connectHttp2,
  Http2ErrorCode,
  type Http2Stream,
  Http2StreamError,
  serveHttp2,
  type ServeHttp2Options,
} from "../rpc/transports/http2.ts";
import { ConnectionClosedError } from "../rpc/errors.ts";
import { makeCertificates } from "./_certificates.ts";

/** A body's bytes, read whole. */
async function bodyOf(stream: Http2Stream): Promise<Uint8Array> {
  const chunks = await Array.fromAsync(stream);
  const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.length;
  }
  return body;
}

/** A server that echoes each request's body, with trailers counting its bytes. */
function echoServer(options: Partial<ServeHttp2Options> = {}) {
  return serveHttp2({
    onStream: async (stream) => {
      stream.respond({ ":status": 200, "content-type": "application/octet-stream" });
      let bytes = 0;
      for await (const chunk of stream) {
        bytes += chunk.length;
        await stream.write(chunk);
      }
      stream.end({ "x-bytes": String(bytes) });
    },
    ...options,
  });
}

/** `size` bytes of a pattern that a shifted or dropped chunk would break. */
function pattern(size: number, seed = 7): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed + (i >>> 11)) & 0xff;
  return bytes;
}

/** Writes `body` in 64 KiB chunks, waiting whenever write() says so, then ends. */
async function send(stream: Http2Stream, body: Uint8Array): Promise<void> {
  for (let at = 0; at < body.length; at += 65_536) {
    await stream.write(body.subarray(at, at + 65_536));
  }
  stream.end();
}

Deno.test("http2: 8 MB echoed each way on one stream, through windows far smaller (64 KiB streams)", async () => {
  await using server = echoServer({ initialWindowSize: 65_535, connectionWindowSize: 65_535 });
  await using client = connectHttp2(server.url, {
    initialWindowSize: 65_535,
    connectionWindowSize: 65_535,
  });
  const body = pattern(8 * 1024 * 1024);
  const stream = client.request({ ":method": "POST", ":path": "/echo" });
  const [, echoed] = await Promise.all([send(stream, body), bodyOf(stream)]);
  assert.equal(echoed.length, body.length);
  assert.deepEqual(echoed, body);
  assert.equal(stream.trailers?.["x-bytes"], String(body.length));
});

Deno.test("http2: a reader that stops reading stops the writer at the window; reading again lets it finish", async () => {
  let writtenBeforeWait = -1;
  const blocked = Promise.withResolvers<void>();
  const total = 4 * 1024 * 1024;
  await using server = serveHttp2({
    onStream: async (stream) => {
      stream.respond({ ":status": 200 });
      const chunk = pattern(16_384);
      for (let sent = 0; sent < total; sent += chunk.length) {
        const wait = stream.write(chunk);
        if (wait !== undefined) {
          if (writtenBeforeWait < 0) {
            writtenBeforeWait = sent + chunk.length;
            blocked.resolve();
          }
          await wait;
        }
      }
      stream.end();
    },
  });
  await using client = connectHttp2(server.url, {
    initialWindowSize: 100_000,
    connectionWindowSize: 1_000_000,
  });
  const stream = client.request({ ":method": "GET", ":path": "/" }, { endStream: true });
  await blocked.promise; // the client has read nothing yet
  // What the server could hand over before waiting: the client's window plus the stream's queue.
  assert.ok(writtenBeforeWait <= 100_000 + 65_536 + 16_384, `wrote ${writtenBeforeWait}`);
  const body = await bodyOf(stream);
  assert.equal(body.length, total);
});

Deno.test("http2: 100 streams at once on one connection, each echoed with its own trailers", async () => {
  await using server = echoServer();
  await using client = connectHttp2(server.url);
  const results = await Promise.all(Array.from({ length: 100 }, async (_, i) => {
    const stream = client.request({ ":method": "POST", ":path": `/${i}` });
    const body = pattern(1000 + i * 37, i);
    const [, echoed] = await Promise.all([send(stream, body), bodyOf(stream)]);
    assert.deepEqual(echoed, body);
    return stream.trailers?.["x-bytes"];
  }));
  assert.deepEqual(results, Array.from({ length: 100 }, (_, i) => String(1000 + i * 37)));
  assert.equal(server.connections, 1);
});

Deno.test("http2: past the server's MAX_CONCURRENT_STREAMS (5) the client waits for slots; all 60 complete", async () => {
  let open = 0;
  let most = 0;
  await using server = serveHttp2({
    maxConcurrentStreams: 5,
    onStream: async (stream) => {
      most = Math.max(most, ++open);
      await new Promise((resolve) => setTimeout(resolve, 2));
      open--;
      stream.respond({ ":status": 200 }, { endStream: true });
    },
  });
  await using client = connectHttp2(server.url);
  const statuses = await Promise.all(Array.from({ length: 60 }, async () => {
    const stream = client.request({ ":method": "GET", ":path": "/" }, { endStream: true });
    return (await stream.response)[":status"];
  }));
  assert.deepEqual(statuses, Array(60).fill("200"));
  assert.ok(most <= 5, `${most} streams were open at once`);
});

Deno.test("http2: trailers after a body, and a trailers-only reply (one HEADERS that ends the stream)", async () => {
  await using server = serveHttp2({
    onStream: (stream) => {
      if (stream.headers[":path"] === "/only") {
        stream.respond({ ":status": 200, "grpc-status": "5", "grpc-message": "not found" }, {
          endStream: true,
        });
        return;
      }
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
      stream.write(new Uint8Array([0, 0, 0, 0, 1, 42]));
      stream.end({ "grpc-status": "0", "x-list": ["a", "b"] });
    },
  });
  await using client = connectHttp2(server.url);
  const full = client.request({ ":method": "POST", ":path": "/full" }, { endStream: true });
  assert.equal((await full.response)["content-type"], "application/grpc");
  assert.deepEqual([...await bodyOf(full)], [0, 0, 0, 0, 1, 42]);
  assert.equal(full.trailers?.["grpc-status"], "0");
  assert.equal(full.trailers?.["x-list"], "a, b");

  const only = client.request({ ":method": "POST", ":path": "/only" }, { endStream: true });
  const headers = await only.response;
  assert.equal(headers["grpc-status"], "5");
  assert.equal(headers["grpc-message"], "not found");
  assert.equal(await only.read(), null);
  assert.equal(only.trailers, undefined);
});

Deno.test("http2: RST_STREAM both ways: the client's cancel aborts the server's stream, the server's reset fails the client's read", async () => {
  const serverSaw = Promise.withResolvers<unknown>();
  await using server = serveHttp2({
    onStream: (stream) => {
      if (stream.headers[":path"] === "/reset-me") {
        stream.respond({ ":status": 200 });
        stream.write(new Uint8Array(10));
        stream.reset(Http2ErrorCode.INTERNAL_ERROR);
        return;
      }
      stream.signal.addEventListener("abort", () => serverSaw.resolve(stream.signal.reason));
      stream.respond({ ":status": 200 });
    },
  });
  await using client = connectHttp2(server.url);
  const cancelled = client.request({ ":method": "POST", ":path": "/wait" });
  await cancelled.response;
  cancelled.reset();
  const reason = await serverSaw.promise;
  assert.ok(reason instanceof Http2StreamError);
  assert.equal(reason.code, Http2ErrorCode.CANCEL);
  assert.equal(cancelled.signal.aborted, true);

  const reset = client.request({ ":method": "GET", ":path": "/reset-me" }, { endStream: true });
  const error = await bodyOf(reset).catch((e) => e);
  assert.ok(error instanceof Http2StreamError, String(error));
  assert.equal(error.code, Http2ErrorCode.INTERNAL_ERROR);
  // The connection lives on.
  const after = client.request({ ":method": "POST", ":path": "/wait" });
  assert.equal((await after.response)[":status"], "200");
  after.reset();
});

Deno.test("http2: shutdown drains: GOAWAY, the stream in flight finishes, new connections are refused", async () => {
  const arrived = Promise.withResolvers<Http2Stream>();
  const server = serveHttp2({ onStream: (stream) => arrived.resolve(stream) });
  await using client = connectHttp2(server.url);
  const inFlight = client.request({ ":method": "GET", ":path": "/slow" }, { endStream: true });
  const serverStream = await arrived.promise;
  const stopped = server.shutdown();
  // The in-flight stream is answered after GOAWAY went out.
  await new Promise((resolve) => setTimeout(resolve, 20));
  serverStream.respond({ ":status": 200 });
  serverStream.end({ "x-late": "yes" });
  assert.equal((await inFlight.response)[":status"], "200");
  assert.equal(await inFlight.read(), null);
  assert.equal(inFlight.trailers?.["x-late"], "yes");
  await stopped;
  // The next request opens a new connection, which the stopped server refuses.
  const next = client.request({ ":method": "GET", ":path": "/" }, { endStream: true });
  await assert.rejects(next.response, ConnectionClosedError);
});

Deno.test("http2: the client's close() drains its streams, then later requests fail", async () => {
  await using server = echoServer();
  const client = connectHttp2(server.url);
  const stream = client.request({ ":method": "POST", ":path": "/" });
  const closing = client.close();
  assert.throws(() => client.request({ ":method": "GET", ":path": "/" }), ConnectionClosedError);
  await send(stream, pattern(100_000));
  assert.equal((await bodyOf(stream)).length, 100_000);
  await closing;
});

Deno.test("http2: TLS with ALPN h2, and a client's PING answered", async () => {
  await using certificates = await makeCertificates();
  await using server = echoServer({ cert: certificates.cert, key: certificates.key });
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  await using client = connectHttp2(server.url, { caCerts: [certificates.ca] });
  const stream = client.request({ ":method": "POST", ":path": "/" });
  const body = pattern(300_000);
  const [, echoed] = await Promise.all([send(stream, body), bodyOf(stream)]);
  assert.deepEqual(echoed, body);
  const rtt = await client.ping();
  assert.equal(typeof rtt, "number");
});

Deno.test("http2: a server that cannot be reached fails the request with a ConnectionClosedError", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  await using client = connectHttp2(`http://127.0.0.1:${port}`);
  const stream = client.request({ ":method": "GET", ":path": "/" }, { endStream: true });
  await assert.rejects(stream.response, ConnectionClosedError);
  assert.equal(stream.signal.aborted, true);
});

Deno.test("http2: a server that accepts and says nothing fails the request after connectTimeout", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await using client = connectHttp2(`http://127.0.0.1:${listener.addr.port}`, {
    connectTimeout: 100,
  });
  const stream = client.request({ ":method": "GET", ":path": "/" }, { endStream: true });
  using _conn = await listener.accept(); // accepted, and never a byte back
  const error = await stream.response.catch((e) => e);
  assert.ok(error instanceof ConnectionClosedError, String(error));
  assert.match(String(error.message + error.cause), /No HTTP\/2 SETTINGS .* within 100 ms/);
});
