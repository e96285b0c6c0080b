// An Apache Thrift client on Node (the `thrift` npm package) that runs the
// whole Calculator contract of /work/shared/interop/README.md against a
// Thrift server.
//
//   node thrift_client.mjs HOST PORT [--transport framed|buffered|http]
//                          [--protocol binary|compact] [--multiplexed NAME]
//                          [--thrift-dir DIR]
//
// `--transport` (default framed): TFramedTransport or TBufferedTransport on
// one TCP connection, or `http`: POST /thrift (thrift.createHttpConnection,
// buffered, one request per call). `--protocol` (default binary):
// TBinaryProtocol or TCompactProtocol. `--multiplexed NAME`: calls go through
// thrift.Multiplexer as service NAME (method names `NAME:add` on the wire).
// The client is generated at run time from DIR/calculator.thrift by
// `thrift --gen js:node` (`--thrift-dir`, by default examples/calculator of the
// repository holding this script's real location).
//
// Each check prints `ok   [LABEL] NAME` or `FAIL [LABEL] NAME: why`, LABEL
// being e.g. `framed+binary`; then `all N checks passed (thrift-node, LABEL)`
// and exit 0, or a count of the failures and exit 1. Bad usage: exit 2. The
// whole run is bounded (60 s).
//
// What the thrift package (0.24.0) does with the code of Debian's compiler
// (0.17.0), and how this client copes:
// - i64 values are node-int64 Int64 objects both ways (a JS number loses
//   precision beyond 2^53): they are built with thrift.fromBigInt and read
//   with thrift.toBigInt, and compared as bigints.
// - the generated calls return a promise through `thrift.Q`, which the
//   package no longer has: every call passes a callback instead.
// - InvalidOperation arrives as the generated exception class (a
//   Thrift.TException); an unknown method as a Thrift.TApplicationException.
// - doubles: both protocols write -0 as 0, so -0 is not among the checks.
// - HTTP: any status but 200 is an error to the library, a 204 to a one-way
//   call included (Apache's THttpServer answers 200 with an empty body).

import { Buffer } from "node:buffer";
import { realpathSync } from "node:fs";
import { dirname, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import thrift from "thrift";
import { loadThriftGenerated } from "./_generated.mjs";

// --- arguments ---------------------------------------------------------------

const USAGE = "usage: node thrift_client.mjs HOST PORT [--transport framed|buffered|http] " +
  "[--protocol binary|compact] [--multiplexed NAME] [--thrift-dir DIR]\n";
function usage(why) {
  process.stderr.write(`thrift_client: ${why}\n${USAGE}`);
  process.exit(2);
}

const FLAGS = ["--transport", "--protocol", "--multiplexed", "--thrift-dir"];
const options = {};
const positional = [];
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) positional.push(arg);
    else if (!FLAGS.includes(arg)) usage(`unknown option ${arg}`);
    else if (argv[i + 1] === undefined) usage(`${arg} needs a value`);
    else options[arg] = argv[++i];
  }
}
if (positional.length !== 2) usage("HOST and PORT are required");
const [host, portText] = positional;
const port = Number(portText);
if (!Number.isInteger(port) || port < 1 || port > 65535) usage(`bad port ${portText}`);
const transportName = options["--transport"] ?? "framed";
const protocolName = options["--protocol"] ?? "binary";
if (!["framed", "buffered", "http"].includes(transportName)) usage("bad --transport");
if (!["binary", "compact"].includes(protocolName)) usage("bad --protocol");
const serviceName = options["--multiplexed"];
if (serviceName === "") usage("--multiplexed needs a service name");
const here = dirname(realpathSync(fileURLToPath(import.meta.url)));
const thriftDir = resolve(options["--thrift-dir"] ?? resolve(here, "../../../examples/calculator"));
const label = `${transportName}+${protocolName}${serviceName ? "+multiplexed" : ""}`;

// --- generated code ----------------------------------------------------------

const { Calculator, types } = loadThriftGenerated(thriftDir);
const { InvalidOperation, Shape, Work } = types;
const { Thrift } = thrift;

// --- the client --------------------------------------------------------------

const Protocol = protocolName === "compact" ? thrift.TCompactProtocol : thrift.TBinaryProtocol;
const connection = transportName === "http"
  ? thrift.createHttpConnection(host, port, {
    transport: thrift.TBufferedTransport,
    protocol: Protocol,
    path: "/thrift",
    headers: {},
  })
  : thrift.createConnection(host, port, {
    transport: transportName === "framed" ? thrift.TFramedTransport : thrift.TBufferedTransport,
    protocol: Protocol,
    connect_timeout: 10_000,
  });
