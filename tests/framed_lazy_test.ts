// framedStream makes its Web Streams only when asked for (an idle connection
// of a server holds neither): the batch writer alone writes and ends the
// writing side, the writable made later still writes in order with it, and
// `onFirstFrame` is told once, whichever way the frames are read.

import assert from "node:assert/strict";
import { framedStream } from "../rpc/framed.ts";
import { directFramesOf, directWritesOf } from "../rpc/_direct.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
import { connByteStream } from "../rpc/transports/tcp.ts";

const utf8 = new TextEncoder();

// A connected pair of real sockets on 127.0.0.1.
async function socketPair(): Promise<[Deno.Conn, Deno.Conn]> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  return [client, await accepted];
}

const received = async (conn: Deno.Conn) =>
  new TextDecoder().decode(new Uint8Array(await new Response(conn.readable).arrayBuffer()));

Deno.test("the batch writer writes and ends the writing side without a writable", async () => {
  const [client, server] = await socketPair();
  const stream = framedStream(connByteStream(client), newline(), { text: true });
  const direct = directWritesOf(stream)!;
  assert.ok(direct !== undefined, "a socket's framed stream offers its batch writer");
  const reading = received(server);
  direct.write(["one", "two"]);
  direct.write("three");
  // Close writes what waits first, then the end the other side reads.
  await direct.close();
  assert.equal(await reading, "one\ntwo\nthree\n");
  await stream.close();
});

Deno.test("a writable asked for after direct writes writes after them, and its close ends the stream", async () => {
  const [client, server] = await socketPair();
  const stream = framedStream(connByteStream(client), lengthPrefix());
  const direct = directWritesOf(stream)!;
  const reading = new Response(server.readable).arrayBuffer();
  await direct.write("first");
  const writable = stream.writable;
  assert.equal(stream.writable, writable, "made once");
  assert.equal(directWritesOf(writable), direct, "the writable offers the same batch writer");
  const writer = writable.getWriter();
  await writer.write("second");
  await writer.close();
  const bytes = new Uint8Array(await reading);
  const frames = lengthPrefix().splitter!();
  const text = frames.push(bytes).map((frame) => new TextDecoder().decode(frame as Uint8Array));
  assert.deepEqual(text, ["first", "second"]);
  await stream.close();
});

Deno.test("onFirstFrame is told once, when the first frame is complete, read directly", async () => {
  const [client, server] = await socketPair();
  let told = 0;
  const stream = framedStream(connByteStream(server), newline(), {
    text: true,
    onFirstFrame: () => told++,
  });
  const direct = directFramesOf(stream)!;
  // The first frame in two writes: the first part alone completes nothing.
  await client.write(utf8.encode('{"a"'));
  const first = direct.read();
  await client.write(utf8.encode(":1}\n"));
  assert.deepEqual(await first, ['{"a":1}']);
  assert.equal(told, 1);
  await client.write(utf8.encode("two\nthree\n"));
  const rest: unknown[] = [];
  client.close();
  for (let batch = await direct.read(); batch !== null; batch = await direct.read()) {
    rest.push(...batch);
  }
  assert.deepEqual(rest, ["two", "three"]);
  assert.equal(told, 1);
  await stream.close();
});

Deno.test("onFirstFrame is told once through the readable of a byte stream of any kind", async () => {
  const pipe = new TransformStream<Uint8Array, Uint8Array>();
  let told = 0;
  const stream = framedStream(
    { readable: pipe.readable, writable: pipe.writable, close: () => {} },
    lengthPrefix(),
    { onFirstFrame: () => told++ },
  );
  const frames = Array.fromAsync(stream.readable);
  const writer = stream.writable.getWriter();
  await writer.write(["one", "two"]);
  await writer.write("three");
  await writer.close();
  const text = (await frames).flat().map((frame) => new TextDecoder().decode(frame as Uint8Array));
  assert.deepEqual(text, ["one", "two", "three"]);
  assert.equal(told, 1);
  await stream.close();
});
