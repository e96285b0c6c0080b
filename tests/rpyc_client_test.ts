// parley's RPyC client against Python's own: Debian's python3-rpyc
// ThreadedServer serving tests/peers/rpyc_server.py (a small service, or
// SlaveService for classic mode), started on port 0.

import assert from "node:assert/strict";
import { ConnectionClosedError, TimeoutError } from "../rpc/errors.ts";
import { Float } from "../rpc/float.ts";
import {
  Complex,
  connectRpyc,
  Ellipsis,
  FrozenSet,
  kw,
  type Kwargs,
  type Netref,
  netrefOf,
  NotImplemented,
  proxyOf,
  type Remote,
  type RemoteObject,
  RpycError,
  Slice,
} from "../rpc/transports/rpyc.ts";
import { DEBIAN_PYTHON, type ListeningProcess, spawnListening } from "./interop/_process.ts";
import { testNeeding } from "./_needs.ts";

const test = testNeeding("py:rpyc");

/** tests/peers/rpyc_server.py's TestService, as seen from here. */
interface TestService {
  add(a: unknown, b: unknown): unknown;
  echo(value: unknown): unknown;
  type_names(value: unknown): unknown;
  kwargs(...args: [unknown?, Kwargs?] | [Kwargs]): unknown;
  fail(message: string): never;
  make_list(): Remote<PyList>;
  tracked(): Remote<object>;
  alive(): number;
  sleep(seconds: number): number;
  pair(): [number, Remote<PyList>];
  is_list(list: unknown): boolean;
  readonly no_such_thing: unknown;
}

/** The part of a Python list used here. */
interface PyList {
  __len__(): number;
  __getitem__(i: number): unknown;
  __contains__(v: unknown): boolean;
  append(v: unknown): null;
  pop(): unknown;
}

/** SlaveService (classic mode). */
interface Slave {
  getmodule(name: string): RemoteObject;
  eval(text: string): unknown;
}
const SERVER = "tests/peers/rpyc_server.py";

function start(mode: "service" | "classic" = "service"): Promise<ListeningProcess> {
  return spawnListening(DEBIAN_PYTHON, { args: [SERVER, mode] });
}

test("getroot, a call with positional and keyword arguments", async () => {
  await using server = await start();
  await using conn = await connectRpyc<Remote<TestService>>({
    hostname: server.hostname,
    port: server.port,
  });
  assert.equal(await conn.root.add(1, 2), 3);
  assert.equal(await conn.root.add("a", "b"), "ab");
  assert.deepEqual(await conn.root.kwargs(1), [1, 2, []]);
  assert.deepEqual(await conn.root.kwargs(1, kw({ b: 5, z: "zed" })), [1, 5, [["z", "zed"]]]);
  assert.deepEqual(await conn.root.kwargs(kw({ a: 0 })), [0, 2, []]);
  await conn.session.ping("hello");
});

test("every brine type, echoed both ways with its exact Python type", async () => {
  await using server = await start();
  await using conn = await connectRpyc<Remote<TestService>>({
    hostname: server.hostname,
    port: server.port,
  });
  const values = [
    null,
    true,
    false,
    0,
    -48,
    159,
    2n ** 64n,
    -(2n ** 200n),
    Number.MAX_SAFE_INTEGER,
    new Float(2),
    new Float(-0),
    new Float(NaN),
    new Float(Infinity),
    new Float(-Infinity),
    0.1,
    "",
    "héllo wörld ✓ 𝄞",
    new Uint8Array(),
    new Uint8Array([0, 255, 10]),
    new Uint8Array(5000).fill(3), // over 3000 bytes: compressed both ways
    [],
    [1, [2, [3, ["deep"]]]],
    new FrozenSet([1]),
    new Slice(1, null, -1),
    new Complex(1.5, -0),
    Ellipsis,
    NotImplemented,
  ];
  const echoed = await conn.root.echo(values) as unknown[];
  assert.deepEqual(echoed[14], new Float(0.1)); // a number with a fraction goes as a float
  assert.deepEqual(echoed.toSpliced(14, 1), values.toSpliced(14, 1));
  assert.ok(Object.is((echoed[10] as Float).value, -0));
  assert.ok(Object.is((echoed[24] as Complex).imag, -0));
  const types = await conn.root.type_names(values);
  assert.deepEqual(types, [
    "NoneType",
    "bool",
    "bool",
    "int",
    "int",
    "int",
    "int",
    "int",
    "int",
    "float",
    "float",
    "float",
    "float",
    "float",
    "float",
    "str",
    "str",
    "bytes",
    "bytes",
    "bytes",
    [],
    ["int", ["int", ["int", ["str"]]]],
    "frozenset",
    "slice",
    "complex",
    "ellipsis",
    "NotImplementedType",
  ]);
});