const client = serviceName
  ? new thrift.Multiplexer().createClient(serviceName, Calculator, connection)
  : transportName === "http"
  ? thrift.createHttpClient(Calculator, connection)
  : thrift.createClient(Calculator, connection);

/** Calls waiting for a reply: a connection error fails them all. */
const pending = new Set();
/** Connection errors that no call was waiting for (reported as a failed check). */
const strayErrors = [];
connection.on("error", (error) => {
  if (pending.size === 0) strayErrors.push(error);
  for (const reject of pending) reject(new Error(`connection error: ${error?.message ?? error}`));
  pending.clear();
});
/** Set when the TCP connection has closed: later calls fail at once. */
let closed;
connection.on("close", () => {
  closed = new Error("connection closed");
  for (const reject of pending) reject(closed);
  pending.clear();
});

/** Calls `client[method](...args, callback)`; resolves with the result, at most 10 s. */
function call(method, ...args) {
  return new Promise((resolve, reject) => {
    if (closed) return reject(closed);
    const timer = setTimeout(() => fail(new Error(`${method}: no reply within 10 s`)), 10_000);
    const fail = (error) => {
      clearTimeout(timer);
      pending.delete(fail);
      reject(error);
    };
    pending.add(fail);
    try {
      client[method](...args, (error, result) => {
        clearTimeout(timer);
        pending.delete(fail);
        if (error) reject(error);
        else resolve(result);
      });
    } catch (error) {
      fail(error);
    }
  });
}

/**
 * Calls a method the service does not have, written as the generated code
 * writes a call (empty arguments); resolves with the reply or rejects with
 * the TApplicationException that comes back.
 */
function callUnknown(name) {
  client[`recv_${name}`] = function (input, mtype, rseqid) {
    const callback = this._reqs[rseqid] ?? (() => {});
    delete this._reqs[rseqid];
    if (mtype === Thrift.MessageType.EXCEPTION) {
      const x = new Thrift.TApplicationException();
      x.read(input);
      input.readMessageEnd();
      return callback(x);
    }
    input.skip(Thrift.Type.STRUCT);
    input.readMessageEnd();
    return callback(null, `a reply of message type ${mtype}`);
  };
  client[name] = function (callback) {
    this._seqid = this.new_seqid();
    this._reqs[this._seqid] = callback;
    const output = new this.pClass(this.output);
    output.writeMessageBegin(name, Thrift.MessageType.CALL, this._seqid);
    output.writeStructBegin(`${name}_args`);
    output.writeFieldStop();
    output.writeStructEnd();
    output.writeMessageEnd();
    this.output.flush();
  };
  return call(name);
}

// --- checking ----------------------------------------------------------------

const I32_MAX = 2 ** 31 - 1;
const I32_MIN = -(2 ** 31);
const I64_MAX = 2n ** 63n - 1n;
const I64_MIN = -(2n ** 63n);
const [ADD, SUBTRACT, MULTIPLY, DIVIDE] = [1, 2, 3, 4];

let passed = 0;
let failed = 0;

