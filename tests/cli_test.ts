/**
 * The parley command line against real servers: the calculator over each
 * codec and transport, Python's xmlrpc server, a language server over stdio
 * (`deno lsp`), and its own `serve`.
 */

import assert from "node:assert/strict";
import {
  DEBIAN_PYTHON,
  formatOutput,
  spawnListening,
  startCalculator,
} from "./interop/_process.ts";
import { makeCertificates } from "./_certificates.ts";
import { CLI, ok, parley } from "./_cli.ts";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { serveHttp } from "../rpc/transports/http.ts";
import { needs } from "./_needs.ts";

const PROTO = "examples/calculator/calculator.proto";
const THRIFT = "examples/calculator/calculator.thrift";

// Every codec and transport of the calculator: the URL it prints, the CLI's options, and a call.
const MATRIX: [string, string[], string[], string[], string][] = [
  ["jsonrpc over tcp", ["--codec", "jsonrpc"], [], ["add", "40", "2"], "42"],
  [
    "jsonrpc over tcp, named params",
    ["--codec", "jsonrpc"],
    [],
    ["add", "num1=40", "num2=2"],
    "42",
  ],
  [
    "jsonrpc over tcp, content-length",
    ["--framing", "content-length"],
    ["--framing", "content-length"],
    ["add", "1", "2"],
    "3",
  ],
  ["jsonrpc over http", ["--transport", "http"], [], ["echo", '"héllo"'], '"héllo"'],
  [
    "jsonrpc over ws",
    ["--transport", "ws"],
    [],
    ["sum", "[9007199254740990, 1]"],
    "9007199254740991",
  ],
  ["xmlrpc over http", ["--codec", "xmlrpc", "--transport", "http"], ["--codec", "xmlrpc"], [
    "sum",
    "[9223372036854775807, 1, -1]",
  ], "9223372036854775807"],
  ["xmlrpc over tcp", ["--codec", "xmlrpc"], ["--codec", "xmlrpc"], ["add", "1", "2"], "3"],
  [
    "msgpack over tcp",
    ["--codec", "msgpack"],
    ["--codec", "msgpack"],
    ["echoBinary", '{"$bytes": "AAEC"}'],
    '"AAEC"',
  ],
  ["protobuf over tcp", ["--codec", "protobuf"], ["--codec", "protobuf", "--proto", PROTO], [
    "interop.Calculator/Sum",
    '{"values": ["9223372036854775807", 1, -1]}',
  ], '"total": 9223372036854775807'],
  [
    "protobuf over http (Connect)",
    ["--codec", "protobuf", "--transport", "http"],
    ["--codec", "protobuf", "--proto", PROTO],
    ["interop.Calculator/Add", "num1=40", "num2=2"],
    '"sum": 42',
  ],
  ["thrift over tcp", ["--codec", "thrift"], ["--codec", "thrift", "--thrift", THRIFT], [
    "sum",
    "[9223372036854775807, 1, -1]",
  ], "9223372036854775807"],
  [
    "thrift compact, buffered",
    ["--codec", "thrift", "--protocol", "compact", "--framing", "buffered"],
    ["--codec", "thrift", "--thrift", THRIFT, "--protocol", "compact", "--framing", "buffered"],
    ["echoBinary", '"AAEC"'],
    '"AAEC"',
  ],
];

for (const [name, serverArgs, cliArgs, call, expected] of MATRIX) {
  Deno.test(`parley call: the calculator, ${name}`, async () => {
    await using server = await startCalculator(...serverArgs);
    const out = ok(await parley("call", server.url, ...cliArgs, ...call));
    assert.ok(out.includes(expected), `expected ${expected} in\n${out}`);
  });
}

Deno.test("parley call: errors go to stderr with their code, and a non-zero status", async () => {
  await using server = await startCalculator();
  const failed = await parley(
    "call",
    server.url,
    "calculate",
    "1",
    '{"num1": 1, "num2": 0, "op": 4}',
  );
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /error 1: Cannot divide by 0/);
  assert.equal(failed.stdout, "");
  const missing = await parley("call", server.url, "nope");
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /error -32601: Method not found/);
  assert.match(missing.stderr, /parley list URL shows the ones it has/);
  const mixed = await parley("call", server.url, "add", "1", "num2=2");
  assert.equal(mixed.code, 2);
  assert.match(mixed.stderr, /either all positional/);
  const json = ok(
    await parley(
      "call",
      server.url,
      "--json",
      "echoShape",
      '{"name":"s","coords":[1.5],"tags":{"a":9007199254740991},"blob":"AQI=","flag":true}',
    ),
  );
  assert.equal(
    json.trim(),
    '{"name":"s","coords":[1.5],"tags":{"a":9007199254740991},"blob":"AQI=","flag":true}',
  );
  // Beyond 2^53, JSON-RPC's calculator cannot be sent the value; the CLI says why.
  const big = await parley("call", server.url, "sum", "[9007199254740993]");
  assert.notEqual(big.code, 0);
  assert.match(big.stderr, /cannot be represented exactly in JSON/);
});

