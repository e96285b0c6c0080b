/**
 * Remote objects from another language: `python/objects_client.py`
 * (Python's standard library only) holds references to a parley server's
 * objects over JSON-RPC on TCP, calls them, passes a callback that the
 * server calls back, pipelines a call on a result it has not received, and
 * releases what it holds; the server's reference table shrinks back to zero.
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../../codecs/json_rpc.ts";
import { exposed, type ObjectSession, serveObjects } from "../../rpc/objects/mod.ts";
import { newline } from "../../rpc/framing/delimiter.ts";
import { serveTcp } from "../../rpc/transports/tcp.ts";
import { DEBIAN_PYTHON, formatOutput, run } from "./_process.ts";
import { testNeeding } from "../_needs.ts";

const test = testNeeding("python3");

const CLIENT = new URL("./python/objects_client.py", import.meta.url).pathname;

class Counter {
  #n: number;
  constructor(start: number) {
    this.#n = start;
  }
  @exposed
  increment(by: number): number {
    return this.#n += by;
  }
  @exposed
  get value(): number {
    return this.#n;
  }
  @exposed
  async work(steps: number, progress: (i: number, of: number) => unknown): Promise<string> {
    for (let i = 1; i <= steps; i++) await progress(i, steps);
    return "done";
  }
}

test("a Python program (standard library only) uses parley's remote objects over JSON-RPC: references, callbacks, pipelining, release", async () => {
  const sessions: ObjectSession[] = [];
  let session: ObjectSession | undefined;
  const root = {
    makeCounter: (start: number) => new Counter(start),
    stats: () => ({ exports: session?.exportCount ?? 0 }),
    echo: (value: unknown) => value,
    numbers: async function* (count: number) {
      for (let i = 0; i < count; i++) yield i;
    },
    _secret: () => "must not be reachable",
  };
  await using server = serveTcp({ port: 0 }, {
    codec: jsonRpc(),
    framing: newline(),
    service: serveObjects(root, {
      onSession: (s) => {
        session = s;
        sessions.push(s);
      },
    }),
  });
  const client = await run(DEBIAN_PYTHON, {
    args: [CLIENT, "127.0.0.1", String(server.address.port)],
    timeout: 60_000,
  });
  assert.equal(client.code, 0, `objects_client.py failed\n${formatOutput(client)}`);
  assert.match(client.stdout, /all \d+ checks passed \(objects\)/);
  assert.equal(sessions.length, 1);
  assert.equal(sessions[0]!.exportCount, 0, "everything the client held was released");
});