/** Runs one check, printing `ok   [LABEL] NAME` or `FAIL [LABEL] NAME: why`. */
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   [${label}] ${name}`);
  } catch (e) {
    failed++;
    const why = e instanceof Error ? e.message : typeof e === "string" ? e : show(e);
    console.log(`FAIL [${label}] ${name}: ${why}`);
  }
}

/** JSON that shows bigints (as 123n), bytes (as their length) and Int64s; cut at 400 chars. */
function show(value) {
  const text = JSON.stringify(value, function (key, v) {
    const raw = this[key]; // before toJSON: a Buffer is still a Uint8Array here
    if (typeof raw === "bigint") return `${raw}n`;
    if (raw instanceof Uint8Array) return `<${raw.length} bytes>`;
    if (raw instanceof thrift.Int64) return `Int64(${thrift.toBigInt(raw)})`;
    if (typeof raw === "number" && !Number.isFinite(raw)) return String(raw);
    if (raw === undefined) return "undefined";
    return v;
  });
  return text === undefined ? String(value) : text.length > 400 ? `${text.slice(0, 400)}...` : text;
}

/** A plain Uint8Array view of bytes (a Buffer would not deep-equal one). */
const plain = (bytes) => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function expectEqual(actual, expected, what = "value") {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new Error(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

/** Expects `run` to fail with the contract's InvalidOperation(whatOp, why). */
async function expectInvalidOperation(run, whatOp, why) {
  let result;
  try {
    result = await run();
  } catch (e) {
    if (!(e instanceof InvalidOperation)) {
      throw new Error(`not an InvalidOperation: ${e?.name ?? typeof e} ${show(e?.message ?? e)}`);
    }
    expectEqual({ whatOp: e.whatOp, why: e.why }, { whatOp, why }, "InvalidOperation");
    return;
  }
  throw new Error(`succeeded with ${show(result)}, expected InvalidOperation`);
}

/** A check that `run()` answers with something whose `pick` equals `want`. */
const answers = (name, run, pick, want) =>
  check(name, async () => expectEqual(pick(await run()), want));
/** A check that `run()` fails with InvalidOperation(whatOp, why). */
const refuses = (name, run, whatOp, why) =>
  check(name, () => expectInvalidOperation(run, whatOp, why));

const same = (r) => r;
const big = (i64) => (i64 instanceof thrift.Int64 ? thrift.toBigInt(i64) : i64);
const i64 = (value) => thrift.fromBigInt(value);
const add = (num1, num2) => () => call("add", num1, num2);
const calc = (num1, num2, op, comment) => () =>
  call("calculate", 7, new Work({ num1, num2, op, ...(comment ? { comment } : {}) }));
const sum = (...values) => () => call("sum", values.map(i64));

// The whole run is bounded: a server that hangs fails the run.
setTimeout(() => {
  console.log(`FAIL [${label}] run: not finished within 60 s (thrift-node, ${label})`);
  process.exit(1);
}, 60_000).unref();

// --- the contract ------------------------------------------------------------

await answers("ping", () => call("ping"), (r) => r ?? null, null);

await answers("add 1+2=3", add(1, 2), same, 3);
await answers("add -5+3=-2", add(-5, 3), same, -2);
await answers("add i32max+i32min=-1", add(I32_MAX, I32_MIN), same, -1);
await refuses("add i32max+1 overflows", add(I32_MAX, 1), 1, "overflow");
await refuses("add i32min-1 overflows", add(I32_MIN, -1), 1, "overflow");

await answers("calculate ADD 7+3=10", calc(7, 3, ADD), same, 10);
await answers("calculate SUBTRACT 7-10=-3", calc(7, 10, SUBTRACT), same, -3);
await answers("calculate MULTIPLY -7*6=-42", calc(-7, 6, MULTIPLY), same, -42);
await answers("calculate DIVIDE 7/2=3", calc(7, 2, DIVIDE), same, 3);
await answers("calculate DIVIDE -7/2=-3 (toward zero)", calc(-7, 2, DIVIDE), same, -3);
await answers("calculate DIVIDE 7/-2=-3 (toward zero)", calc(7, -2, DIVIDE), same, -3);
await answers("calculate DIVIDE i32min/1", calc(I32_MIN, 1, DIVIDE), same, I32_MIN);
await answers("calculate with a comment", calc(2, 3, MULTIPLY, "a comment ✓"), same, 6);
await refuses("calculate DIVIDE by 0", calc(1, 0, DIVIDE), 4, "Cannot divide by 0");
await refuses("calculate unknown op 9", calc(1, 2, 9), 9, "Invalid operation");
await refuses("calculate op 0 is unknown", calc(1, 2, 0), 0, "Invalid operation");
await refuses("calculate ADD i32max+1 overflows", calc(I32_MAX, 1, ADD), ADD, "overflow");
await refuses("calculate SUBTRACT i32min-1 overflows", calc(I32_MIN, 1, SUBTRACT), 2, "overflow");
await refuses("calculate 65536*65536 overflows", calc(65536, 65536, MULTIPLY), 3, "overflow");
await refuses("calculate i32min/-1 overflows", calc(I32_MIN, -1, DIVIDE), 4, "overflow");

const texts = {
  "ASCII": "hello",
  "empty": "",
  "unicode incl. astral": "héllo wörld ✓ 🌍 𝄞 中文",
  "escapes and NUL": 'quote " backslash \\ tab \t newline \n nul \u0000 end',
  "1 MiB": "abcdefgé✓🌍".repeat(1 << 16), // 16 bytes of UTF-8 each
};
for (const [name, text] of Object.entries(texts)) {
  await answers(`echo ${name}`, () => call("echo", text), same, text);
}

const blobs = {
  "empty": new Uint8Array(),
  "all 256 byte values": Uint8Array.from({ length: 256 }, (_, i) => i),
  "1 MiB": Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 31 + (i >> 8)) & 0xff),
};
for (const [name, data] of Object.entries(blobs)) {
  await answers(`echoBinary ${name}`, () => call("echoBinary", Buffer.from(data)), plain, data);
}

const byKey = ([a], [b]) => (a < b ? -1 : a > b ? 1 : 0);
/** The fields of a Shape as plain values, tags as [key, bigint] pairs sorted by key. */
const shapeFields = (s) => ({
  name: s.name,
  coords: s.coords,
  tags: Object.entries(s.tags ?? {}).map(([k, v]) => [k, big(v)]).sort(byKey),
  blob: s.blob === null ? null : plain(s.blob),
  flag: s.flag,
});
const noBlob = new Uint8Array();
const shapes = {
  "full (i64 tags beyond 2^53)": {
    name: "triangle ✓ 𝄞",
    coords: [0, 1.5, -2.25, Math.PI, 1e308, 5e-324, -1e-300, 2 ** 53 + 2],
    tags: {
      max: I64_MAX,
      min: I64_MIN,
      big: 2n ** 62n,
      pastSafe: 2n ** 53n + 1n,
      negPastSafe: -(2n ** 53n) - 1n,
      zero: 0n,
      minusOne: -1n,
    },
    blob: Uint8Array.of(0, 1, 127, 128, 254, 255),
    flag: true,
  },
  "empty": { name: "", coords: [], tags: {}, blob: noBlob, flag: false },
  "non-finite doubles": {
    name: "∞",
    coords: [NaN, Infinity, -Infinity],
    tags: {},
    blob: noBlob,
    flag: false,
  },
};
for (const [name, fields] of Object.entries(shapes)) {
  const shape = new Shape({
    ...fields,
    tags: Object.fromEntries(Object.entries(fields.tags).map(([k, v]) => [k, i64(v)])),
    blob: Buffer.from(fields.blob),
  });
  const want = { ...fields, tags: Object.entries(fields.tags).sort(byKey) };
  await answers(`echoShape ${name}`, () => call("echoShape", shape), shapeFields, want);
}

await answers("sum [i64max, 1, -1] = i64max (exact)", sum(I64_MAX, 1n, -1n), big, I64_MAX);
await answers("sum [] = 0", sum(), big, 0n);
await answers("sum [i64min] = i64min", sum(I64_MIN), big, I64_MIN);
await answers(
  "sum [2^53+1, 2^53+1] = 2^54+2 (exact)",
  sum(2n ** 53n + 1n, 2n ** 53n + 1n),
  big,
  2n ** 54n + 2n,
);
await refuses("sum [i64max, 1] overflows", sum(I64_MAX, 1n), 1, "overflow");
await refuses("sum [i64min, -1] overflows", sum(I64_MIN, -1n), 1, "overflow");

await check("zip (oneway: no reply awaited)", async () => {
  const before = strayErrors.length;
  expectEqual((await call("zip")) ?? null, null);
  if (transportName !== "http") return;
  // Over HTTP the library calls back at once while the POST goes on; a reply
  // it does not accept (any status but 200) comes only as a connection error.
  await new Promise((ok) => setTimeout(ok, 250));
  const errors = strayErrors.splice(before);
  if (errors.length > 0) throw new Error(errors.map((e) => e?.message ?? e).join("; "));
});
await answers("add after zip: the connection is still in step", add(40, 2), same, 42);

await check("unknown method: TApplicationException UNKNOWN_METHOD", async () => {
  let reply;
  try {
    reply = await callUnknown("nope");
  } catch (e) {
    if (!(e instanceof Thrift.TApplicationException)) {
      throw new Error(
        `not a TApplicationException: ${e?.name ?? typeof e} ${show(e?.message ?? e)}`,
      );
    }
    expectEqual(e.type, Thrift.TApplicationExceptionType.UNKNOWN_METHOD, "type");
    return;
  }
  throw new Error(`answered ${show(reply)}`);
});
await answers("add after an unknown method", add(-40, -2), same, -42);

await check("32 concurrent add calls on one connection", async () => {
  const n = Array.from({ length: 32 }, (_, i) => i);
  const replies = await Promise.all(n.map((i) => call("add", i, 1000 * i)));
  expectEqual(replies, n.map((i) => 1001 * i), "sums");
});

await check("no stray connection errors", () => {
  if (strayErrors.length > 0) throw new Error(strayErrors.map((e) => e?.message ?? e).join("; "));
});

// --- verdict -----------------------------------------------------------------

if (failed === 0) {
  console.log(`all ${passed} checks passed (thrift-node, ${label})`);
  process.exit(0);
}
console.log(`${failed} of ${passed + failed} checks failed (thrift-node, ${label})`);
process.exit(1);