Deno.test("parley call: negative numbers are values, doubles stay doubles, usage errors exit 2", async () => {
  await using server = await startCalculator();
  assert.equal(ok(await parley("call", server.url, "add", "-1", "-2")).trim(), "-3");
  assert.equal(ok(await parley("call", server.url, "add", "num1=-1", "num2=2")).trim(), "1");
  const shape = ok(
    await parley(
      "call",
      server.url,
      "--json",
      "echoShape",
      '{"name":"s","coords":[2.0,-0.0,{"$float":3}],"tags":{},"blob":{"$bytes":"AQI="},"flag":true}',
    ),
  );
  assert.equal(
    shape.trim(),
    '{"name":"s","coords":[2.0,-0.0,3.0],"tags":{},"blob":"AQI=","flag":true}',
  );
  for (
    const args of [
      ["call", server.url, "add", "--nope", "1"],
      ["call", server.url, "echoBinary", '{"$bytes": "not base64!"}'],
      ["call", server.url, "echo", '{"$float": "many"}'],
    ]
  ) {
    const failed = await parley(...args);
    assert.equal(failed.code, 2, formatOutput(failed));
    assert.match(failed.stderr, /parley help/);
  }
});

Deno.test("parley call: connection failures and timeouts say what to do", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const refused = await parley("call", `tcp://127.0.0.1:${port}`, "add", "1", "2");
  assert.equal(refused.code, 3, formatOutput(refused));
  assert.match(refused.stderr, /is the server running there/);
  const bad = await parley("call", "ftp://x", "add");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Unknown scheme/);
  // A server that never answers: the timeout ends it.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = (async () => {
    const held: Deno.Conn[] = [];
    for await (const conn of silent) held.push(conn);
    for (const conn of held) conn.close();
  })();
  const timedOut = await parley(
    "call",
    `tcp://127.0.0.1:${(silent.addr as Deno.NetAddr).port}`,
    "--timeout",
    "300",
    "add",
    "1",
    "2",
  );
  silent.close();
  await accepting;
  assert.equal(timedOut.code, 4, formatOutput(timedOut));
  assert.match(timedOut.stderr, /raise --timeout/);
});

Deno.test("parley list: OpenRPC from a JSON-RPC server, with params, results and descriptions", async () => {
  await using server = await startCalculator();
  const out = ok(await parley("list", server.url));
  assert.match(out, /from rpc\.discover/);
  assert.match(out, /add\(num1: integer, num2: integer\) → integer/);
  assert.match(out, /The 32-bit signed sum of num1 and num2/);
  const doc = JSON.parse(ok(await parley("list", server.url, "--json")));
  assert.equal(doc.openrpc, "1.3.2");
  assert.equal(doc.info.title, "Calculator");
  assert.deepEqual(
    doc.methods.map((m: { name: string }) => m.name),
    ["add", "calculate", "echo", "echoBinary", "echoShape", "ping", "sum", "zip"],
  );
});

Deno.test("parley list: XML-RPC's introspection (the calculator), protobuf and Thrift from their IDL", async () => {
  await using xml = await startCalculator("--codec", "xmlrpc", "--transport", "http");
  const out = ok(await parley("list", xml.url, "--codec", "xmlrpc"));
  assert.match(out, /from system\.listMethods/);
  assert.match(out, /add\(int, int\) → int/);
  await using pb = await startCalculator("--codec", "protobuf", "--transport", "http");
  const proto = ok(await parley("list", pb.url, "--codec", "protobuf", "--proto", PROTO));
  assert.match(
    proto,
    /interop\.Calculator\/Add\(request: interop\.AddRequest\) → interop\.AddReply/,
  );
  await using th = await startCalculator("--codec", "thrift");
  const thrift = ok(await parley("list", th.url, "--codec", "thrift", "--thrift", THRIFT));
  assert.match(thrift, /calculate\(logid: i32, w: Work\) → i32/);
  assert.match(thrift, /zip\(\) → oneway/);
});

