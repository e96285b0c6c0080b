/**
 * `deno task bench`: calls per second of JSON-RPC over TCP with 1 and 64
 * calls in flight on one connection, against two baselines measured in the
 * same run: a raw length-prefixed echo on a bare socket (no streams, no RPC
 * layer: the ceiling) and the same echo through parley's framed streams (no
 * RPC layer: where the byte path's cost ends and the RPC layer's begins).
 * Rounds alternate A B A B because which core a process lands on moves
 * absolute figures a lot; the ratios are what to read.
 *
 * @module
 */

import { jsonRpc } from "../../codecs/json_rpc.ts";
import { msgpackRpc } from "../../codecs/msgpack_rpc.ts";
import { selfDelimiting } from "../../rpc/framing/self_delimiting.ts";
import { drive, ROUNDS, SECONDS, startServer } from "./_harness.ts";
import { lengthPrefixed, readLengthPrefixed } from "./_minimal.ts";
import { Report } from "./_report.ts";
import { framedStream } from "../../rpc/framed.ts";
import { newline } from "../../rpc/framing/delimiter.ts";
import { lengthPrefix } from "../../rpc/framing/length_prefix.ts";
import { connByteStream, connectTcp } from "../../rpc/transports/tcp.ts";

// The baseline: length-prefixed frames over a bare Deno.Conn, with writes
// coalesced and replies parsed in one tight loop; no streams, no RPC layer.
async function rawEcho(depth: number): Promise<number> {
  const server = await startServer("raw");
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  // About the size of a JSON-RPC request for add(i, i), behind a 4-byte length.
  const body = new TextEncoder().encode(
    '{"jsonrpc":"2.0","id":12345,"method":"add","params":[17,17]}',
  );
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, 4);
  const waiting: (() => void)[] = [];
  let outgoing = 0;
  let flushing = false;
  const flush = async () => {
    flushing = true;
    while (outgoing > 0) {
      const batch = new Uint8Array(outgoing * frame.length);
      for (let i = 0; i < outgoing; i++) batch.set(frame, i * frame.length);
      outgoing = 0;
      let written = 0;
      while (written < batch.length) written += await conn.write(batch.subarray(written));
    }
    flushing = false;
  };
  const reading = (async () => {
    const buffer = new Uint8Array(256 * 1024);
    let pending = 0; // bytes of the current frame still to come
    let header = 0; // header bytes seen of the current frame
    let length = 0;
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) return;
      for (let i = 0; i < n;) {
        if (header < 4) {
          length = (length << 8) | buffer[i++]!;
          if (++header === 4) pending = length;
        } else {
          const take = Math.min(pending, n - i);
          i += take;
          pending -= take;
        }
        if (header === 4 && pending === 0) {
          header = 0;
          length = 0;
          waiting.shift()?.();
        }
      }
    }
  })();
  const rate = await drive(depth, () => {
    const { promise, resolve } = Promise.withResolvers<void>();
    waiting.push(resolve);
    outgoing++;
    if (!flushing) queueMicrotask(flush);
    return promise;
  });
  conn.close();
  await reading.catch(() => {});
  await server.stop();
  return rate;
}

// The least a JSON-RPC client and server can do, with no framework: a map of
// pending calls, JSON.stringify / JSON.parse, one write per turn, and reads
// split by newline (`newline`) or by a 4-byte length (`length`). What any
// JSON-RPC implementation pays on top of the raw echo, and so the fairest
// yardstick of what parley's layers cost.
async function minimalJsonRpc(depth: number, framing: "newline" | "length"): Promise<number> {
  const server = await startServer(
    framing === "newline" ? "jsonrpc-minimal" : "jsonrpc-minimal-length",
  );
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  conn.setNoDelay(true);
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const pending = new Map<number, (value: unknown) => void>();
  let nextId = 1;
  let outgoing: string[] = [];
  let flushing = false;
  const settle = (text: string) => {
    const { id, result } = JSON.parse(text);
    const resolve = pending.get(id);
    pending.delete(id);
    resolve?.(result);
  };
  const flush = async () => {
    flushing = true;
    while (outgoing.length > 0) {
      const bytes = framing === "newline"
        ? encoder.encode(outgoing.join(""))
        : lengthPrefixed(encoder, outgoing);
      outgoing = [];
      let written = 0;
      while (written < bytes.length) written += await conn.write(bytes.subarray(written));
    }
    flushing = false;
  };
  const reading = (async () => {
    const buffer = new Uint8Array(256 * 1024);
    if (framing === "newline") {
      let rest = "";
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) return;
        const lines = (rest + decoder.decode(buffer.subarray(0, n))).split("\n");
        rest = lines.pop()!;
        for (const line of lines) settle(line);
      }
    }
    await readLengthPrefixed(conn, buffer, (frame) => settle(decoder.decode(frame)));
  })();
  let i = 0;
  const rate = await drive(depth, () => {
    const id = nextId++;
    const { promise, resolve } = Promise.withResolvers<unknown>();
    pending.set(id, resolve);
    const text = JSON.stringify({
      jsonrpc: "2.0",
      id,
      method: "add",
      params: [i & 0xffff, i++ & 0xffff],
    });
    outgoing.push(framing === "newline" ? text + "\n" : text);
    if (!flushing) queueMicrotask(flush);
    return promise;
  });
  conn.close();
  await reading.catch(() => {});
  await server.stop();
  return rate;
}

