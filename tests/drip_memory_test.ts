/**
 * Frames dripped a byte per read cost memory in their bytes, not in their
 * reads: the calculator in a child process gets 31 connections, each sent
 * most of a 128 KiB frame in one write, then 4 KiB of it one byte per write,
 * a byte on each connection in turn, with a call on a 32nd connection
 * between rounds so that the server reads every byte on its own (127,000
 * reads). After a rehearsal that grows the heap to what so many reads need,
 * its resident memory (VmRSS) may grow by at most 4× the bytes it holds plus
 * 16 MiB. Holding each read's array cost ~570 bytes per read: ~66 MiB here
 * (newline and length-prefix; self-delimiting already copied). Then the last
 * bytes arrive and every frame is answered.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { msgpackRpc } from "../codecs/msgpack_rpc.ts";
import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { selfDelimiting } from "../rpc/framing/self_delimiting.ts";
import type { Codec, Framing } from "../rpc/types.ts";
import { startCalculator } from "./interop/_process.ts";
import { readMessage, residentBytes, writeAll } from "./_memory.ts";

const MiB = 1024 * 1024;
const CONNECTIONS = 32;
const TEXT = 128 * 1024;
const DRIPPED = 4 * 1024;

const msgpack = msgpackRpc();
const cases: { name: string; args: string[]; codec: Codec; framing: Framing }[] = [
  { name: "JSON-RPC, newline", args: ["--codec", "jsonrpc"], codec: jsonRpc(), framing: newline() },
  {
    name: "JSON-RPC, length-prefix",
    args: ["--codec", "jsonrpc", "--framing", "length-prefix"],
    codec: jsonRpc(),
    framing: lengthPrefix(),
  },
  {
    name: "msgpack-rpc, self-delimiting",
    args: ["--codec", "msgpack"],
    codec: msgpack,
    framing: selfDelimiting(msgpack.measure!.bind(msgpack)),
  },
];

for (const { name, args, codec, framing } of cases) {
  Deno.test(`${name}: frames dripped a byte per write cost the server memory in their bytes`, async () => {
    await using server = await startCalculator(...args);
    const frameOf = (text: string) => {
      const payload = codec.encode({ kind: "request", id: 1, method: "echo", params: [text] });
      const framed = framing.frame(
        typeof payload === "string" ? new TextEncoder().encode(payload) : payload,
      );
      return framed instanceof Uint8Array ? framed : new Uint8Array([...framed[0]!, ...framed[1]!]);
    };
    const conns: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < CONNECTIONS; i++) {
        const conn = await Deno.connect({ hostname: server.hostname, port: server.port });
        conn.setNoDelay(true);
        conns.push(conn);
      }
      const [control] = conns as [Deno.TcpConn];
      // A call on each first, so that what calls load is in the baseline.
      for (const conn of conns) {
        await writeAll(conn, frameOf("warm"));
        assert.deepEqual(await readMessage(conn, framing, codec), {
          kind: "result",
          id: 1,
          result: "warm",
        });
      }
      const ping = frameOf("ping");
      const drippers = conns.slice(1);
      // Sends all of each frame but its last DRIPPED + 1 bytes in one write,
      // then DRIPPED bytes one per write, a byte per connection in turn.
      const drip = async (frames: Uint8Array[]) => {
        for (const [i, conn] of drippers.entries()) {
          await writeAll(conn, frames[i]!.subarray(0, frames[i]!.length - 1 - DRIPPED));
        }
        for (let k = DRIPPED; k > 0; k--) {
          for (const [i, conn] of drippers.entries()) {
            const at = frames[i]!.length - 1 - k;
            await conn.write(frames[i]!.subarray(at, at + 1));
          }
          // Answered after the server has read the bytes written before it.
          await control.write(ping);
          await readMessage(control, framing, codec);
        }
      };
      const finish = async (frames: Uint8Array[], texts: string[]) => {
        for (const [i, conn] of drippers.entries()) {
          await conn.write(frames[i]!.subarray(frames[i]!.length - 1));
          const reply = await readMessage(conn, framing, codec);
          assert.equal((reply as { result?: unknown }).result, texts[i]);
        }
      };
      const textsOf = (first: number) =>
        drippers.map((_, i) => String.fromCharCode(first + i % 26).repeat(TEXT));
      // A rehearsal first: the heap grows to what so many reads need.
      const rehearsal = textsOf(0x41);
      await drip(rehearsal.map(frameOf));
      await finish(rehearsal.map(frameOf), rehearsal);
      const texts = textsOf(0x61);
      const frames = texts.map(frameOf);
      const held = frames.reduce((sum, frame) => sum + frame.length - 1, 0);
      const before = residentBytes(server.child.pid);
      await drip(frames);
      const growth = residentBytes(server.child.pid) - before;
      console.log(
        `${name}: ${(held / MiB).toFixed(2)} MiB held on ${drippers.length} connections ` +
          `(${DRIPPED} bytes each one per write), server RSS grew ${(growth / MiB).toFixed(1)} MiB`,
      );
      assert.ok(
        growth <= 4 * held + 16 * MiB,
        `RSS grew ${(growth / MiB).toFixed(1)} MiB for ${(held / MiB).toFixed(2)} MiB held`,
      );
      await finish(frames, texts);
    } finally {
      for (const conn of conns) conn.close();
    }
  });
}