Deno.test("parley list and call: Python's xmlrpc server (SimpleXMLRPCServer with introspection)", {
  ignore: needs("python3"),
}, async () => {
  const script = String.raw`
import sys, xmlrpc.server
def add(a, b):
    "Adds two numbers."
    return a + b
def shout(text):
    "Upper-cases text."
    return text.upper()
server = xmlrpc.server.SimpleXMLRPCServer(("127.0.0.1", 0), allow_none=True, logRequests=False)
server.register_introspection_functions()
server.register_function(add)
server.register_function(shout)
print("listening http://127.0.0.1:%d/RPC2" % server.server_address[1], flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
`;
  await using server = await spawnListening(DEBIAN_PYTHON, {
    args: ["-c", script],
    timeout: 30_000,
  });
  const listed = ok(await parley("list", server.url, "--codec", "xmlrpc"));
  assert.match(listed, /add\(\.\.\.\) → any\n {4}Adds two numbers\./);
  assert.match(listed, /shout/);
  assert.equal(
    ok(await parley("call", server.url, "--codec", "xmlrpc", "add", "2", "40")).trim(),
    "42",
  );
  assert.equal(
    ok(await parley("call", server.url, "--codec", "xmlrpc", "shout", "hi")).trim(),
    '"HI"',
  );
});

Deno.test("parley call: a real language server over stdio (deno lsp, Content-Length framing)", async () => {
  const out = ok(
    await parley(
      "call",
      `stdio:${Deno.execPath()} lsp`,
      "initialize",
      "processId=null",
      "rootUri=null",
      "capabilities={}",
    ),
  );
  const result = JSON.parse(out);
  assert.ok(result.capabilities, out);
  assert.equal(typeof result.serverInfo?.name, "string");
});

