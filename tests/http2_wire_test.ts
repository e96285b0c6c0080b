/**
 * parley's HTTP/2 on the wire, frame by frame, where no peer library shows
 * it: padding and priority fields accepted, the peer's header table size
 * obeyed with a size update, a GOAWAY's last stream id honoured by the
 * client (later streams refused, safe to retry; earlier ones finish), a
 * server that answers before the request's end, PRIORITY ignored.
 */

import assert from "node:assert/strict";
import {
  connectHttp2,
  Http2ErrorCode as E,
  Http2StreamError,
  serveHttp2,
} from "../rpc/transports/http2.ts";
import { HpackDecoder, HpackEncoder } from "../protocols/http2/hpack.ts";
import { frame, headers, PREFACE, RawHttp2, requestBlock, T, u32 } from "./_raw_http2.ts";

function echo() {
  return serveHttp2({
    onStream: async (stream) => {
      stream.respond({ ":status": 200, "x-path": stream.headers[":path"]! });
      for await (const chunk of stream) await stream.write(chunk);
      stream.end({ "x-done": "1" });
    },
  });
}

Deno.test("wire: padded HEADERS with priority fields, padded DATA and PRIORITY frames are accepted", async () => {
  await using server = echo();
  await using raw = await RawHttp2.open(server.addr.port);
  const block = requestBlock("/padded");
  // PADDED | PRIORITY | END_HEADERS: pad length 3, dependency 0, weight 16, the block, 3 bytes of padding.
  await raw.write(
    frame(T.PRIORITY, 0, 1, [0, 0, 0, 0, 16]),
    frame(T.HEADERS, 0x8 | 0x20 | 0x4, 1, [3, 0, 0, 0, 0, 16, ...block, 0, 0, 0]),
    frame(T.DATA, 0x8 | 0x1, 1, [2, 0x61, 0x62, 0, 0]), // "ab", 2 bytes of padding, END_STREAM
  );
  assert.ok(await raw.until(() => raw.frames.some((f) => f.type === T.HEADERS && (f.flags & 1))));
  const data = raw.frames.filter((f) => f.type === T.DATA && f.stream === 1);
  assert.equal(new TextDecoder().decode(data[0]!.payload), "ab");
  const decoder = new HpackDecoder();
  const [response, trailers] = raw.frames.filter((f) => f.type === T.HEADERS);
  assert.deepEqual(decoder.decode(response!.payload), [":status", "200", "x-path", "/padded"]);
  assert.deepEqual(decoder.decode(trailers!.payload), ["x-done", "1"]);
  assert.equal(raw.goaway, undefined);
});

Deno.test("wire: a peer's SETTINGS_HEADER_TABLE_SIZE of 0 is obeyed: the next block starts with a size update", async () => {
  await using server = echo();
  await using raw = await RawHttp2.open(server.addr.port, false);
  await raw.write(PREFACE, frame(T.SETTINGS, 0, 0, [0, 1, ...u32(0)]), headers(1, true, "/t"));
  assert.ok(await raw.until(() => raw.frames.some((f) => f.type === T.HEADERS && (f.flags & 1))));
  const [response, trailers] = raw.frames.filter((f) => f.type === T.HEADERS);
  assert.equal(response!.payload[0], 0x20); // dynamic table size update to 0
  const decoder = new HpackDecoder();
  assert.deepEqual(decoder.decode(response!.payload), [":status", "200", "x-path", "/t"]);
  assert.deepEqual(decoder.decode(trailers!.payload), ["x-done", "1"]);
  assert.equal(decoder.tableSize, 0); // nothing was indexed
});

Deno.test("wire: a GOAWAY's last stream id: the client's later streams are refused (REFUSED_STREAM), the earlier one finishes", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await using client = connectHttp2(`http://127.0.0.1:${listener.addr.port}`);
  const first = client.request({ ":method": "GET", ":path": "/1" }, { endStream: true });
  const second = client.request({ ":method": "GET", ":path": "/3" }, { endStream: true });
  const third = client.request({ ":method": "GET", ":path": "/5" }, { endStream: true });
  // A hand-made server: SETTINGS, then GOAWAY(last 1) once the three requests are in, then stream 1's reply.
  using conn = await listener.accept();
  await conn.write(frame(T.SETTINGS, 0, 0));
  const buffer = new Uint8Array(65_536);
  let received = new Uint8Array(0);
  const has = (needle: number[]) =>
    received.some((_, i) => needle.every((b, j) => received[i + j] === b));
  // Stream 5's HEADERS frame header: END_STREAM | END_HEADERS on stream 5.
  while (!has([T.HEADERS, 0x5, 0, 0, 0, 5])) {
    const n = await conn.read(buffer);
    assert.notEqual(n, null);
    received = new Uint8Array([...received, ...buffer.subarray(0, n!)]);
  }
  const block = new HpackEncoder().encode([":status", "200"]).slice();
  await conn.write(
    new Uint8Array([
      ...frame(T.SETTINGS, 0x1, 0),
      ...frame(T.GOAWAY, 0, 0, [...u32(1), ...u32(E.NO_ERROR)]),
      ...frame(T.HEADERS, 0x5, 1, block),
    ]),
  );
  for (const refused of [second, third]) {
    const error = await refused.response.catch((e) => e);
    assert.ok(error instanceof Http2StreamError, String(error));
    assert.equal(error.code, E.REFUSED_STREAM);
  }
  assert.equal((await first.response)[":status"], "200");
  assert.equal(await first.read(), null);
  assert.ok(received.subarray(0, 24).every((b, i) => b === PREFACE[i]));
});

Deno.test("wire: a server that answers before the request's end sends RST_STREAM NO_ERROR; the client takes the answer", async () => {
  await using server = serveHttp2({
    onStream: (stream) => {
      stream.respond({ ":status": 413 }, { endStream: true }); // without reading the body
    },
  });
  await using client = connectHttp2(server.url);
  const stream = client.request({ ":method": "POST", ":path": "/upload" });
  stream.write(new Uint8Array(10_000));
  const headers = await stream.response;
  assert.equal(headers[":status"], "413");
  assert.equal(await stream.read(), null);
  // Writing on is harmless: the stream is over.
  assert.equal(stream.write(new Uint8Array(10)), undefined);
  stream.end();
  assert.equal(stream.closed, true);
  assert.equal(stream.signal.aborted, false);
  // The connection serves on.
  const next = client.request({ ":method": "GET", ":path": "/" }, { endStream: true });
  assert.equal((await next.response)[":status"], "413");
});
