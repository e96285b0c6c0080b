// A Connect client on Node (connect-es) that runs the whole Calculator
// contract of /work/shared/interop/README.md against a Connect server.
//
//   node connect_client.mjs BASE_URL [--format proto|json] [--proto-dir DIR]
//
// BASE_URL is the server's origin, e.g. http://127.0.0.1:40123/. `--format`
// picks application/proto (the default) or application/json; HTTP/1.1 always.
// There is no generated code: the service descriptor is built at run time
// from calculator.proto by protoc (`--proto-dir`, by default
// examples/calculator of the repository holding this script's real location).
//
// Each check prints `ok NAME` or `FAIL NAME: why`; then
// `all N checks passed (connect, FORMAT)` and exit 0, or a count of the
// failures and exit 1. The whole run is bounded (60 s).

import process from "node:process";
import { isDeepStrictEqual } from "node:util";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { loadRegistry } from "./_generated.mjs";
import { argv, idlDir, option } from "./_args.mjs";

// --- arguments and descriptors ---------------------------------------------

const protoDir = idlDir(import.meta.url, "--proto-dir");
const format = option("--format", "proto");
const positional = argv.filter((a, i) => !a.startsWith("--") && !argv[i - 1]?.startsWith("--"));
if (positional.length !== 1 || (format !== "proto" && format !== "json")) {
  process.stderr.write(
    "usage: node connect_client.mjs BASE_URL [--format proto|json] [--proto-dir DIR]\n",
  );
  process.exit(2);
}
const baseUrl = positional[0].endsWith("/") ? positional[0] : `${positional[0]}/`;

const registry = loadRegistry(protoDir);
const Calculator = registry.getService("interop.Calculator");
const InvalidOperationDesc = registry.getMessage("interop.InvalidOperation");
if (!Calculator || !InvalidOperationDesc) {
  throw new Error(`interop.Calculator not found in ${protoDir}/calculator.proto`);
}

// --- the client ------------------------------------------------------------

// An interceptor that remembers the last request's and response's headers,
// to see Connect-Timeout-Ms go out and the reply's content type come back.
const seen = { request: new Headers(), response: new Headers() };
const spy = (next) => async (req) => {
  seen.request = new Headers(req.header);
  const res = await next(req);
  seen.response = new Headers(res.header);
  return res;
};

const transport = createConnectTransport({
  baseUrl,
  httpVersion: "1.1",
  useBinaryFormat: format === "proto",
  interceptors: [spy],
});
const client = createClient(Calculator, transport);
const contentType = format === "proto" ? "application/proto" : "application/json";

// --- checking --------------------------------------------------------------

const I32_MAX = 2 ** 31 - 1;
const I32_MIN = -(2 ** 31);
const I64_MAX = 2n ** 63n - 1n;
const I64_MIN = -(2n ** 63n);
const [ADD, SUBTRACT, MULTIPLY, DIVIDE] = [1, 2, 3, 4];

let passed = 0;
let failed = 0;

/** Runs one check, printing `ok NAME` or `FAIL NAME: why`. */
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** JSON that shows bigints (as 123n) and bytes (as their length), cut at 400 chars. */
function show(value) {
  const text = JSON.stringify(value, function (key, v) {
    const raw = this[key]; // before toJSON: a Buffer is still a Uint8Array here
    if (typeof raw === "bigint") return `${raw}n`;
    if (raw instanceof Uint8Array) return `<${raw.length} bytes>`;
    if (typeof raw === "number" && !Number.isFinite(raw)) return String(raw);
    return v;
  });
  return text.length > 400 ? `${text.slice(0, 400)}...` : text;
}

