// `parley call rpyc://…` against Python's own RPyC: Debian's python3-rpyc
// ThreadedServer (tests/peers/rpyc_server.py's service, and SlaveService
// for --classic), started on port 0.

import assert from "node:assert/strict";
import { DEBIAN_PYTHON, formatOutput, spawnListening } from "./interop/_process.ts";
import { ok, parley } from "./_cli.ts";
import { testNeeding } from "./_needs.ts";

const test = testNeeding("py:rpyc");

function start(mode: "service" | "classic") {
  return spawnListening(DEBIAN_PYTHON, { args: ["tests/peers/rpyc_server.py", mode] });
}

test("parley call rpyc:// add 1 2 prints 3; values print as Python's repr", async () => {
  await using server = await start("service");
  const url = `rpyc://127.0.0.1:${server.port}`;
  assert.equal(ok(await parley("call", url, "add", "1", "2")), "3\n");
  assert.equal(ok(await parley("call", url, "add", "-1", "2")), "1\n");
  assert.equal(
    ok(await parley("call", url, "add", "9223372036854775807", "9223372036854775807")),
    "18446744073709551614\n",
  );
  assert.equal(ok(await parley("call", url, "add", "0.5", "2")), "2.5\n");
  assert.equal(ok(await parley("call", url, "add", "2.0", "1")), "3.0\n");
  assert.equal(ok(await parley("call", url, "add", '"a"', "b")), "'ab'\n");
  assert.equal(
    ok(await parley("call", url, "echo", '[1, [2.5, "x"], null, true, {"$bytes": "AAE="}]')),
    "(1, (2.5, 'x'), None, True, b'\\x00\\x01')\n",
  );
  // key=value pairs are keyword arguments.
  assert.equal(ok(await parley("call", url, "kwargs", "a=1", "z=9")), "(1, 2, (('z', 9),))\n");
  // An object that brine cannot carry prints as its remote repr.
  assert.equal(ok(await parley("call", url, "make_list")), "[10, 20, 30]\n");
});

test("parley call rpyc:// prints a Python exception's type and message, exit status 1", async () => {
  await using server = await start("service");
  const url = `rpyc://127.0.0.1:${server.port}`;
  const failed = await parley("call", url, "fail", "boom");
  assert.equal(failed.code, 1, formatOutput(failed));
  assert.equal(failed.stdout, "");
  assert.match(failed.stderr, /^KeyError: boom$/m);
  assert.match(failed.stderr, /Traceback/);
  const missing = await parley("call", url, "no_such_method");
  assert.equal(missing.code, 1, formatOutput(missing));
  assert.match(missing.stderr, /AttributeError: .*no_such_method/);
});

test("parley call rpyc:// --classic math.sqrt 2 and other module functions", async () => {
  await using server = await start("classic");
  const url = `rpyc://127.0.0.1:${server.port}`;
  assert.equal(
    ok(await parley("call", url, "--classic", "math.sqrt", "2")),
    "1.4142135623730951\n",
  );
  assert.equal(ok(await parley("call", url, "--classic", "os.path.join", "a", "b")), "'a/b'\n");
  assert.equal(ok(await parley("call", url, "--classic", "math.ldexp", "1.0", "3")), "8.0\n");
  assert.equal(
    ok(await parley("call", url, "--classic", "math.factorial", "25")),
    "15511210043330985984000000\n",
  );
  const bad = await parley("call", url, "--classic", "math.sqrt", "-1");
  assert.equal(bad.code, 1, formatOutput(bad));
  assert.match(bad.stderr, /ValueError: math domain error/);
});

test("parley refuses rpyc:// misuse with a usage error", async () => {
  const classicTcp = await parley("call", "tcp://127.0.0.1:1", "--classic", "math.sqrt", "2");
  assert.equal(classicTcp.code, 2, formatOutput(classicTcp));
  const list = await parley("list", "rpyc://127.0.0.1:1");
  assert.equal(list.code, 2, formatOutput(list));
  const notModule = await parley("call", "rpyc://127.0.0.1:1", "--classic", "sqrt", "2");
  assert.equal(notModule.code, 2, formatOutput(notModule));
  assert.match(notModule.stderr, /MODULE\.FUNCTION/);
  const refused = await parley("call", "rpyc://127.0.0.1:1", "add", "1", "2");
  assert.equal(refused.code, 3, formatOutput(refused));
});
