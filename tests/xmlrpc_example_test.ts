/**
 * The classic XML-RPC pair (`examples/xmlrpc_server.ts`,
 * `examples/xmlrpc_client.ts`, ports of the `SimpleXMLRPCServer` example of
 * Python's documentation), run as real processes: the client against the
 * server, Python's `xmlrpc.client` against the server, and the client against
 * Python's own example server.
 *
 * Needs `python3` on the PATH.
 */

import assert from "node:assert/strict";
import { formatOutput, type ListeningProcess, run, spawnListening } from "./interop/_process.ts";
import { needs } from "./_needs.ts";

const PYTHON = "python3";
const SERVER = ["run", "--allow-net", "examples/xmlrpc_server.ts"];
const CLIENT = ["run", "--allow-net", "examples/xmlrpc_client.ts"];

/** Starts the TypeScript example server on a free port. */
function startServer(): Promise<ListeningProcess> {
  // The first start may type-check and load npm packages.
  return spawnListening(Deno.execPath(), { args: [...SERVER, "--port", "0"], timeout: 60_000 });
}

/** The Python documentation's server, on a free port, printing its listening line. */
const PYTHON_DOCS_SERVER = `
from xmlrpc.server import SimpleXMLRPCServer, SimpleXMLRPCRequestHandler

# Restrict to a particular path.
class RequestHandler(SimpleXMLRPCRequestHandler):
    rpc_paths = ('/RPC2',)

with SimpleXMLRPCServer(('127.0.0.1', 0), requestHandler=RequestHandler,
                        logRequests=False) as server:
    server.register_introspection_functions()
    server.register_multicall_functions()

    # Register pow() function; this will use the value of
    # pow.__name__ as the name, which is just 'pow'.
    server.register_function(pow)

    # Register a function under a different name
    def adder_function(x, y):
        return x + y
    server.register_function(adder_function, 'add')

    # Register an instance; all the methods of the instance are
    # published as XML-RPC methods (in this case, just 'mul').
    class MyFuncs:
        def mul(self, x, y):
            return x * y

    server.register_instance(MyFuncs())

    print('listening http://127.0.0.1:%d/RPC2' % server.server_address[1], flush=True)
    server.serve_forever()
`;

/** Python's `xmlrpc.client` touring a server; prints what it got as JSON. */
const PYTHON_CLIENT = `
import json, sys, xmlrpc.client

proxy = xmlrpc.client.ServerProxy(sys.argv[1])
multicall = xmlrpc.client.MultiCall(proxy)
multicall.pow(2, 3)
multicall.add(2, 3)
multicall.mul(5, 2)
try:
    proxy.add('two', 3)
    fault = None
except xmlrpc.client.Fault as error:
    fault = error.faultCode
print(json.dumps({
    'methods': proxy.system.listMethods(),
    'signatures': {name: proxy.system.methodSignature(name) for name in ('pow', 'add', 'mul')},
    'help': {name: proxy.system.methodHelp(name) for name in ('pow', 'add', 'mul')},
    'calls': [proxy.pow(2, 3), proxy.add(2, 3), proxy.mul(5, 2), proxy.pow(2, 0.5)],
    'multicall': list(multicall()),
    'fault': fault,
}))
`;

/** The lines of the client's tour that do not depend on the server's introspection. */
const RESULTS = [
  "pow(2, 3) = 8",
  "add(2, 3) = 5",
  "mul(5, 2) = 10",
  "system.multicall(pow(2, 3), add(2, 3), mul(5, 2)) = [8, 5, 10]",
];

/** The client's output: its method list, and each method's signature and help. */
function parseTour(stdout: string): {
  methods: string[];
  signatures: Map<string, string>;
  help: Map<string, string>;
  lines: string[];
} {
  const lines = stdout.trimEnd().split("\n");
  const listed = /^system\.listMethods\(\) = (.*)$/.exec(lines[0] ?? "");
  assert.ok(listed, `the first line lists the methods:\n${stdout}`);
  const methods = listed[1]!.split(", ");
  const signatures = new Map<string, string>();
  const help = new Map<string, string>();
  for (const [i, line] of lines.entries()) {
    if (!methods.includes(line)) continue;
    const signature = /^ {2}signature: (.*)$/.exec(lines[i + 1] ?? "");
    assert.ok(signature, `a signature line follows "${line}":\n${stdout}`);
    signatures.set(line, signature[1]!);
    const helpLine = /^ {2}help:(.*)$/.exec(lines[i + 2] ?? "");
    assert.ok(helpLine, `a help line follows the signature of "${line}":\n${stdout}`);
    help.set(line, helpLine[1]!.trim() || (lines[i + 3] ?? "").trim());
  }
  return { methods, signatures, help, lines };
}

