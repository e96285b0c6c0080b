// parley's RPyC server (serveRpyc) driven by Python's own RPyC client:
// Debian's python3-rpyc running tests/peers/rpyc_client.py, one scenario a
// test, against the root below. Python reports what it saw as JSON.

import assert from "node:assert/strict";
import { Float } from "../rpc/float.ts";
import {
  Complex,
  FrozenSet,
  RpycError,
  type RpycSession,
  serveRpyc,
  type ServeRpycOptions,
  Slice,
} from "../rpc/transports/rpyc.ts";
import { DEBIAN_PYTHON } from "./interop/_process.ts";
import { testNeeding } from "./_needs.ts";
import { makeCertificates } from "./_certificates.ts";

const test = testNeeding("py:rpyc");
const CLIENT = "tests/peers/rpyc_client.py";

class MyError extends Error {
  override name = "MyError";
}

class Counter {
  n = 0;
  _n = 1;
  secret = "not exposed";
  exposed_inc(): number {
    return ++this.n;
  }
  get exposed_value(): number {
    return this.n;
  }
  toString(): string {
    return `Counter(${this.n})`;
  }
}

function tsType(v: unknown): string {
  if (v === null) return "null";
  if (typeof v !== "object") return typeof v;
  return Array.isArray(v) ? "array" : v.constructor.name;
}

function makeRoot(session: RpycSession): object {
  return {
    exposed_add: (a: number | bigint, b: number | bigint) =>
      typeof a === "number" && typeof b === "number" ? a + b : BigInt(a) + BigInt(b),
    exposed_echo: (x: unknown) => x,
    exposed_ts_type: tsType,
    exposed_describe: (...args: unknown[]) => {
      const last = args.at(-1);
      const named = typeof last === "object" && last !== null && !Array.isArray(last) &&
          Object.getPrototypeOf(last) === null
        ? Object.entries(args.pop() as object)
        : [];
      return [args, named];
    },
    exposed_fail: (kind: string, message: string) => {
      if (kind === "RangeError") throw new RangeError(message);
      if (kind === "TypeError") throw new TypeError(message);
      if (kind === "KeyError") throw Object.assign(new Error(message), { pythonType: "KeyError" });
      throw new MyError(message);
    },
    exposed_fail_later: async (message: string) => {
      await Promise.resolve();
      throw new RangeError(message);
    },
    exposed_counter: () => new Counter(),
    exposed_map: () => new Map<unknown, unknown>([["a", 1], ["b", 2]]),
    exposed_numbers: function* (n: number) {
      for (let i = 0; i < n; i++) yield i;
    },
    exposed_call_back: async (fn: (i: number) => Promise<number>, n: number) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await fn(i);
      return sum;
    },
    exposed_catch_back: async (fn: (i: number) => Promise<unknown>) => {
      try {
        await fn(1);
        return "no error";
      } catch (e) {
        assert.ok(e instanceof RpycError);
        return [e.pythonType, e.message];
      }
    },
    exposed_call_kw: async (fn: { (...a: unknown[]): Promise<unknown> }) => {
      const { kw } = await import("../rpc/transports/rpyc.ts");
      return await fn(10, kw({ b: 3 }));
    },
    exposed_live: () => session.liveLocalObjects,
    hidden: "not exposed",
    _private: "never",
    exposed__private: "never either",
  };
}

interface Run {
  // deno-lint-ignore no-explicit-any
  readonly out: any;
  readonly live: number;
}

