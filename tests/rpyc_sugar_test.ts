// The client's sugar (iteration, len, indexing, contains, str/repr,
// equality, hashing) and classic mode, against Python's own RPyC: Debian's
// python3-rpyc SlaveService from tests/peers/rpyc_server.py, on port 0.

import assert from "node:assert/strict";
import { Float } from "../rpc/float.ts";
import {
  connectRpycClassic,
  contains,
  delItem,
  equals,
  hash,
  item,
  iterate,
  len,
  netrefOf,
  repr,
  type RpycClassic,
  RpycError,
  setItem,
  str,
} from "../rpc/transports/rpyc.ts";
import { DEBIAN_PYTHON, type ListeningProcess, spawnListening } from "./interop/_process.ts";
import { testNeeding } from "./_needs.ts";

const test = testNeeding("py:rpyc");

function start(): Promise<ListeningProcess> {
  return spawnListening(DEBIAN_PYTHON, { args: ["tests/peers/rpyc_server.py", "classic"] });
}

async function classicAt(server: ListeningProcess): Promise<RpycClassic> {
  return await connectRpycClassic({ hostname: server.hostname, port: server.port });
}

test("classic: modules by attribute and by dotted name, builtins, eval, execute, namespace", async () => {
  await using server = await start();
  await using conn = await classicAt(server);
  assert.equal(await conn.modules.os!.getcwd!(), Deno.cwd());
  assert.equal(await conn.modules["os.path"]!.join!("a", "b"), "a/b");
  assert.equal(await conn.modules.os!.path!.basename!("/x/y.txt"), "y.txt");
  assert.deepEqual(await conn.modules.math!.pi, new Float(Math.PI));
  assert.deepEqual(await conn.modules.math!.sqrt!(2), new Float(Math.SQRT2));
  assert.equal(await conn.builtins.len!("four"), 4);
  assert.equal(await conn.eval("1+1"), 2);
  await conn.execute("x = 40\ndef f(n): return n + x");
  assert.equal(await conn.eval("f(2)"), 42);
  const namespace = await conn.namespace;
  assert.equal(await item(namespace, "x"), 40);
  await setItem(namespace, "y", 2n ** 70n);
  assert.equal(await conn.eval("y * 2"), 2n ** 71n);
  await assert.rejects(conn.modules.no_such_module_here!.f!(), (e: unknown) => {
    assert.ok(e instanceof RpycError);
    assert.equal(e.pythonType, "ModuleNotFoundError");
    return true;
  });
  const os = await conn.getModule("os");
  assert.match(await repr(os), /^<module 'os'/);
});

test("len, item, setItem, delItem, contains on a list and a dict", async () => {
  await using server = await start();
  await using conn = await classicAt(server);
  await using list = await conn.eval("[10, 20, 30]") as AsyncDisposable;
  assert.equal(await len(list), 3);
  assert.equal(await item(list, -1), 30);
  await setItem(list, 0, "ten");
  await delItem(list, 1);
  assert.equal(await repr(list), "['ten', 30]");
  assert.equal(await contains(list, 30), true);
  assert.equal(await contains(list, 20), false);
  await using dict = await conn.eval("{'a': 1, (1, 2): b'x'}") as AsyncDisposable;
  assert.deepEqual(await item(dict, [1, 2]), new Uint8Array([0x78]));
  await assert.rejects(item(dict, "missing"), (e: unknown) => {
    assert.ok(e instanceof RpycError);
    assert.equal(e.pythonType, "KeyError");
    return true;
  });
  await assert.rejects(len(await conn.eval("object()")), /__len__/);
});

test("str, repr, equals and hash as Python computes them", async () => {
  await using server = await start();
  await using conn = await classicAt(server);
  const a = await conn.eval("[1, 2]");
  const b = await conn.eval("[1, 2]");
  const c = await conn.eval("[3]");
  assert.equal(await str(a), "[1, 2]");
  assert.equal(await repr(await conn.eval("'q'.join")), await conn.eval("repr('q'.join)"));
  assert.equal(await equals(a, b), true);
  assert.equal(await equals(a, c), false);
  assert.equal(await equals(a, a), true);
  assert.equal(await equals(a, 5), false); // NotImplemented both ways, not the same object
  await conn.execute("class H:\n  def __hash__(s): return 2**62 + 1");
  const big = await conn.eval("H()");
  assert.equal(await hash(big), 2n ** 62n + 1n);
  assert.equal(await hash(await conn.eval("range(3)")), await conn.eval("hash(range(3))"));
  await assert.rejects(hash(a), /unhashable/);
});

test("for await over a remote iterable: __iter__, __next__ until StopIteration, iterator released", async () => {
  await using server = await start();
  await using conn = await classicAt(server);
  await conn.execute(
    "import weakref\nlive = weakref.WeakSet()\n" +
      "class It:\n  def __init__(s, n): s.n = n; live.add(s)\n  def __iter__(s): return s\n" +
      "  def __next__(s):\n    if s.n == 0: raise StopIteration\n    s.n -= 1; return s.n\n" +
      "class Src:\n  def __iter__(s): return It(4)\n",
  );
  const source = await conn.eval("Src()");
  const seen: unknown[] = [];
  for await (const v of source as AsyncIterable<unknown>) seen.push(v);
  assert.deepEqual(seen, [3, 2, 1, 0]);
  // Break early: the iterator's netref is given back all the same.
  for await (const v of iterate(source)) if (v === 2) break;
  // Batches (BUFFITER): items come `batch` at a time, the same ones.
  assert.deepEqual(await Array.fromAsync(iterate(source, { batch: 3 })), [3, 2, 1, 0]);
  // Items that brine cannot carry are proxies.
  const nested = await Array.fromAsync(iterate(await conn.eval("[[1], [2]]")));
  assert.deepEqual(await Promise.all(nested.map((x) => repr(x))), ["[1]", "[2]"]);
  assert.ok(nested.every((x) => netrefOf(x) !== undefined));
  // Python's reference counts: the iterators are gone once released.
  await conn.session.ping();
  await conn.execute("import gc; gc.collect()");
  assert.equal(await conn.eval("len(live)"), 0);
  await assert.rejects(Array.fromAsync(iterate(source, { batch: 0 })), RangeError);
});

Deno.test("iterate() refuses a value that is not remote", async () => {
  await assert.rejects(Array.fromAsync(iterate({})), TypeError);
});
