/**
 * The calculator over RPyC (`deno task calculator --codec rpyc`), as the
 * contract's "RPyC" section has it: Python's own `rpyc.connect()` runs the
 * whole section (python/rpyc_calculator_client.py, both configurations),
 * parley's own RPyC client does the same from TypeScript, and a connection
 * sending garbage is closed while the others are served.
 */

import assert from "node:assert/strict";
import { connectRpyc, netrefOf, type Remote } from "../../rpc/transports/rpyc.ts";
import { Float } from "../../rpc/float.ts";
import { DEBIAN_PYTHON, formatOutput, run, startCalculator } from "./_process.ts";
import { testNeeding } from "../_needs.ts";

const test = testNeeding("py:rpyc");
const CLIENT = new URL("./python/rpyc_calculator_client.py", import.meta.url).pathname;

interface Calculator {
  add(a: unknown, b: unknown): number;
  calculate(logid: number, w: object): number;
  echo<T>(x: T): T;
  sum(values: readonly unknown[]): number | bigint;
  progress(n: number, callback: unknown): number;
}

function addressOf(url: string): { hostname: string; port: number } {
  const { hostname, port } = new URL(url.replace(/^tcp:/, "http:"));
  return { hostname, port: Number(port) };
}

test("Python's rpyc.connect() passes the contract's RPyC section (public attrs and exposed_ names)", async () => {
  await using server = await startCalculator("--codec", "rpyc", "--transport", "tcp");
  assert.match(server.url, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  const { hostname, port } = addressOf(server.url);
  const result = await run(DEBIAN_PYTHON, {
    args: [CLIENT, hostname, String(port)],
    timeout: 120_000,
  });
  assert.equal(result.code, 0, formatOutput(result));
  assert.match(result.stdout, /all checks passed/);
  assert.match(result.stdout, /ok every lent object given back/);
});

test("parley's RPyC client calls the calculator, lends it objects and a callback, and gets them all back", async () => {
  await using server = await startCalculator("--codec", "rpyc", "--transport", "tcp");
  await using conn = await connectRpyc<Remote<Calculator>>(addressOf(server.url), {
    allowPublicAttrs: true,
  });
  const { root } = conn;
  assert.equal(await root.add(1, 2), 3);
  await assert.rejects(root.add(2 ** 31 - 1, 1), /overflow/);
  await assert.rejects(root.add(new Float(1), 1), { pythonType: "TypeError" });
  // w read through attribute access on this side's object: public names
  // (allowPublicAttrs), then the exposed_ names of RPyC's default.
  assert.equal(await root.calculate(1, { num1: 7, num2: 5, op: 3 }), 35);
  assert.equal(await root.calculate(1, { exposed_num1: -7, exposed_num2: 2, exposed_op: 4 }), -3);
  await assert.rejects(root.calculate(1, { num1: 1, num2: 0, op: 4 }), /Cannot divide by 0/);
  await assert.rejects(root.calculate(1, { num1: 1, num2: 2, op: 9 }), /Invalid operation/);
  // Exact values both ways; an object comes back as itself.
  for (
    const value of [2n ** 100n, new Float(-0), new Float(NaN), "héllo ☃", new Uint8Array([0, 255])]
  ) {
    assert.deepEqual(await root.echo(value), value);
  }
  const mine = { exposed_tag: "mine" };
  assert.equal(await root.echo(mine), mine);
  assert.equal(await root.sum([2n ** 63n - 1n, 1, -1]), 2n ** 63n - 1n);
  await assert.rejects(root.sum([2n ** 63n - 1n, 1]), /overflow/);
  const seen: number[] = [];
  assert.equal(await root.progress(4, (i: number) => void seen.push(i)), 4);
  assert.deepEqual(seen, [1, 2, 3, 4]);
  await assert.rejects(root.progress(2, "not callable"), { pythonType: "TypeError" });
  // The server gives back every reference it was lent, after each reply.
  for (let i = 0; i < 200 && conn.session.liveLocalObjects > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.equal(conn.session.liveLocalObjects, 0);
});

test("a connection sending garbage is closed, and the server goes on serving", async () => {
  await using server = await startCalculator("--codec", "rpyc", "--transport", "tcp");
  const address = addressOf(server.url);
  const bad = await Deno.connect(address);
  // A packet header announcing 4 GiB, then noise.
  await bad.write(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 1, 2, 3]));
  const closed = await bad.read(new Uint8Array(64)).catch(() => null);
  bad.close();
  assert.equal(closed, null);
  await using conn = await connectRpyc<Remote<Calculator>>(address);
  assert.equal(await conn.root.add(20, 22), 42);
  assert.equal(netrefOf(conn.root)?.className !== undefined, true);
});
