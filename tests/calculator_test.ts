import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { xmlRpc } from "../codecs/xml_rpc.ts";
import { RpcError } from "../mod.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
import { connectTcp } from "../rpc/transports/tcp.ts";
import { run, spawnListening } from "./interop/_process.ts";
import { needs } from "./_needs.ts";

const CALCULATOR = [
  "run",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "examples/calculator.ts",
];

Deno.test("the calculator finishes a call in flight on SIGINT, then exits 0", async () => {
  await using server = await spawnListening(Deno.execPath(), {
    args: [...CALCULATOR, "--port", "0"],
  });
  assert.match(server.url, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  const client = await connectTcp({ port: server.port }, { codec: jsonRpc(), framing: newline() });
  assert.equal(await client.call("add", [40, 2]), 42);
  const stopped = server.stop("SIGINT");
  const closed = client.closed;
  const result = await stopped;
  assert.equal(result.code, 0, server.stderr());
  await closed; // the server closed the connection as it stopped
  assert.equal(server.stdout(), "", "only the listening line goes to stdout");
});

Deno.test("the calculator serves over a Unix socket", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/calc.sock`;
    await using server = await spawnListening(Deno.execPath(), {
      args: [...CALCULATOR, "--transport", "unix", "--path", path],
    });
    assert.equal(server.url, `unix:${path}`);
    await using client = await connectTcp({ transport: "unix", path }, {
      codec: jsonRpc(),
      framing: newline(),
    });
    await assert.rejects(
      client.call("add", [2147483647, 1]),
      (e: unknown) => e instanceof RpcError && e.code === 1,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the calculator refuses an unknown codec, framing or transport with exit 2 and a usage text", async () => {
  for (
    const args of [["--codec", "nope"], ["--framing", "nope"], ["--transport", "carrier-pigeon"], [
      "--port",
      "x",
    ]]
  ) {
    const result = await run(Deno.execPath(), { args: [...CALCULATOR, ...args], timeout: 20_000 });
    assert.equal(result.code, 2, args.join(" "));
    assert.match(result.stderr, /Usage: deno task calculator/);
  }
});

Deno.test("the calculator serves JSON-RPC over HTTP at POST /rpc, notifications only answered 204", async () => {
  await using server = await spawnListening(Deno.execPath(), {
    args: [...CALCULATOR, "--transport", "http", "--port", "0"],
  });
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/rpc$/);
  const post = (body: string) =>
    fetch(server.url, { method: "POST", headers: { "content-type": "application/json" }, body });
  const reply = await post('{"jsonrpc":"2.0","method":"add","params":{"num1":1,"num2":2},"id":1}');
  assert.equal(reply.status, 200);
  assert.deepEqual(await reply.json(), { jsonrpc: "2.0", result: 3, id: 1 });
  const failure = await post(
    '{"jsonrpc":"2.0","method":"calculate","params":[1,{"num1":1,"num2":0,"op":4}],"id":2}',
  );
  assert.equal(failure.status, 200, "JSON-RPC errors are HTTP 200");
  assert.deepEqual((await failure.json()).error, {
    code: 1,
    message: "Cannot divide by 0",
    data: { whatOp: 4, why: "Cannot divide by 0" },
  });
  const notified = await post('{"jsonrpc":"2.0","method":"zip"}');
  assert.equal(notified.status, 204);
  await notified.body?.cancel();
  const result = await server.stop("SIGTERM");
  assert.equal(result.code, 0, server.stderr());
});

Deno.test("the calculator serves XML-RPC over HTTP at /RPC2 to Python's xmlrpc.client", {
  ignore: needs("python3"),
}, async () => {
  await using server = await spawnListening(Deno.execPath(), {
    args: [...CALCULATOR, "--codec", "xmlrpc", "--transport", "http", "--port", "0"],
  });
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/RPC2$/);
  const script = `import sys, xmlrpc.client
calc = xmlrpc.client.ServerProxy(sys.argv[1], allow_none=True)
assert calc.ping() is None
assert calc.add(1, 2) == 3
assert calc.calculate(1, {"num1": -7, "num2": 2, "op": 4}) == -3
for args, why in [((1, {"num1": 1, "num2": 0, "op": 4}), "Cannot divide by 0"), ((1, {"num1": 65536, "num2": 65536, "op": 3}), "overflow")]:
    try:
        calc.calculate(*args)
        raise SystemExit("no fault")
    except xmlrpc.client.Fault as fault:
        assert fault.faultCode == 1 and why in fault.faultString, fault
assert calc.echo("h\\u00e9llo \\u2713") == "h\\u00e9llo \\u2713"
assert calc.echoBinary(xmlrpc.client.Binary(b"\\x00\\xff")).data == b"\\x00\\xff"
try:
    calc.echoBinary("AAEC")  # a <string> is not bytes, base64 or not
    raise SystemExit("no fault")
except xmlrpc.client.Fault as fault:
    assert fault.faultCode == -32602, fault
shape = {"name": "s", "coords": [1.5, -2.0], "tags": {"a": 1}, "blob": xmlrpc.client.Binary(b"x"), "flag": True}
back = calc.echoShape(shape)
assert back["coords"] == [1.5, -2.0] and back["tags"] == {"a": 1} and back["blob"].data == b"x", back
assert [type(c) for c in back["coords"]] == [float, float], back
assert calc.sum([1, 2, 3]) == 6
try:
    calc.add(1, "2")
    raise SystemExit("no fault")
except xmlrpc.client.Fault as fault:
    assert fault.faultCode == -32602, fault
print("ok")`;
  const output = await new Deno.Command("python3", { args: ["-c", script, server.url] }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  assert.equal(output.code, 0, decode(output.stderr) + server.stderr());
  assert.equal(decode(output.stdout).trim(), "ok");
});

Deno.test("the calculator serves XML-RPC over TCP with a 4-byte length prefix", async () => {
  await using server = await spawnListening(Deno.execPath(), {
    args: [...CALCULATOR, "--codec", "xmlrpc"],
  });
  await using client = await connectTcp({ port: server.port }, {
    codec: xmlRpc(),
    framing: lengthPrefix(),
  });
  assert.equal(await client.call("sum", [[2n ** 62n, 2n ** 62n - 1n]]), 2n ** 63n - 1n);
  await assert.rejects(
    client.call("sum", [[2n ** 62n, 2n ** 62n]]),
    (e: unknown) => e instanceof RpcError && e.code === 1,
  );
});

Deno.test(
  "the XML-RPC calculator describes itself and answers system.multicall, as Python's client expects",
  { ignore: needs("python3") },
  async () => {
    await using server = await spawnListening(Deno.execPath(), {
      args: [...CALCULATOR, "--codec", "xmlrpc", "--transport", "http", "--port", "0"],
    });
    const script = `import json, sys, xmlrpc.client
calc = xmlrpc.client.ServerProxy(sys.argv[1], allow_none=True)
out = {}
out["methods"] = calc.system.listMethods()
out["help"] = calc.system.methodHelp("add")
out["add"] = calc.system.methodSignature("add")
out["calculate"] = calc.system.methodSignature("calculate")
out["echoBinary"] = calc.system.methodSignature("echoBinary")
out["sum"] = calc.system.methodSignature("sum")
multi = xmlrpc.client.MultiCall(calc)
multi.add(1, 2)
multi.calculate(1, {"num1": 1, "num2": 0, "op": 4})
multi.nope()
results = multi()
out["first"] = results[0]
faults = []
for i in (1, 2):
    try:
        results[i]
    except xmlrpc.client.Fault as fault:
        faults.append([fault.faultCode, fault.faultString])
out["faults"] = faults
try:
    calc.system.methodSignature("nope")
except xmlrpc.client.Fault as fault:
    out["unknown"] = fault.faultCode
print(json.dumps(out))`;
    const output = await new Deno.Command("python3", { args: ["-c", script, server.url] }).output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    assert.equal(output.code, 0, decode(output.stderr) + server.stderr());
    const out = JSON.parse(decode(output.stdout));
    assert.deepEqual(out.methods, [
      "add",
      "calculate",
      "echo",
      "echoBinary",
      "echoShape",
      "ping",
      "sum",
      "system.getCapabilities",
      "system.listMethods",
      "system.methodHelp",
      "system.methodSignature",
      "system.multicall",
      "zip",
    ]);
    assert.equal(out.help, "The 32-bit signed sum of num1 and num2");
    assert.deepEqual(out.add, [["int", "int", "int"]]);
    assert.deepEqual(out.calculate, [["int", "int", "struct"]]);
    assert.deepEqual(out.echoBinary, [["base64", "base64"]]);
    assert.deepEqual(out.sum, [["i8", "array"]]);
    assert.equal(out.first, 3);
    assert.deepEqual(out.faults, [[1, "Cannot divide by 0"], [-32601, "Method not found"]]);
    assert.equal(out.unknown, -32601);
  },
);
