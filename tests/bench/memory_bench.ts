/**
 * `deno task bench`, memory: the bytes a JSON-RPC call allocates over TCP
 * (client and server in this process, both ends counted, from V8's
 * `total_allocated_bytes` over a bounded loop, 64 in flight), and the
 * resident memory a parley server adds per idle TCP connection, with
 * `BENCH_CONNECTIONS` (10,000 by default) connections held open, each
 * having made one call. Needs that many descriptors (`ulimit -n`) on this
 * side and on the server's; it says so and holds fewer when the limit is
 * lower.
 *
 * @module
 */

import { getHeapStatistics } from "node:v8";
import { jsonRpc } from "../../codecs/json_rpc.ts";
import { newline } from "../../rpc/framing/delimiter.ts";
import { lengthPrefix } from "../../rpc/framing/length_prefix.ts";
import { connectTcp, serveTcp } from "../../rpc/transports/tcp.ts";
import type { Framing } from "../../rpc/types.ts";
import { residentBytes } from "../_memory.ts";

const CALLS = 50_000;
const CONNECTIONS = Number(Deno.env.get("BENCH_CONNECTIONS") ?? "10000");
// In V8's statistics since V8 12, though not yet in Node's types.
const allocated = () =>
  (getHeapStatistics() as { total_allocated_bytes?: number }).total_allocated_bytes ?? NaN;

// Bytes allocated per call, both ends together, after a warm-up.
async function bytesPerCall(framing: () => Framing): Promise<number> {
  const server = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    codec: jsonRpc(),
    framing: framing(),
    service: { add: (a: number, b: number) => a + b },
  });
  const client = await connectTcp({
    hostname: "127.0.0.1",
    port: (server.addr as Deno.NetAddr).port,
  }, {
    codec: jsonRpc(),
    framing: framing(),
  });
  // 64 lanes that stop once CALLS calls are made.
  let calls = 0;
  const run = () =>
    Promise.all(Array.from({ length: 64 }, async () => {
      while (calls < CALLS) await client.call("add", [calls & 0xffff, calls++ & 0xffff]);
    }));
  await run();
  calls = 0;
  const before = allocated();
  await run();
  const bytes = (allocated() - before) / CALLS;
  await client.close();
  await server.shutdown();
  return bytes;
}

// What the server's resident memory grows by per connection held open.
async function bytesPerIdleConnection(): Promise<{ count: number; bytes: number }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--v8-flags=--expose-gc",
      new URL("./_memory_server.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const port = Number((await reader.read()).value?.trim().split(" ")[1]);
  reader.releaseLock();
  const encoder = new TextEncoder();
  const request = encoder.encode('{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]}\n');
  const gc = encoder.encode('{"jsonrpc":"2.0","method":"gc"}\n');
  const reply = new Uint8Array(256);
  const open = async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(request);
    await conn.read(reply); // the server has served it: the connection is set up
    return conn;
  };
  const settle = async () => {
    const conn = await open();
    await conn.write(gc);
    await new Promise((resolve) => setTimeout(resolve, 500));
    conn.close();
  };
  // A warmed server (code compiled, one connection served) is the baseline.
  (await open()).close();
  await settle();
  const before = residentBytes(child.pid);
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < CONNECTIONS; i += 100) {
      const batch = Math.min(100, CONNECTIONS - i);
      conns.push(...await Promise.all(Array.from({ length: batch }, open)));
    }
  } catch (error) {
    console.error(`holding ${conns.length} connections only (ulimit -n?): ${error}`);
  }
  await settle();
  const after = residentBytes(child.pid);
  for (const conn of conns) conn.close();
  child.kill("SIGTERM");
  await child.status;
  return { count: conns.length, bytes: (after - before) / Math.max(1, conns.length) };
}

const newlineBytes = await bytesPerCall(newline);
const lengthBytes = await bytesPerCall(lengthPrefix);
const idle = await bytesPerIdleConnection();
console.log(`\nMemory of JSON-RPC over TCP:\n`);
console.log("| measurement | value |");
console.log("|---|---|");
console.log(
  `| allocated per call, newline, both ends, 64 in flight | ${Math.round(newlineBytes)} B |`,
);
console.log(
  `| allocated per call, length-prefix, both ends, 64 in flight | ${Math.round(lengthBytes)} B |`,
);
console.log(
  `| server RSS per idle connection (${idle.count} held, goal ≤ 20 KB) | ${
    (idle.bytes / 1024).toFixed(1)
  } KB |`,
);
