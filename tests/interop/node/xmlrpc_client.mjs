// An XML-RPC client on Node (the `xmlrpc` npm package) calling the
// Calculator of /work/shared/interop/README.md over HTTP.
//
//   node xmlrpc_client.mjs URL
//
// The package writes every whole JavaScript number as <int>, 2^40 included
// (`<int>1099511627776</int>`), which the contract's i64 params must accept
// as Python does; it reads <i8> as a decimal string. Each check prints
// `ok   NAME` or `FAIL NAME: why`; then `all N checks passed (xmlrpc-node)`
// and exit 0, or a count of the failures and exit 1. Bad usage: exit 2.
// Every call is bounded (10 s).

import { Buffer } from "node:buffer";
import process from "node:process";
import { isDeepStrictEqual } from "node:util";
import xmlrpc from "xmlrpc";
import Serializer from "xmlrpc/lib/serializer.js";

const [url] = process.argv.slice(2);
if (url === undefined || !/^http:\/\//.test(url)) {
  process.stderr.write("usage: node xmlrpc_client.mjs http://HOST:PORT/RPC2\n");
  process.exit(2);
}
const client = xmlrpc.createClient(url);

/** Calls `method`; resolves with the result, rejects with the fault (at most 10 s). */
function call(method, params) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${method}: no reply within 10 s`)), 10_000);
    client.methodCall(method, params, (error, value) => {
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(value);
    });
  });
}

/** The fault a call is answered with, as [faultCode, faultString]. */
async function fault(method, params) {
  try {
    const value = await call(method, params);
    throw new Error(`expected a fault, got ${JSON.stringify(value)}`);
  } catch (error) {
    if (error.faultCode === undefined) throw error;
    return [error.faultCode, error.faultString];
  }
}

function expect(actual, expected, what) {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

const TWO_40 = 2 ** 40;
const checks = [
  ["the package writes 2^40 as <int>", () => {
    const xml = Serializer.serializeMethodCall("sum", [[TWO_40]]);
    if (!xml.includes("<int>1099511627776</int>")) throw new Error(`it wrote ${xml}`);
  }],
  ["sum([2^40]) is accepted: <int> beyond 32 bits is an i64", async () => {
    // An i64 result beyond 32 bits travels as <i8>, which the package reads as a string.
    expect(String(await call("sum", [[TWO_40]])), "1099511627776", "sum");
  }],
  ["sum([2^40, 2^40, -1]) sums exactly", async () => {
    expect(String(await call("sum", [[TWO_40, TWO_40, -1]])), "2199023255551", "sum");
  }],
  ["sum of small ints is an <int>", async () => {
    expect(await call("sum", [[1, 2, 3]]), 6, "sum");
  }],
  ["add(1, 2) = 3", async () => {
    expect(await call("add", [1, 2]), 3, "add");
  }],
  ["add(2^31, 0): an <int> beyond i32 where an i32 is expected is invalid params", async () => {
    expect((await fault("add", [2 ** 31, 0]))[0], -32602, "faultCode");
  }],
  ["sum([2^63]): an <int> beyond i64 is a parse error", async () => {
    expect((await fault("sum", [[2 ** 63]]))[0], -32700, "faultCode");
  }],
  ["echoShape round-trips an i64 tag written as <int>", async () => {
    const shape = {
      name: "s",
      coords: [2.5, -1, 0],
      tags: { big: TWO_40, small: 7 },
      blob: Buffer.from([0, 1, 255]),
      flag: true,
    };
    const back = await call("echoShape", [shape]);
    expect(back.name, "s", "name");
    expect(back.coords, [2.5, -1, 0], "coords");
    expect(back.tags, { big: "1099511627776", small: 7 }, "tags");
    expect([...back.blob], [0, 1, 255], "blob");
    expect(back.flag, true, "flag");
  }],
  ["calculate divides by zero: InvalidOperation, fault 1", async () => {
    expect(
      await fault("calculate", [1, { num1: 1, num2: 0, op: 4 }]),
      [1, "Cannot divide by 0"],
      "fault",
    );
  }],
];

let failed = 0;
for (const [name, check] of checks) {
  try {
    await check();
    process.stdout.write(`ok   ${name}\n`);
  } catch (error) {
    failed++;
    process.stdout.write(`FAIL ${name}: ${error?.stack ?? error}\n`);
  }
}
if (failed === 0) {
  process.stdout.write(`all ${checks.length} checks passed (xmlrpc-node)\n`);
  process.exit(0);
}
process.stdout.write(`${failed} of ${checks.length} checks failed (xmlrpc-node)\n`);
process.exit(1);
