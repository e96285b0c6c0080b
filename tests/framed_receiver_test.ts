// framedStream's reader tells a receiver each read's frames (`readTo`, what
// the peer's read loop uses), and connByteStream writes a chunk whole
// whatever the socket takes per write: real sockets, the paths of issue 21's
// fourth pass.

import assert from "node:assert/strict";
import { framedStream } from "../rpc/framed.ts";
import { directFramesOf, directWritesOf } from "../rpc/_direct.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
import { connByteStream } from "../rpc/transports/tcp.ts";
import type { Frame } from "../rpc/types.ts";

async function socketPair(): Promise<[Deno.Conn, Deno.Conn]> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  return [client, await accepted];
}

// Every batch readTo hands its receiver, until null or an error.
function readAllTo(
  conn: Deno.Conn,
  text: boolean,
): Promise<{ batches: Frame[][]; error?: unknown }> {
  const stream = framedStream(
    connByteStream(conn),
    text ? newline({ maxFrameSize: 64 }) : lengthPrefix(),
    { text },
  );
  const direct = directFramesOf(stream)!;
  assert.ok(direct.readTo !== undefined);
  const batches: Frame[][] = [];
  return new Promise((resolve) => {
    const receiver = {
      framesRead(frames: readonly Frame[] | null) {
        if (frames === null) return resolve({ batches });
        // Copied now: bytes frames may be views of a reused buffer.
        batches.push(frames.map((f) => typeof f === "string" ? f : f.slice()));
        direct.readTo!(receiver);
      },
      readFailed(error: unknown) {
        resolve({ batches, error });
      },
    };
    direct.readTo!(receiver);
  });
}

Deno.test("readTo tells its receiver the frames of each read, a frame dripped over reads once whole, then null", async () => {
  const [client, server] = await socketPair();
  const reading = readAllTo(server, true);
  const utf8 = new TextEncoder();
  await client.write(utf8.encode("one\ntwo\n"));
  await new Promise((resolve) => setTimeout(resolve, 20));
  // A line that holds U+FFFD itself is text like any other.
  for (const byte of utf8.encode("thr\uFFFDee\n")) {
    await client.write(new Uint8Array([byte]));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  client.close();
  const { batches, error } = await reading;
  assert.equal(error, undefined);
  assert.deepEqual(batches.flat(), ["one", "two", "thr\uFFFDee"]);
  assert.deepEqual(batches[0], ["one", "two"]);
  server.close();
});

Deno.test("readTo tells its receiver the framing's error: a line over maxFrameSize", async () => {
  const [client, server] = await socketPair();
  const reading = readAllTo(server, true);
  await client.write(new TextEncoder().encode("ok\n"));
  await new Promise((resolve) => setTimeout(resolve, 20));
  await client.write(new TextEncoder().encode("x".repeat(100) + "\n"));
  const { batches, error } = await reading;
  assert.deepEqual(batches.flat(), ["ok"]);
  assert.ok(error instanceof RangeError);
  client.close();
  server.close();
});

Deno.test("a batch of several MiB, more than the socket takes in one write, is written whole and in order", async () => {
  const [client, server] = await socketPair();
  const stream = framedStream(connByteStream(client), lengthPrefix());
  const writes = directWritesOf(stream)!;
  const big = new Uint8Array(6 * 1024 * 1024).map((_, i) => i % 251);
  const frames = [big, new Uint8Array([1, 2, 3])];
  const written = writes.write(frames);
  const reading = readAllTo(server, false);
  await written;
  await writes.close();
  const { batches, error } = await reading;
  assert.equal(error, undefined);
  const received = batches.flat() as Uint8Array[];
  assert.equal(received.length, 2);
  assert.deepEqual(received[0], big);
  assert.deepEqual(received[1], new Uint8Array([1, 2, 3]));
  await stream.close();
  server.close();
});