Deno.test("parley serve: a module's default export, self-described, over tcp and http", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-cli-" });
  try {
    const module = `${dir}/greeter.ts`;
    await Deno.writeTextFile(
      module,
      `export default { greet: (name: string) => "Hello, " + name, twice: (n: number) => n * 2 };\n`,
    );
    await using tcp = await spawnListening(Deno.execPath(), {
      args: [...CLI, "serve", module, "--port", "0"],
      timeout: 60_000,
    });
    assert.match(tcp.url, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(ok(await parley("call", tcp.url, "greet", "Ada")).trim(), '"Hello, Ada"');
    assert.match(ok(await parley("list", tcp.url)), /greet\(arg0: any\) → any/);
    await using http = await spawnListening(Deno.execPath(), {
      args: [...CLI, "serve", module, "--codec", "xmlrpc", "--transport", "http", "--port", "0"],
      timeout: 60_000,
    });
    assert.match(http.url, /\/RPC2$/);
    assert.equal(
      ok(await parley("call", http.url, "--codec", "xmlrpc", "twice", "21")).trim(),
      "42",
    );
    const stopped = await tcp.stop("SIGTERM");
    assert.equal(stopped.code, 0, formatOutput(stopped));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parley help: every command has help with examples", async () => {
  for (const command of ["call", "list", "serve", "notify"]) {
    const out = ok(await parley("help", command));
    assert.match(out, new RegExp(`parley ${command} `));
  }
  assert.match(ok(await parley("call", "--help")), /Examples:/);
  const none = await parley();
  assert.equal(none.code, 2);
  assert.match(none.stdout, /Usage:/);
});

Deno.test("parley call: a malformed http+unix:// URL, --ca or Connect over one are usage errors", async () => {
  for (
    const [args, message] of [
      [["http+unix://", "m"], /names no socket/],
      [["http+unix://%E0%A4%A/RPC2", "m"], /not percent-encoded correctly/],
      [["http+unix:///tmp/x.sock:/RPC2", "--ca", "README.md", "m"], /--ca does not apply/],
      [["http+unix:///tmp/x.sock:/", "--codec", "protobuf", "--proto", PROTO, "m"], /Connect/],
    ] as const
  ) {
    const result = await parley("call", ...args);
    assert.equal(result.code, 2, formatOutput(result));
    assert.match(result.stderr, message);
  }
});

Deno.test("parley call: tls:// and https:// with a private CA (--ca)", async () => {
  await using certs = await makeCertificates();
  const cert = `${certs.dir}/server.pem`;
  const key = `${certs.dir}/server-key.pem`;
  const ca = `${certs.dir}/ca.pem`;
  await using tls = await startCalculator("--transport", "tls", "--cert", cert, "--key", key);
  assert.match(tls.url, /^tls:\/\//);
  assert.equal(ok(await parley("call", tls.url, "--ca", ca, "add", "1", "2")).trim(), "3");
  const refused = await parley("call", tls.url, "add", "1", "2");
  assert.equal(refused.code, 3);
  assert.match(refused.stderr, /certificate/i);
  await using https = await startCalculator("--transport", "https", "--cert", cert, "--key", key);
  assert.equal(ok(await parley("call", https.url, "--ca", ca, "add", "2", "2")).trim(), "4");
});

Deno.test(
  "parley call: Neovim's handles print as {type, data}, a Latin-1 line as text, 1.0 as 1.0",
  { ignore: needs("nvim") },
  async () => {
    const nvim = [
      "call",
      "stdio:nvim --embed --headless --clean -n",
      "--codec",
      "msgpack",
      "--json",
    ];
    // The CLI's codec has no Neovim extensions: a buffer is an unknown ext type.
    const buffer = ok(await parley(...nvim, "nvim_get_current_buf"));
    assert.equal(buffer.trim(), '{"type":0,"data":"AQ=="}');
    // "caf\xe9" in Vim is 4 bytes, not UTF-8: the byte that is not shows as U+FFFD.
    const latin1 = ok(await parley(...nvim, "nvim_eval", '"\\"caf\\\\xe9\\""'));
    assert.equal(latin1.trim(), '"caf\ufffd"');
    // Doubles stay doubles (the CLI's msgpack codec keeps floats), integers integers.
    assert.equal(
      ok(await parley(...nvim, "nvim_eval", '"[1.0, -0.0, 2.5, 3]"')).trim(),
      "[1.0,-0.0,2.5,3]",
    );
  },
);

Deno.test(
  "parley call: Neovim over stdio with msgpack-rpc",
  { ignore: needs("nvim") },
  async () => {
    const out = ok(
      await parley(
        "call",
        "stdio:nvim --embed --headless --clean -n",
        "--codec",
        "msgpack",
        "nvim_eval",
        '"40 + 2"',
      ),
    );
    assert.equal(out.trim(), "42");
  },
);

Deno.test(
  "parley list: Neovim through nvim_get_api_info; a msgpack server with no self-description says so",
  { ignore: needs("nvim", "py:msgpack") },
  async () => {
    const out = ok(
      await parley("list", "stdio:nvim --embed --headless --clean -n", "--codec", "msgpack"),
    );
    assert.match(out, /methods, from nvim_get_api_info/);
    assert.match(
      out,
      /nvim_buf_get_lines\(buffer: Buffer, start: Integer, end: Integer, strict_indexing: Boolean\) → ArrayOf\(String\)/,
    );
    await using python = await spawnListening(DEBIAN_PYTHON, {
      args: [new URL("./interop/python/msgpack_rpc_server.py", import.meta.url).pathname],
      timeout: 15_000,
    });
    const url = `tcp://${python.hostname}:${python.port}`;
    const bare = await parley("list", url, "--codec", "msgpack");
    assert.equal(bare.code, 3, formatOutput(bare));
    assert.match(bare.stderr, /msgpack-rpc itself has no way to list methods/);
  },
);

Deno.test("parley call: unix sockets, --header for HTTP, and notify", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-cli-" });
  try {
    const path = `${dir}/calc.sock`;
    await using unix = await startCalculator("--transport", "unix", "--path", path);
    assert.equal(unix.url, `unix:${path}`);
    assert.equal(ok(await parley("call", unix.url, "add", "1", "2")).trim(), "3");
    // zip is the contract's notification: nothing is printed, status 0.
    assert.equal(ok(await parley("notify", unix.url, "zip")), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  {
    // A server that wants a bearer token.
    await using server = serveHttp({
      routes: { "/rpc": { codec: jsonRpc(), service: { whoami: () => "authorized" } } },
      authenticate: (request) => request.headers.get("authorization") === "Bearer s3cret",
    });
    const url = `${server.url}/rpc`;
    const refused = await parley("call", url, "whoami");
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /401/);
    assert.equal(
      ok(await parley("call", url, "--header", "authorization: Bearer s3cret", "whoami")).trim(),
      '"authorized"',
    );
  }
});
