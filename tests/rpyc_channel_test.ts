// RPyC's channel on its own: packets leave in the order sent even when a
// compressed one takes longer to make, the packets of one turn leave in one
// write, and a peer that never reads its replies stops being read (the
// backlog of unwritten bytes is bounded), over in-memory streams and over a
// real socket through parley's shortcut past Web Streams.

import assert from "node:assert/strict";
import { RpycChannel } from "../protocols/rpyc/channel.ts";
import { connByteStream } from "../rpc/transports/_conn.ts";
import type { ByteStream } from "../rpc/types.ts";

// A byte stream whose writes are recorded and held until `release()`.
function recording(): {
  stream: ByteStream;
  writes: Uint8Array[];
  input: WritableStreamDefaultWriter<Uint8Array>;
  release(): void;
} {
  const writes: Uint8Array[] = [];
  let gate = Promise.withResolvers<void>();
  let held = true;
  const incoming = new TransformStream<Uint8Array, Uint8Array>();
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      writes.push(chunk.slice());
      if (held) await gate.promise;
    },
  }, { highWaterMark: 1 });
  return {
    stream: { readable: incoming.readable, writable, close() {} },
    writes,
    input: incoming.writable.getWriter(),
    release() {
      held = false;
      gate.resolve();
      gate = Promise.withResolvers();
    },
  };
}

function packet(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + bytes.length + 1);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 5);
  out[out.length - 1] = 0x0a;
  return out;
}

Deno.test("packets leave in the order sent, a compressed one holding back those behind it", async () => {
  const pipe = new TransformStream<Uint8Array, Uint8Array>();
  const sender = new RpycChannel({
    readable: new ReadableStream(),
    writable: pipe.writable,
    close() {},
  });
  const receiver = new RpycChannel({
    readable: pipe.readable,
    writable: new WritableStream(),
    close() {},
  });
  const big = new Uint8Array(100_000).fill(3); // compressed: made asynchronously
  const sent = [
    sender.send(big),
    sender.send(new Uint8Array([1])),
    sender.send(new Uint8Array([2])),
  ];
  assert.deepEqual(await receiver.recv(), big);
  assert.deepEqual(await receiver.recv(), new Uint8Array([1]));
  assert.deepEqual(await receiver.recv(), new Uint8Array([2]));
  await Promise.all(sent);
});

Deno.test("the packets of one turn leave in one write", async () => {
  const { stream, writes, release } = recording();
  release();
  const channel = new RpycChannel(stream);
  await Promise.all([1, 2, 3, 4].map((n) => channel.send(new Uint8Array([n]))));
  assert.equal(writes.length, 1);
  assert.equal(writes[0]!.length, 4 * 7);
});

Deno.test("past maxBacklogBytes unwritten, recv waits until the writes drain", async () => {
  const { stream, input, release } = recording();
  const channel = new RpycChannel(stream, { maxBacklogBytes: 1000 });
  // A request waits to be read; the replies cannot leave (writes held).
  input.write(packet(new Uint8Array([42]))).catch(() => {});
  const first = channel.send(new Uint8Array(600));
  const second = channel.send(new Uint8Array(600));
  const reading = channel.recv();
  let read = false;
  reading.then(() => read = true);
  // A whole task later the packet is there to read, but the backlog holds it.
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(read, false);
  release();
  assert.deepEqual(await reading, new Uint8Array([42]));
  await Promise.all([first, second]);
});

Deno.test("over a socket through the shortcut: 200 packets in order, then the end", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = listener.accept();
  const client = new RpycChannel(
    connByteStream(await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port })),
  );
  const server = new RpycChannel(connByteStream(await accepting));
  const payloads = Array.from({ length: 200 }, (_, i) => new Uint8Array(i + 1).fill(i));
  const sent = payloads.map((p) => client.send(p));
  for (const p of payloads) assert.deepEqual(await server.recv(), p);
  await Promise.all(sent);
  await client.close();
  assert.equal(await server.recv(), null);
  await server.close();
});