// parley's framed streams with no RPC layer: where the byte path's cost ends
// and the RPC layer's begins.
async function streamEcho(depth: number): Promise<number> {
  const server = await startServer("stream-echo");
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const stream = framedStream(connByteStream(conn), lengthPrefix());
  const writer = stream.writable.getWriter();
  const waiting: (() => void)[] = [];
  const reading = (async () => {
    for await (const chunk of stream.readable) {
      const frames = Array.isArray(chunk) ? chunk.length : 1;
      for (let i = 0; i < frames; i++) waiting.shift()?.();
    }
  })();
  const payload = new TextEncoder().encode(
    '{"jsonrpc":"2.0","id":12345,"method":"add","params":[17,17]}',
  );
  const rate = await drive(depth, () => {
    const { promise, resolve } = Promise.withResolvers<void>();
    waiting.push(resolve);
    writer.write(payload);
    return promise;
  });
  await stream.close();
  await reading.catch(() => {});
  await server.stop();
  return rate;
}

async function rpcCalls(
  depth: number,
  mode: "jsonrpc-newline" | "jsonrpc-length" | "msgpack",
): Promise<number> {
  const server = await startServer(mode);
  const msgpack = msgpackRpc();
  const framing = mode === "jsonrpc-newline"
    ? newline()
    : mode === "msgpack"
    ? selfDelimiting(msgpack.measure!.bind(msgpack))
    : lengthPrefix();
  const client = await connectTcp({ hostname: "127.0.0.1", port: server.port }, {
    codec: mode === "msgpack" ? msgpack : jsonRpc(),
    framing,
  });
  let i = 0;
  const rate = await drive(depth, () => client.call("add", [i & 0xffff, i++ & 0xffff]));
  await client.close();
  await server.stop();
  return rate;
}

const report = new Report();
// `BENCH_ONLY=64` (or `1`) runs one depth only, for quick comparisons.
const depths = [1, 64].filter((d) => (Deno.env.get("BENCH_ONLY") ?? String(d)) === String(d));

for (let round = 1; round <= ROUNDS; round++) {
  for (const depth of depths) {
    const raw = await rawEcho(depth);
    const streams = await streamEcho(depth);
    const minimal = await minimalJsonRpc(depth, "newline");
    const nl = await rpcCalls(depth, "jsonrpc-newline");
    const minimalLength = await minimalJsonRpc(depth, "length");
    const lp = await rpcCalls(depth, "jsonrpc-length");
    const mp = await rpcCalls(depth, "msgpack");
    report.record(`raw echo, ${depth} in flight`, raw);
    report.record(`stream echo, ${depth} in flight`, streams);
    report.record(`minimal JSON-RPC newline (no framework), ${depth} in flight`, minimal);
    report.record(`jsonrpc newline, ${depth} in flight`, nl);
    report.record(
      `minimal JSON-RPC length-prefix (no framework), ${depth} in flight`,
      minimalLength,
    );
    report.record(`jsonrpc length-prefix, ${depth} in flight`, lp);
    report.record(`msgpack-rpc self-delimiting, ${depth} in flight`, mp);
    report.record(`ratio stream echo/raw, ${depth} in flight`, streams / raw);
    report.record(`ratio newline/minimal newline, ${depth} in flight`, nl / minimal);
    report.record(
      `ratio length-prefix/minimal length-prefix, ${depth} in flight`,
      lp / minimalLength,
    );
    report.record(`ratio minimal newline/raw, ${depth} in flight`, minimal / raw);
    report.record(`ratio newline/raw, ${depth} in flight`, nl / raw);
    report.record(`ratio msgpack/jsonrpc newline, ${depth} in flight`, mp / nl);
    console.error(
      `round ${round}, depth ${depth}: stream/raw ${(streams / raw).toFixed(2)}, newline/minimal ${
        (nl / minimal).toFixed(2)
      }, length/minimal ${(lp / minimalLength).toFixed(2)}`,
    );
  }
}

report.print(
  `JSON-RPC over TCP against its ceilings, ${ROUNDS} alternating rounds of ${SECONDS} s (median)`,
);