Deno.test("the TS XML-RPC client tours the TS example server: introspection, pow/add/mul, multicall", async () => {
  await using server = await startServer();
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/RPC2$/);

  const client = await run(Deno.execPath(), { args: [...CLIENT, server.url] });
  assert.equal(
    client.code,
    0,
    `${formatOutput(client)}\n--- server stderr ---\n${server.stderr()}`,
  );
  const tour = parseTour(client.stdout);
  for (const name of ["pow", "add", "mul", "system.listMethods", "system.multicall"]) {
    assert.ok(tour.methods.includes(name), `"${name}" is listed: ${tour.methods.join(", ")}`);
  }
  for (const name of ["pow", "add", "mul"]) {
    assert.equal(tour.signatures.get(name), `double ${name}(double, double)`);
    assert.match(tour.help.get(name) ?? "", new RegExp(`^${name}\\(`));
  }
  assert.deepEqual(tour.lines.slice(-RESULTS.length), RESULTS);

  const stopped = await server.stop("SIGINT");
  assert.equal(stopped.code, 0, `the server exits 0 on SIGINT\n${formatOutput(stopped)}`);
  assert.equal(stopped.stdout, "", "only the listening line goes to stdout");
});

Deno.test(
  "Python's xmlrpc.client calls the TS example server: listMethods, real signatures, help, MultiCall",
  { ignore: needs("python3") },
  async () => {
    await using server = await startServer();
    const python = await run(PYTHON, { args: ["-c", PYTHON_CLIENT, server.url] });
    assert.equal(
      python.code,
      0,
      `${formatOutput(python)}\n--- server stderr ---\n${server.stderr()}`,
    );
    const got = JSON.parse(python.stdout);
    assert.deepEqual(got.methods, [
      "add",
      "mul",
      "pow",
      "system.getCapabilities",
      "system.listMethods",
      "system.methodHelp",
      "system.methodSignature",
      "system.multicall",
    ]);
    // Real signatures from the zod schemas, where Python's server says "signatures not supported".
    assert.deepEqual(got.signatures, {
      pow: [["double", "double", "double"]],
      add: [["double", "double", "double"]],
      mul: [["double", "double", "double"]],
    });
    for (const name of ["pow", "add", "mul"]) {
      assert.match(got.help[name], new RegExp(`^${name}\\(`));
    }
    assert.deepEqual(got.calls, [8, 5, 10, Math.SQRT2]);
    assert.deepEqual(got.multicall, [8, 5, 10]);
    assert.equal(got.fault, -32602, "a param zod refuses answers Invalid params");

    const stopped = await server.stop("SIGTERM");
    assert.equal(stopped.code, 0, `the server exits 0 on SIGTERM\n${formatOutput(stopped)}`);
  },
);

Deno.test("the TS XML-RPC client tours Python's own SimpleXMLRPCServer example", {
  ignore: needs("python3"),
}, async () => {
  await using server = await spawnListening(PYTHON, {
    args: ["-c", PYTHON_DOCS_SERVER],
    timeout: 15_000,
  });
  const client = await run(Deno.execPath(), { args: [...CLIENT, server.url] });
  assert.equal(
    client.code,
    0,
    `${formatOutput(client)}\n--- server stderr ---\n${server.stderr()}`,
  );
  const tour = parseTour(client.stdout);
  assert.deepEqual(tour.methods, [
    "add",
    "mul",
    "pow",
    "system.listMethods",
    "system.methodHelp",
    "system.methodSignature",
    "system.multicall",
  ]);
  for (const name of tour.methods) {
    assert.equal(tour.signatures.get(name), "signatures not supported");
  }
  assert.match(tour.help.get("pow") ?? "", /base\*\*exp/, "pow's docstring");
  assert.equal(tour.help.get("add"), "(none)", "adder_function has no docstring");
  assert.deepEqual(tour.lines.slice(-RESULTS.length), RESULTS);
});

Deno.test("the TS example server refuses a bad --port with exit 2 and a usage text", async () => {
  const result = await run(Deno.execPath(), { args: [...SERVER, "--port", "http"] });
  assert.equal(result.code, 2, formatOutput(result));
  assert.match(result.stderr, /Usage: deno task example:xmlrpc-server/);
  assert.equal(result.stdout, "");
});