test("a Python exception: its type name, message and remote traceback", async () => {
  await using server = await start();
  await using conn = await connectRpyc<Remote<TestService>>({
    hostname: server.hostname,
    port: server.port,
  });
  const error = await conn.root.fail("missing").then(() => undefined, (e) => e);
  assert.ok(error instanceof RpycError);
  assert.equal(error.pythonType, "KeyError");
  assert.equal(error.module, "builtins");
  assert.deepEqual(error.args, ["missing"]);
  assert.equal(error.message, "KeyError: missing");
  assert.match(error.traceback, /in exposed_fail/);
  assert.match(error.traceback, /KeyError: 'missing'/);
  // The connection goes on.
  assert.equal(await conn.root.add(2, 2), 4);
  // An attribute that is not there is Python's AttributeError.
  await assert.rejects(async () => await conn.root.no_such_thing, { pythonType: "AttributeError" });
});

test("a netref: a list's attributes and methods through callattr, passed back as itself", async () => {
  await using server = await start();
  await using conn = await connectRpyc<Remote<TestService>>({
    hostname: server.hostname,
    port: server.port,
  });
  await using list = await conn.root.make_list();
  const ref = netrefOf(list)!;
  assert.equal(ref.className, "builtins.list");
  assert.equal(await list.__len__(), 3);
  assert.equal(await list.__getitem__(1), 20);
  await list.append(40);
  assert.equal(await ref.repr(), "[10, 20, 30, 40]");
  assert.equal(await ref.str(), "[10, 20, 30, 40]");
  assert.ok((await ref.dir()).includes("append"));
  assert.equal(await list.__contains__(30), true);
  assert.equal(await ref.cmp(list, "__eq__"), true);
  // list == tuple is NotImplemented in Python, and comes back as exactly that.
  assert.equal(await ref.cmp([10, 20, 30, 40], "__eq__"), NotImplemented);
  await list.pop();
  assert.equal(await conn.root.is_list(list), true);
  const [one, inner] = await conn.root.pair();
  assert.equal(one, 1);
  assert.equal(await inner.__len__(), 2);
  await inner[Symbol.asyncDispose]();
  // A method itself, called later (CALL on a netref to a bound method).
  const append = proxyOf(await ref.getattr("append") as Netref);
  await append(50);
  assert.equal(await list.__len__(), 4);
  await append[Symbol.asyncDispose]();
  await assert.rejects(append(60), TypeError);
});

test("release sends DEL: Python's object dies, every reference counted", async () => {
  await using server = await start();
  await using conn = await connectRpyc<Remote<TestService>>({
    hostname: server.hostname,
    port: server.port,
  });
  const first = await conn.root.tracked();
  const second = await conn.root.tracked();
  assert.equal(first, second); // one proxy per Python object
  assert.equal(netrefOf(first)!.count, 2);
  assert.equal(await conn.root.alive(), 1);
  const live = conn.session.liveNetrefs;
  await first[Symbol.asyncDispose]();
  assert.equal(conn.session.liveNetrefs, live - 1);
  assert.equal(await conn.root.alive(), 0); // Python's weakref callback ran
  {
    using _again = await conn.root.tracked();
    assert.equal(await conn.root.alive(), 1);
  } // `using`: DEL sent without waiting; the next request is behind it on the wire
  assert.equal(await conn.root.alive(), 0);
});

