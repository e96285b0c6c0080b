/**
 * The fuzz harness itself: inputs are reproducible from their seeds and
 * cover every kind, and the probe tells a hang from a reply, a close and a
 * refusal on real sockets, so that the fuzz suite's oracles can be trusted.
 */

import assert from "node:assert/strict";
import type { InputKind } from "./_inputs.ts";
import { PAIRS } from "./_pairs.ts";
import { inputSeed, Prng } from "./_prng.ts";
import { probe } from "./_probe.ts";
import { memoryOf } from "./_server.ts";

const SEEDS = Array.from({ length: 400 }, (_, i) => inputSeed(1, i));

Deno.test("the PRNG gives the same numbers for the same seed, others for another", () => {
  const sequence = (seed: number) => {
    const rng = new Prng(seed);
    return Array.from({ length: 8 }, () => rng.next());
  };
  assert.deepEqual(sequence(42), sequence(42));
  assert.notDeepEqual(sequence(42), sequence(43));
  assert.equal(new Set(sequence(42)).size, 8, "a sequence does not repeat at once");
  assert.equal(new Set(SEEDS).size, SEEDS.length, "the input seeds of one run differ");
});

for (const pair of PAIRS) {
  Deno.test(`${pair.name}: an input is made again from its seed alone, and every kind comes up`, () => {
    const kinds = new Set<InputKind>();
    for (const seed of SEEDS) {
      const input = pair.input(seed, 4000);
      assert.deepEqual(pair.input(seed, 4000), input, `seed ${seed}`);
      assert.ok(
        input.writes.length > 0 || input.handshake !== undefined,
        `seed ${seed}: nothing to send`,
      );
      kinds.add(input.kind);
    }
    const expected: InputKind[] = pair.name.endsWith("-http")
      ? ["mutated-payload", "mutated-frame", "random-bytes", "http-attack"]
      : pair.name.endsWith("-ws")
      ? ["mutated-payload", "several-messages", "mutated-frame", "random-bytes", "websocket-attack"]
      : ["mutated-frame", "mutated-payload", "several-messages", "random-bytes", "framing-attack"];
    assert.deepEqual([...kinds].sort(), expected.sort());
  });
}

const input = (bytes: number[]) => ({
  seed: 1,
  kind: "random-bytes" as const,
  label: "test",
  writes: [new Uint8Array(bytes)],
  drip: false,
});

/** Serves each connection with `handle` on a free port until the body is done. */
async function withServer(
  handle: (conn: Deno.Conn) => Promise<void>,
  body: (port: number) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const handled: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) handled.push(handle(conn).catch(() => {}));
  })();
  try {
    await body(listener.addr.port);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    await Promise.all(handled);
  }
}

Deno.test("the probe: a server that neither answers nor closes is a hang, within the bound", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  await withServer(async (conn) => {
    await released; // holds the connection open, reading nothing
    conn.close();
  }, async (port) => {
    const result = await probe(port, input([1, 2, 3]), 300);
    release();
    assert.equal(result.outcome, "hang");
    assert.match(result.detail ?? "", /no byte and no close within 300 ms/);
  });
});

Deno.test("the probe: a reply is a reply, a close without one is a close", async () => {
  await withServer(async (conn) => {
    const buffer = new Uint8Array(16);
    await conn.read(buffer);
    await conn.write(new TextEncoder().encode("ok"));
    conn.close();
  }, async (port) => {
    assert.deepEqual(await probe(port, input([1]), 5000), { outcome: "replied" });
  });
  await withServer(async (conn) => {
    // Reads everything up to the half-close, then closes without a word.
    const buffer = new Uint8Array(16);
    while (await conn.read(buffer) !== null) { /* drain */ }
    conn.close();
  }, async (port) => {
    assert.equal((await probe(port, input([1, 2]), 5000)).outcome, "closed");
  });
});

Deno.test("the probe: nothing listening is refused", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  assert.equal((await probe(port, input([1]), 5000)).outcome, "refused");
});

Deno.test("memoryOf reads a live process's resident memory and its peak, and nothing for a gone one", async () => {
  const memory = await memoryOf(Deno.pid);
  assert.ok(memory !== undefined, "no /proc/PID/status");
  assert.ok(memory.rss > 1024 * 1024, `RSS ${memory.rss}`);
  assert.ok(memory.peak >= memory.rss, `peak ${memory.peak} < RSS ${memory.rss}`);
  const child = new Deno.Command("true").spawn();
  await child.status;
  assert.equal(await memoryOf(child.pid), undefined);
});
