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
import {
  DEBIAN_PYTHON,
  formatOutput,
  type ListeningProcess,
  run,
  spawnListening,
} from "./interop/_process.ts";
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

// Records, on the server, each request's handler and the names it carries
// (CALLATTR's method, CMP's operator) while `R.on`; DEL and INSPECT are left
// out (Python sends them when its garbage collector decides).
const RECORDER = `
import rpyc.core.protocol as P
class R:
    on = False
    log = []
_dispatch = P.Connection._dispatch_request
def _recorded(self, seq, raw_args):
    if R.on:
        handler, (label, args) = raw_args
        names = tuple(b[1] for b in args if b[0] == 1 and type(b[1]) is str) if label == 2 else ()
        if handler not in (15, 16):
            R.log.append((handler,) + names)
    return _dispatch(self, seq, raw_args)
P.Connection._dispatch_request = _recorded
import builtins
builtins.R = R  # seen from every connection's namespace
`;

// What Python's own netref does, operation by operation.
const PYTHON_CLIENT = `
import sys, rpyc
c = rpyc.classic.connect("127.0.0.1", int(sys.argv[1]))
L, L2, H = c.eval("[1, 2, 3]"), c.eval("[1, 2, 3]"), c.eval("range(3)")
c.execute("R.log.clear(); R.on = True")
len(L); L[0]; L[0] = 5; del L[0]; 2 in L; str(L); repr(L); L == L2; hash(H)
for x in L: pass
c.execute("R.on = False")
print(repr(c.eval("tuple(R.log[:-1])")))
`;

test("each operator sends the very requests Python's own netref sends", async () => {
  await using server = await start();
  await using conn = await classicAt(server);
  await conn.execute(RECORDER);
  const python = await run(DEBIAN_PYTHON, {
    args: ["-c", PYTHON_CLIENT, String(server.port)],
    timeout: 30_000,
  });
  assert.equal(python.code, 0, formatOutput(python));

  const [list, list2, range] = [
    await conn.eval("[1, 2, 3]"),
    await conn.eval("[1, 2, 3]"),
    await conn.eval("range(3)"),
  ];
  await conn.execute("R.log.clear(); R.on = True");
  await len(list);
  await item(list, 0);
  await setItem(list, 0, 5);
  await delItem(list, 0);
  await contains(list, 2);
  await str(list);
  await repr(list);
  await equals(list, list2);
  await hash(range);
  for await (const _ of list as AsyncIterable<unknown>) { /* as Python's for */ }
  await conn.execute("R.on = False");
  // The last entry is the execute that stopped recording: Python calls the
  // bound method it fetched at connect (CALL), parley's classic() CALLATTRs.
  const ours = await conn.eval("repr(tuple(R.log[:-1]))");
  assert.equal(ours, python.stdout.trim());
  // And it is what the table in docs/rpyc.md says.
  assert.equal(
    ours,
    "((8, '__len__'), (8, '__getitem__'), (8, '__setitem__'), (8, '__delitem__'), " +
      "(8, '__contains__'), (10,), (9,), (11, '__eq__'), (12,), (8, '__iter__'), " +
      "(8, '__next__'), (8, '__next__'), (8, '__next__'))",
  );
});

test("the operators take a timeout and a signal", async () => {
  await using server = await start();
  await using conn = await classicAt(server);
  await conn.execute(
    "import time\nclass Slow:\n  def __len__(s): time.sleep(1); return 1\n" +
      "  def __iter__(s): time.sleep(1); return iter([])",
  );
  const slow = await conn.eval("Slow()");
  await assert.rejects(len(slow, { timeout: 50 }), { name: "TimeoutError" });
  const aborted = AbortSignal.abort(new Error("stop"));
  await assert.rejects(Array.fromAsync(iterate(slow, { signal: aborted })), /stop/);
  await assert.rejects(item(slow, 0, { signal: aborted }), /stop/);
});