test({
  name: "a netref dropped without release is given back when collected",
  ignore: typeof (globalThis as { gc?: unknown }).gc !== "function",
  fn: async () => {
    const gc = (globalThis as unknown as { gc: () => void }).gc;
    await using server = await start();
    await using conn = await connectRpyc<Remote<TestService>>({
      hostname: server.hostname,
      port: server.port,
    });
    await (async () => {
      await conn.root.tracked();
      await conn.root.tracked(); // counted twice, dropped at once
    })();
    assert.equal(await conn.root.alive(), 1);
    // Bounded: collection and finalizers run within a few rounds of gc and turns of the loop.
    let alive = 1;
    for (let round = 0; round < 50 && alive > 0; round++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
      alive = await conn.root.alive();
    }
    assert.equal(alive, 0);
  },
});

test("a timeout and an abort: the call fails, the connection goes on", async () => {
  await using server = await start();
  await using conn = await connectRpyc<Remote<TestService>>({
    hostname: server.hostname,
    port: server.port,
  });
  const root = netrefOf(conn.root)!;
  await assert.rejects(root.callattr("sleep", [new Float(0.5)], { timeout: 50 }), TimeoutError);
  const controller = new AbortController();
  const aborted = root.callattr("sleep", [new Float(0.3)], { signal: controller.signal });
  controller.abort(new Error("changed my mind"));
  await assert.rejects(aborted, /changed my mind/);
  // The late replies arrive and are dropped; the next call gets its own.
  assert.equal(await conn.root.add(20, 22), 42);
  assert.equal(await conn.root.sleep(0), 0);
});

test("classic mode (SlaveService): modules through the root", async () => {
  await using server = await start("classic");
  await using conn = await connectRpyc<Remote<Slave>>({
    hostname: server.hostname,
    port: server.port,
  });
  await using math = await conn.root.getmodule("math");
  assert.deepEqual(await math.sqrt!(2), new Float(Math.SQRT2));
  assert.equal(await conn.root.eval("2 ** 100"), 2n ** 100n);
  await using os = await conn.root.getmodule("os");
  assert.equal(typeof await os.getcwd!(), "string");
  await using path = await os.path! as RemoteObject;
  assert.equal(await path.join!("a", "b"), "a/b");
  assert.equal(await os.path!.basename!("/x/y.txt"), "y.txt"); // the middle reference released after
});

test("calls in flight together, and over a Unix socket", async () => {
  await using server = await start();
  await using conn = await connectRpyc<Remote<TestService>>({
    hostname: server.hostname,
    port: server.port,
  });
  const sums = await Promise.all(Array.from({ length: 200 }, (_, i) => conn.root.add(i, 1)));
  assert.deepEqual(sums, Array.from({ length: 200 }, (_, i) => i + 1));
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/rpyc.sock`;
    await using unix = await spawnListening(DEBIAN_PYTHON, { args: [SERVER, "service", path] });
    assert.equal(unix.url, `unix://${path}`);
    await using overUnix = await connectRpyc<Remote<TestService>>({ transport: "unix", path });
    assert.equal(await overUnix.root.add(40, 2), 42);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("the server going away fails pending calls with ConnectionClosedError", async () => {
  const server = await start();
  const conn = await connectRpyc<Remote<TestService>>({
    hostname: server.hostname,
    port: server.port,
  });
  const pending = assert.rejects(conn.root.sleep(5), ConnectionClosedError);
  await server.stop("SIGKILL");
  await pending;
  await conn.closed;
  await assert.rejects(conn.root.add(1, 2), ConnectionClosedError);
});