/** A plain Uint8Array view of bytes (a Buffer would not deep-equal one). */
const plain = (bytes) => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function expectEqual(actual, expected, what = "value") {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new Error(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

/** Expects `call` to fail with the contract's InvalidOperation(whatOp, why). */
async function expectInvalidOperation(call, whatOp, why) {
  let result;
  try {
    result = await call();
  } catch (e) {
    if (!(e instanceof ConnectError)) throw new Error(`not a ConnectError: ${e}`);
    if (e.code !== Code.InvalidArgument) {
      throw new Error(`code ${Code[e.code]} (${e.message}), expected InvalidArgument`);
    }
    expectEqual(e.rawMessage, why, "message");
    const details = e.findDetails(InvalidOperationDesc).map((d) => ({
      whatOp: d.whatOp,
      why: d.why,
    }));
    expectEqual(details, [{ whatOp, why }], "interop.InvalidOperation details");
    return;
  }
  throw new Error(`succeeded with ${show(result)}, expected InvalidOperation`);
}

/** POSTs raw bytes and expects a Connect JSON error with `status` and `code`. */
async function expectRawError(path, type, body, status, code) {
  const res = await fetch(new URL(path, baseUrl), {
    method: "POST",
    headers: { "content-type": type, "connect-protocol-version": "1" },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let error;
  try {
    error = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${res.status}, body is not JSON: ${show(text)}`);
  }
  expectEqual({ status: res.status, code: error?.code }, { status, code }, "status and code");
}

/** A check that `call()` answers with something whose `pick` equals `want`. */
const answers = (name, call, pick, want) =>
  check(name, async () => expectEqual(pick(await call()), want));
/** A check that `call()` fails with InvalidOperation(whatOp, why). */
const refuses = (name, call, whatOp, why) =>
  check(name, () => expectInvalidOperation(call, whatOp, why));

const add = (num1, num2) => () => client.add({ num1, num2 });
const calc = (num1, num2, op, comment) => () =>
  client.calculate({ logid: 7, w: { num1, num2, op, ...(comment ? { comment } : {}) } });
const sum = (...values) => () => client.sum({ values });

// The whole run is bounded: a server that hangs fails the run.
setTimeout(() => {
  console.log(`FAIL run: not finished within 60 s (connect, ${format})`);
  process.exit(1);
}, 60_000).unref();

// --- the contract ------------------------------------------------------------

const typeName = (m) => m.$typeName;
await answers("Ping", () => client.ping({}), typeName, "interop.Empty");
const replyType = () => seen.response.get("content-type"); // of the Ping just made
await answers(`reply content-type ${contentType}`, () => client.ping({}), replyType, contentType);

await answers("Add 1+2=3", add(1, 2), (r) => r.sum, 3);
await answers("Add -5+3=-2", add(-5, 3), (r) => r.sum, -2);
await answers("Add i32max+i32min=-1", add(I32_MAX, I32_MIN), (r) => r.sum, -1);
await refuses("Add i32max+1 overflows", add(I32_MAX, 1), 1, "overflow");
await refuses("Add i32min-1 overflows", add(I32_MIN, -1), 1, "overflow");

const value = (r) => r.value;
await answers("Calculate ADD 7+3=10", calc(7, 3, ADD), value, 10);
await answers("Calculate SUBTRACT 7-10=-3", calc(7, 10, SUBTRACT), value, -3);
await answers("Calculate MULTIPLY -7*6=-42", calc(-7, 6, MULTIPLY), value, -42);
await answers("Calculate DIVIDE 7/2=3", calc(7, 2, DIVIDE), value, 3);
await answers("Calculate DIVIDE -7/2=-3 (toward zero)", calc(-7, 2, DIVIDE), value, -3);
await answers("Calculate DIVIDE 7/-2=-3 (toward zero)", calc(7, -2, DIVIDE), value, -3);
await answers("Calculate DIVIDE i32min/1", calc(I32_MIN, 1, DIVIDE), value, I32_MIN);
await answers("Calculate with a comment", calc(2, 3, MULTIPLY, "a comment ✓"), value, 6);
await refuses("Calculate DIVIDE by 0", calc(1, 0, DIVIDE), 4, "Cannot divide by 0");
await refuses("Calculate unknown op 9", calc(1, 2, 9), 9, "Invalid operation");
await refuses("Calculate op 0 (unspecified) is unknown", calc(1, 2, 0), 0, "Invalid operation");
await refuses("Calculate 65536*65536 overflows", calc(65536, 65536, MULTIPLY), 3, "overflow");
await refuses("Calculate i32min/-1 overflows", calc(I32_MIN, -1, DIVIDE), 4, "overflow");

const texts = {
  "ASCII": "hello",
  "empty": "",
  "non-BMP unicode": "héllo 🌍",
  "escapes and NUL": 'quote " backslash \\ tab \t newline \n nul \u0000 end',
};
for (const [name, text] of Object.entries(texts)) {
  await answers(`Echo ${name}`, () => client.echo({ text }), (r) => r.text, text);
}

const blobs = {
  "empty": new Uint8Array(),
  "all 256 byte values": Uint8Array.from({ length: 256 }, (_, i) => i),
  "1 MiB": Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 31 + (i >> 8)) & 0xff),
};
for (const [name, data] of Object.entries(blobs)) {
  await answers(
    `EchoBinary ${name}`,
    () => client.echoBinary({ data }),
    (r) => plain(r.data),
    data,
  );
}

/** The fields of a Shape, tags sorted by key, so that two can be compared. */
const shapeFields = ({ name, coords, tags, blob, flag }) => ({
  name,
  coords,
  tags: Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  blob: plain(blob),
  flag,
});
const noBlob = new Uint8Array();
const shapes = {
  "full": {
    name: "triangle ✓",
    coords: [0, 1.5, -2.25, Math.PI, 1e308, 5e-324, -1e-300],
    tags: { big: 2n ** 62n, min: I64_MIN, max: I64_MAX, zero: 0n, minusOne: -1n },
    blob: Uint8Array.of(0, 1, 127, 128, 254, 255),
    flag: true,
  },
  "empty": { name: "", coords: [], tags: {}, blob: noBlob, flag: false },
  // protobuf's JSON mapping writes these as "NaN", "Infinity", "-Infinity".
  "non-finite doubles": { name: "∞", coords: [NaN, Infinity, -Infinity], tags: {}, blob: noBlob },
};
for (const [name, shape] of Object.entries(shapes)) {
  const want = shapeFields({ flag: false, ...shape });
  await answers(`EchoShape ${name}`, () => client.echoShape(shape), shapeFields, want);
}

const total = (r) => r.total;
await answers("Sum [i64max, 1, -1] = i64max", sum(I64_MAX, 1n, -1n), total, I64_MAX);
await answers("Sum [] = 0", sum(), total, 0n);
await refuses("Sum [i64max, 1] overflows", sum(I64_MAX, 1n), 1, "overflow");
await refuses("Sum [i64min, -1] overflows", sum(I64_MIN, -1n), 1, "overflow");

await answers("Zip returns Empty", () => client.zip({}), typeName, "interop.Empty");

// Raw HTTP, no connect-es: an unknown method and bodies that do not decode.
await check("unknown method: HTTP 404, unimplemented", async () => {
  await expectRawError("interop.Calculator/Nope", "application/json", "{}", 404, "unimplemented");
});
await check("undecodable proto body: HTTP 400, invalid_argument", async () => {
  const body = Uint8Array.of(0xff, 0xff);
  await expectRawError(
    "interop.Calculator/Add",
    "application/proto",
    body,
    400,
    "invalid_argument",
  );
});
await check("undecodable JSON body: HTTP 400, invalid_argument", async () => {
  const body = '{"num1": ';
  await expectRawError("interop.Calculator/Add", "application/json", body, 400, "invalid_argument");
});

await check("timeout: Connect-Timeout-Ms sent, call succeeds", async () => {
  const reply = await client.add({ num1: 20, num2: 22 }, { timeoutMs: 2_000 });
  expectEqual(seen.request.get("connect-timeout-ms"), "2000", "Connect-Timeout-Ms");
  expectEqual(reply.sum, 42, "sum");
});

await check("32 concurrent Add calls", async () => {
  const n = Array.from({ length: 32 }, (_, i) => i);
  const replies = await Promise.all(n.map((i) => client.add({ num1: i, num2: 1000 * i })));
  expectEqual(replies.map((r) => r.sum), n.map((i) => 1001 * i), "sums");
});

// --- verdict -----------------------------------------------------------------

if (failed === 0) {
  console.log(`all ${passed} checks passed (connect, ${format})`);
  process.exit(0);
}
console.log(`${failed} of ${passed + failed} checks failed (connect, ${format})`);
process.exit(1);
