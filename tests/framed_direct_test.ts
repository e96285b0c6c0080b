// framedStream over a real socket, read and written past its Web Streams
// (rpc/_direct.ts): frames must be the bytes that came even though the read
// buffer is reused, and the direct writer must write what the stream would.

import assert from "node:assert/strict";
import fc from "fast-check";
import { framedStream } from "../rpc/framed.ts";
import { directFramesOf, directWritesOf } from "../rpc/_direct.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
import { connByteStream } from "../rpc/transports/tcp.ts";
import type { Frame } from "../rpc/types.ts";

const utf8 = new TextEncoder();

// A connected pair of real sockets on 127.0.0.1.
async function socketPair(): Promise<[Deno.Conn, Deno.Conn]> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  return [client, await accepted];
}

// Every frame the text stream reads, until the sender closes, copied as text
// or bytes only after all of them have arrived (a view of a reused buffer
// would show later reads' bytes by then).
async function readAll(conn: Deno.Conn): Promise<Frame[]> {
  const stream = framedStream(connByteStream(conn), newline({ maxFrameSize: 64 }), { text: true });
  const frames: Frame[] = [];
  const direct = directFramesOf(stream)!;
  for (let batch = await direct.read(); batch !== null; batch = await direct.read()) {
    frames.push(...batch);
  }
  await stream.close();
  return frames;
}

// What the streams path (the framing's own decoder) reads from the same bytes.
async function slowPath(bytes: Uint8Array): Promise<Frame[]> {
  const frames: Frame[] = [];
  const decoder = newline({ maxFrameSize: 64 }).textDecoder!();
  const writer = decoder.writable.getWriter();
  const reading = (async () => {
    for await (const frame of decoder.readable) frames.push(frame);
  })();
  await writer.write(bytes);
  await writer.close();
  await reading;
  return frames;
}

// Each frame's bytes: a read with an invalid UTF-8 line hands all its lines as bytes.
function same(frames: readonly Frame[]): number[][] {
  return frames.map((frame) => Array.from(typeof frame === "string" ? utf8.encode(frame) : frame));
}

Deno.test("newline text frames stay intact across reads into a reused buffer", async () => {
  const [client, server] = await socketPair();
  const stream = framedStream(connByteStream(server), newline(), { text: true });
  const direct = directFramesOf(stream)!;
  // Invalid UTF-8 lines come as bytes: they must not be views of the buffer
  // that the next read fills. Each line is sent once the last one was read.
  const lines = [
    new Uint8Array([0xff, 0xfe, 0x41, 0x0a]),
    utf8.encode("zzzzzzzzzz\n"),
    new Uint8Array([0xc3, 0x28, 0x0a]),
    utf8.encode("yyyyyyyyyyyyyyyy\n"),
  ];
  const frames: Frame[] = [];
  for (const line of lines) {
    await client.write(line);
    frames.push(...(await direct.read())!);
  }
  client.close();
  assert.equal(await direct.read(), null);
  assert.deepEqual(same(frames), [
    [0xff, 0xfe, 0x41],
    Array.from(utf8.encode("zzzzzzzzzz")),
    [0xc3, 0x28],
    Array.from(utf8.encode("yyyyyyyyyyyyyyyy")),
  ]);
  await stream.close();
});

Deno.test("newline text frames over a socket match the streams path (property)", async () => {
  const byte = fc.constantFrom(0x0a, 0x0d, 0x41, 0x7a, 0xc3, 0xa9, 0xff, 0xe2, 0x82, 0xac);
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => b.map((x) => x)), {
        minLength: 1,
        maxLength: 8,
      }).chain((sizes) =>
        fc.tuple(
          fc.array(byte, { minLength: 0, maxLength: 200 }),
          fc.constant(sizes.map((s) => s.length)),
        )
      ),
      async ([bytes, cuts]) => {
        // Whole lines only (an unfinished one is an error both ways), each within the limit.
        const whole = new Uint8Array([...bytes, 0x0a]);
        let expected: Frame[] | Error;
        try {
          expected = await slowPath(whole);
        } catch (error) {
          expected = error as Error;
        }
        const [client, server] = await socketPair();
        const reading = readAll(server).then((f) => f, (error: Error) => error);
        for (let at = 0, i = 0; at < whole.length; i++) {
          const end = Math.min(whole.length, at + cuts[i % cuts.length]!);
          await client.write(whole.subarray(at, end)).catch(() => {});
          at = end;
        }
        client.close();
        const got = await reading;
        if (expected instanceof Error) {
          assert.ok(got instanceof Error, "the socket path refuses what the streams path refuses");
          assert.equal(got.name, expected.name);
        } else {
          assert.ok(!(got instanceof Error), String(got));
          assert.deepEqual(same(got), same(expected));
        }
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("the direct batch writer writes the frames as the writable would", async () => {
  const [client, server] = await socketPair();
  const stream = framedStream(connByteStream(client), newline(), { text: true });
  const direct = directWritesOf(stream.writable)!;
  assert.ok(direct !== undefined);
  await direct.write(["one", "two"]);
  await direct.write("three");
  const writer = stream.writable.getWriter();
  await writer.write("four");
  // A frame that cannot be a line fails its write, and nothing of it is sent.
  await assert.rejects(direct.write("bad\nline"), TypeError);
  await writer.close();
  const received = new TextDecoder().decode(
    new Uint8Array(await new Response(server.readable).arrayBuffer()),
  );
  assert.equal(received, "one\ntwo\nthree\nfour\n");
  await stream.close();
});

// framedStream makes its Web Streams only when asked for (an idle connection of a server holds
// neither): the batch writer alone writes and ends the writing side, the writable made later still
// writes in order with it, and `onFirstFrame` is told once, whichever way the frames are read.

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
