// parley's RPyC client passing TypeScript callbacks and objects to Python's
// own ThreadedServer (tests/peers/rpyc_callbacks_server.py), which calls
// them back while parley waits for its own call's reply.

import assert from "node:assert/strict";
import { connectRpyc, netrefOf, type RemoteObject, RpycError } from "../rpc/transports/rpyc.ts";
import { DEBIAN_PYTHON, type ListeningProcess, spawnListening } from "./interop/_process.ts";
import { testNeeding } from "./_needs.ts";

const test = testNeeding("py:rpyc");

function start(): Promise<ListeningProcess> {
  return spawnListening(DEBIAN_PYTHON, { args: ["tests/peers/rpyc_callbacks_server.py"] });
}

test("TS callbacks called by Python, nested, while the TS call waits", async () => {
  await using server = await start();
  await using conn = await connectRpyc({ hostname: server.hostname, port: server.port });
  const root = conn.root;
  assert.equal(await root.call_back!((i: number) => i * 10, 4), 60);
  // Nested: the callback calls Python again, which answers while it waits for the callback.
  const nested = async (i: number) => await root.add!(i, 100) as number;
  assert.equal(await root.call_back!(nested, 3), 303);
  // kwargs from Python arrive as a last plain object.
  assert.equal(await root.call_kw!((a: number, named: { b: number }) => a * 10 + named.b), 12);
  // A TS error in a callback: Python sees its exception type.
  const caught = await root.catch!(() => {
    throw new TypeError("from ts");
  });
  assert.deepEqual(caught, ["TypeError", "from ts"]);
  // Everything Python held is given back once its call finished and it collected.
  await root.drop!();
  // DEL goes out asynchronously from Python; a PING answered after it orders them.
  await conn.session.ping();
  assert.equal(conn.session.liveLocalObjects, 0);
});

test("a TS object passed to Python: exposed names only, even with allow_public_attrs there", async () => {
  await using server = await start();
  await using conn = await connectRpyc({ hostname: server.hostname, port: server.port });
  const root = conn.root;
  const work = { exposed_num1: 3, num2: 4, _op: "x" };
  assert.equal(await root.read!(work, "num1"), 3);
  assert.equal(await root.read!(work, "exposed_num1"), 3);
  await assert.rejects(
    root.read!(work, "num2"),
    (e) => e instanceof RpycError && e.pythonType === "AttributeError",
  );
  await assert.rejects(root.read!(work, "_op"), /AttributeError/);
  await assert.rejects(root.read!(work, "constructor"), /AttributeError/);
  await assert.rejects(root.read!(work, "__proto__"), /AttributeError/);
});

test("allowPublicAttrs on the client exposes a plain object's own properties", async () => {
  await using server = await start();
  await using conn = await connectRpyc({ hostname: server.hostname, port: server.port }, {
    allowPublicAttrs: true,
  });
  const work = { num1: 3, op: "ADD", _hidden: 1 };
  assert.equal(await conn.root.read!(work, "num1"), 3);
  assert.equal(await conn.root.read!(work, "op"), "ADD");
  await assert.rejects(conn.root.read!(work, "_hidden"), /AttributeError/);
  await assert.rejects(conn.root.read!(work, "toString"), /AttributeError/);
  await assert.rejects(conn.root.read!(work, "hasOwnProperty"), /AttributeError/);
});

test("Python's objects handed to a TS callback die in Python once released", async () => {
  await using server = await start();
  await using conn = await connectRpyc({ hostname: server.hostname, port: server.port });
  const kept: RemoteObject[] = [];
  await conn.root.hand_tracked!((obj: RemoteObject) => void kept.push(obj));
  await conn.root.hand_tracked!((obj: RemoteObject) => void kept.push(obj));
  assert.equal(await conn.root.alive!(), 2);
  for (const obj of kept) await netrefOf(obj)!.release();
  assert.equal(await conn.root.alive!(), 0);
});

test("an object Python holds stays counted until Python drops it", async () => {
  await using server = await start();
  await using conn = await connectRpyc({ hostname: server.hostname, port: server.port });
  await conn.root.hold!({ exposed_x: 1 });
  assert.equal(conn.session.liveLocalObjects, 1);
  await conn.root.drop!();
  await conn.session.ping();
  assert.equal(conn.session.liveLocalObjects, 0);
});