async function python(scenario: string, options: Partial<ServeRpycOptions> = {}): Promise<Run> {
  const sessions: RpycSession[] = [];
  await using server = serveRpyc({ hostname: "127.0.0.1", port: 0 }, {
    makeRoot,
    onConnection: (s) => sessions.push(s),
    ...options,
  });
  const port = (server.addr as Deno.NetAddr).port;
  const result = await new Deno.Command(DEBIAN_PYTHON, {
    args: [CLIENT, "127.0.0.1", String(port), scenario],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(result.stderr);
  assert.ok(result.success, stderr);
  await Promise.all(sessions.map((s) => s.closed));
  const out = JSON.parse(new TextDecoder().decode(result.stdout));
  // Each session's table, after it closed: emptied at close.
  return { out, live: sessions.reduce((n, s) => n + s.liveLocalObjects, 0) };
}

test("Python's rpyc.connect() → serveRpyc: every brine type both ways with its exact type", async () => {
  const { out } = await python("values");
  assert.ok(out.same.every((s: boolean) => s), JSON.stringify(out.same));
  assert.equal(out.all_at_once, true);
  assert.equal(out.sum, true);
  assert.deepEqual(out.ts_types, [
    "null",
    "boolean",
    "boolean",
    "number",
    "number",
    "bigint",
    "bigint",
    Float.name,
    Float.name,
    Float.name,
    Float.name,
    Float.name,
    Float.name,
    "string",
    "string",
    "Uint8Array",
    "Uint8Array",
    "Uint8Array",
    "array",
    "array",
    FrozenSet.name,
    Slice.name,
    Complex.name,
    "symbol",
    "symbol",
  ]);
});

test("without includeLocalTraceback, Python gets the type and message but no TS stack", async () => {
  const { out } = await python("exceptions");
  assert.equal(out.range[0], "ValueError");
  assert.match(out.range[1], /too far/);
  assert.doesNotMatch(out.range[1], /TypeScript stack|rpyc_server_test\.ts|file:/);
  assert.match(out.range[1], /includeLocalTraceback/);
});

test("keyword arguments reach the function as a last plain object", async () => {
  const { out } = await python("kwargs");
  assert.deepEqual(out.kw, [[1, "a"], [["sep", ","], ["end", 36893488147419103232]]]);
  assert.deepEqual(out.none, [[1], []]);
});

test("a TypeScript error is raised in Python with its type, message and TS stack", async () => {
  const { out } = await python("exceptions", { includeLocalTraceback: true });
  assert.equal(out.range[0], "ValueError");
  assert.match(out.range[1], /too far/);
  assert.match(out.range[1], /TypeScript stack \(parley\)/);
  assert.match(out.range[1], /rpyc_server_test\.ts/);
  assert.equal(out.type[0], "TypeError");
  assert.equal(out.custom[0], "parley.MyError");
  assert.match(out.custom[1], /mine/);
  assert.equal(out.key[0], "KeyError");
  assert.equal(out.async[0], "ValueError");
  assert.match(out.async[1], /later/);
  assert.equal(out.not_callable[0], "TypeError");
  assert.equal(out.after, 3);
});

test("Python callbacks called by TypeScript, nested calls back, a Python exception as RpycError", async () => {
  const { out, live } = await python("callbacks");
  assert.equal(out.sum, 100);
  assert.equal(out.nested, 303);
  assert.deepEqual(out.py_raises[0], "ZeroDivisionError");
  assert.match(out.py_raises[1], /py side/);
  assert.equal(out.kw_callback, 7);
  assert.equal(out.echo_same, true);
  assert.equal(live, 0);
});

test("exposure rules seen from Python: only exposed names, nothing private or from prototypes", async () => {
  const { out } = await python("exposure");
  for (const [name, got] of Object.entries(out.root)) {
    assert.equal(got, "AttributeError", `root.${name}`);
  }
  for (const [name, got] of Object.entries(out.function)) {
    assert.equal(got, "AttributeError", `root.add.${name}`);
  }
  assert.deepEqual(out.counter, {
    n: "AttributeError",
    _n: "AttributeError",
    inc: "ok",
    exposed_inc: "ok",
    value: "ok",
    secret: "AttributeError",
    constructor: "AttributeError",
  });
  assert.deepEqual(out.inc, [1, 2, 2]);
  assert.ok(out.dir_root.includes("add") && out.dir_root.includes("exposed_add"));
  assert.ok(!out.dir_root.some((n: string) => n.startsWith("_") || n === "hidden"));
  assert.deepEqual(out.dir_counter, ["exposed_inc", "exposed_value", "inc", "value"]);
  assert.equal(out.setattr, "AttributeError");
  assert.equal(out.callattr_private, "AttributeError");
});

test("what Python does with a TS object: print, len, list, x[i], in, ==, hash, isinstance", async () => {
  const { out } = await python("sugar");
  assert.deepEqual(out.map, [2, 1, true, false, ["a", "b"], "KeyError"]);
  assert.deepEqual(out.iter, [0, 1, 2, 3]);
  assert.deepEqual(out.print, ["Counter(0)", true, true]);
  assert.deepEqual(out.eq, [true, false, false, true]);
  assert.equal(out.hash, true);
  assert.deepEqual(out.isinstance, [false, true]);
  assert.equal(out.len_plain, "TypeError");
  assert.equal(out.lt, "TypeError");
  assert.deepEqual(out.items, [0, true, false]);
  assert.deepEqual(out.buffiter, [0, 1, 2, 3, 4]);
});

test("netrefs Python drops are given back: the local object count returns, and is zero at close", async () => {
  const { out, live } = await python("lifetimes");
  assert.equal(out.held, 7);
  assert.equal(out.released, 0);
  assert.equal(live, 0);
});

test("maxLocalObjects bounds what Python may hold: one more fails with a clear error", async () => {
  const { out, live } = await python("limit", { maxLocalObjects: 10 });
  assert.equal(out.error[0], "ValueError");
  assert.match(out.error[1], /maxLocalObjects/);
  assert.ok(out.held < 10);
  assert.equal(out.after, 2);
  assert.equal(live, 0);
});

test("serveRpyc over a Unix socket and over TLS, reached by Python's unix_connect and ssl_connect", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/rpyc.sock`;
  await using certs = await makeCertificates();
  const caFile = `${dir}/ca.pem`;
  await Deno.writeTextFile(caFile, certs.ca);
  try {
    await using unix = serveRpyc({ transport: "unix", path }, { makeRoot });
    await using tls = serveRpyc(
      { transport: "tls", hostname: "127.0.0.1", port: 0, cert: certs.cert, key: certs.key },
      { makeRoot },
    );
    assert.ok(tls.url.startsWith("tls://"));
    assert.equal(unix.url, `unix:${path}`);
    const port = (tls.addr as Deno.NetAddr).port;
    const script = [
      "import rpyc, ssl",
      "from rpyc.utils.factory import unix_connect",
      `a = unix_connect(${JSON.stringify(path)})`,
      `b = rpyc.ssl_connect("127.0.0.1", ${port}, ca_certs=${
        JSON.stringify(caFile)
      }, cert_reqs=ssl.CERT_REQUIRED, ssl_version=ssl.PROTOCOL_TLS_CLIENT)`,
      "print(a.root.add(1, 2), b.root.add(2**64, 1))",
    ].join("\n");
    const result = await new Deno.Command(DEBIAN_PYTHON, {
      args: ["-c", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(result.success, new TextDecoder().decode(result.stderr));
    assert.equal(new TextDecoder().decode(result.stdout).trim(), `3 ${2n ** 64n + 1n}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
