// parley's RPyC client against a hostile server (a fake written here, on
// real sockets): truncated, oversized and bomb packets, absurd brine depth,
// requests for unknown handlers, replies to requests never sent. Each ends
// with a clear error and the connection closed (or, for a request, an
// exception reply), and the other connections of the process go on.

import assert from "node:assert/strict";
import {
  ConnectionClosedError,
  DecodeError,
  FrameSizeError,
  ProtocolError,
} from "../rpc/errors.ts";
import {
  connectRpyc,
  decodeException,
  decodeMessage,
  encodeMessage,
  HANDLE,
  LABEL,
  MSG,
  type OpenRpycOptions,
  RpycChannel,
  type RpycConnection,
} from "../rpc/transports/rpyc.ts";
import { header } from "./_rpyc_frames.ts";

interface Fake extends AsyncDisposable {
  readonly conn: RpycConnection;
  /** The server's channel to the client, after GETROOT was answered. */
  readonly channel: RpycChannel;
  /** The server's raw connection. */
  readonly raw: Deno.Conn;
}

// A server that answers GETROOT with a reference, then does what the test says.
async function fake(options: OpenRpycOptions = {}): Promise<Fake> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const connecting = connectRpyc({ hostname: "127.0.0.1", port: listener.addr.port }, options);
  const raw = await accepted;
  listener.close();
  const channel = new RpycChannel(raw);
  const { seq } = decodeMessage((await channel.recv())!);
  await channel.send(
    encodeMessage({ kind: MSG.REPLY, seq, payload: [LABEL.REMOTE_REF, ["Root", 1, 2]] }),
  );
  const conn = await connecting;
  return {
    conn,
    channel,
    raw,
    async [Symbol.asyncDispose]() {
      await conn.close();
      await channel.close().catch(() => {});
    },
  };
}

// Waits for the client to end the session, and returns why.
async function reason(conn: RpycConnection): Promise<unknown> {
  await conn.closed;
  return conn.session.closeReason;
}

Deno.test("a truncated packet: pending calls fail, the connection closes", async () => {
  await using f = await fake();
  const pending = assert.rejects(
    f.conn.root.add!(1, 2),
    (e) => e instanceof ConnectionClosedError && e.cause instanceof DecodeError,
  );
  await f.channel.recv(); // the CALLATTR
  await f.raw.write(header(100));
  await f.raw.write(new Uint8Array(10));
  f.raw.closeWrite();
  await pending;
  assert.match(String(await reason(f.conn)), /10 bytes short|91 bytes short/);
});

Deno.test("an oversized packet is refused from its header, and the socket closed", async () => {
  await using f = await fake({ maxFrameBytes: 1024 });
  const pending = assert.rejects(f.conn.root.add!(1, 2), ConnectionClosedError);
  await f.channel.recv();
  await f.raw.write(header(0x7fffffff));
  await pending;
  const why = await reason(f.conn);
  assert.ok(why instanceof FrameSizeError && why.size === 0x7fffffff && why.limit === 1024);
  assert.equal(await f.channel.recv(), null); // the client closed its end
});

Deno.test("a zlib bomb is refused at the inflated limit", async () => {
  await using f = await fake({ maxInflatedBytes: 1024 * 1024 });
  const zeros = new Blob([new Uint8Array(32 * 1024 * 1024)]).stream().pipeThrough(
    new CompressionStream("deflate"),
  );
  const bomb = new Uint8Array(await new Response(zeros).arrayBuffer());
  await f.raw.write(new Uint8Array([...header(bomb.length, 1), ...bomb, 0x0a]));
  const why = await reason(f.conn);
  assert.ok(why instanceof FrameSizeError && why.limit === 1024 * 1024);
});

Deno.test("brine of absurd depth is a DecodeError, the connection closed", async () => {
  await using f = await fake();
  const deep = new Uint8Array(200_000).fill(0x10);
  await f.raw.write(new Uint8Array([...header(deep.length), ...deep, 0x0a]));
  const why = await reason(f.conn);
  assert.ok(why instanceof DecodeError);
  assert.match(why.message, /nested deeper than 100/);
});

Deno.test("a request for an unknown handler gets an exception reply; PING its echo; the client goes on", async () => {
  await using f = await fake();
  await f.channel.send(
    encodeMessage({ kind: MSG.REQUEST, seq: 77, payload: [99, [LABEL.VALUE, []]] }),
  );
  const refused = decodeMessage((await f.channel.recv())!);
  assert.equal(refused.kind, MSG.EXCEPTION);
  assert.equal(refused.seq, 77);
  const exception = decodeException(refused.payload);
  assert.equal(exception.name, "ValueError");
  assert.match(String(exception.args[0]), /does not serve handler #99/);
  // GETATTR on a value, not an object this side serves: refused too.
  await f.channel.send(encodeMessage({
    kind: MSG.REQUEST,
    seq: 78,
    payload: [HANDLE.GETATTR, [LABEL.VALUE, [1, "x"]]],
  }));
  assert.equal(decodeMessage((await f.channel.recv())!).kind, MSG.EXCEPTION);
  // A malformed request payload: still an answer, never silence.
  await f.channel.send(encodeMessage({ kind: MSG.REQUEST, seq: 79, payload: "junk" }));
  const junk = decodeMessage((await f.channel.recv())!);
  assert.deepEqual([junk.kind, junk.seq], [MSG.EXCEPTION, 79]);
  await f.channel.send(
    encodeMessage({ kind: MSG.REQUEST, seq: 80, payload: [HANDLE.PING, [LABEL.VALUE, ["abc"]]] }),
  );
  assert.deepEqual(decodeMessage((await f.channel.recv())!), {
    kind: MSG.REPLY,
    seq: 80,
    payload: [LABEL.VALUE, "abc"],
  });
  // The client's own calls still work.
  const call = f.conn.root.add!(1, 2);
  const { seq } = decodeMessage((await f.channel.recv())!);
  await f.channel.send(encodeMessage({ kind: MSG.REPLY, seq, payload: [LABEL.VALUE, 3] }));
  assert.equal(await call, 3);
});

Deno.test("a reply to a request never sent closes that connection only", async () => {
  await using f = await fake();
  await using other = await fake();
  const pending = assert.rejects(f.conn.root.add!(1, 2), ConnectionClosedError);
  await f.channel.recv();
  await f.channel.send(encodeMessage({ kind: MSG.REPLY, seq: 999, payload: [LABEL.VALUE, null] }));
  await pending;
  const why = await reason(f.conn);
  assert.ok(why instanceof ProtocolError);
  assert.match(why.message, /request 999, which was never sent/);
  // The other connection is untouched.
  const call = other.conn.root.add!(2, 2);
  const { seq } = decodeMessage((await other.channel.recv())!);
  await other.channel.send(encodeMessage({ kind: MSG.REPLY, seq, payload: [LABEL.VALUE, 4] }));
  assert.equal(await call, 4);
});

Deno.test("a reply of the wrong shape or a bad label ends the session with a DecodeError", async () => {
  for (const payload of [[9, 1], "not a box", [LABEL.REMOTE_REF, ["only", 1]]]) {
    await using f = await fake();
    const pending = assert.rejects(f.conn.root.add!(1, 2), ConnectionClosedError);
    const { seq } = decodeMessage((await f.channel.recv())!);
    await f.channel.send(encodeMessage({ kind: MSG.REPLY, seq, payload }));
    await pending;
    assert.ok(await reason(f.conn) instanceof DecodeError);
  }
});
