/**
 * Python's standard library against the XML-RPC calculator
 * (`deno task calculator --codec xmlrpc`): whole doubles come back as
 * Python floats with their sign (the calculator's zod schema marks its
 * results' doubles), and a document that is not a call is answered with
 * fault -32600, over HTTP (status 200) and over TCP (4-byte length prefix),
 * where the connection goes on. parley's own `keepFloats` client is checked
 * against the same server.
 *
 * Needs `python3` on the PATH. Python's xmlrpc.client in general is covered
 * by `python_xmlrpc_test.ts`.
 */

import assert from "node:assert/strict";
import { xmlRpc } from "../../codecs/xml_rpc.ts";
import { Float, float } from "../../mod.ts";
import { connectHttp } from "../../rpc/transports/http.ts";
import { formatOutput, run, startCalculator } from "./_process.ts";
import { testNeeding } from "../_needs.ts";

const test = testNeeding("python3");

const PYTHON = "python3";

/** Runs a Python script with `args`; it prints one JSON value, which is returned. */
async function python(script: string, ...args: string[]): Promise<unknown> {
  const result = await run(PYTHON, { args: ["-c", script, ...args], timeout: 60_000 });
  assert.equal(result.code, 0, formatOutput(result));
  return JSON.parse(result.stdout);
}

test("Python's xmlrpc.client gets echoShape's whole coords back as floats, -0.0 with its sign", async () => {
  await using server = await startCalculator("--codec", "xmlrpc", "--transport", "http");
  const out = await python(
    String.raw`
import json, math, sys, xmlrpc.client
calc = xmlrpc.client.ServerProxy(sys.argv[1], allow_none=True)
shape = {"name": "s", "coords": [2.0, 0.0, -0.0, 0.5, -3.0, 1e300], "tags": {"a": 1},
         "blob": xmlrpc.client.Binary(b"x"), "flag": True}
back = calc.echoShape(shape)
print(json.dumps({
    "coords": [[type(c).__name__, repr(c), math.copysign(1.0, c)] for c in back["coords"]],
    "tags": {k: [type(v).__name__, v] for k, v in back["tags"].items()},
}))`,
    server.url,
  );
  assert.deepEqual(out, {
    coords: [
      ["float", "2.0", 1],
      ["float", "0.0", 1],
      ["float", "-0.0", -1],
      ["float", "0.5", 1],
      ["float", "-3.0", -1],
      ["float", "1e+300", 1],
    ],
    // Tags are i64: integers stay integers.
    tags: { a: ["int", 1] },
  });
});

test("parley's keepFloats client sends and gets Floats through the calculator", async () => {
  await using server = await startCalculator("--codec", "xmlrpc", "--transport", "http");
  const shape = {
    name: "s",
    coords: [float(2), float(-0), 0.5],
    tags: { a: 1 },
    blob: new Uint8Array([1]),
    flag: false,
  };
  await using kept = connectHttp(server.url, { codec: xmlRpc({ keepFloats: true }) });
  const back = await kept.call<{ coords: unknown[] }>("echoShape", [shape]);
  assert.deepEqual(back.coords, [new Float(2), new Float(-0), new Float(0.5)]);
  assert.ok(Object.is((back.coords[1] as Float).value, -0));
  // By default they are plain numbers, -0 included.
  await using plain = connectHttp(server.url, { codec: xmlRpc() });
  const numbers = await plain.call<{ coords: number[] }>("echoShape", [shape]);
  assert.deepEqual(numbers.coords, [2, -0, 0.5]);
  assert.ok(Object.is(numbers.coords[1], -0));
});

/** What Python's xmlrpc.client makes of a reply: ["fault", code, string] or ["result", value]. */
const READ_REPLY = String.raw`
def read_reply(body):
    try:
        return ["result", xmlrpc.client.loads(body)[0][0]]
    except xmlrpc.client.Fault as fault:
        return ["fault", fault.faultCode, fault.faultString]

STRAYS = [
    xmlrpc.client.dumps((1,), methodresponse=True),
    xmlrpc.client.dumps(xmlrpc.client.Fault(4, "Too many"), methodresponse=True),
    '<?xml version="1.0"?><html><body>not XML-RPC</body></html>',
]
ADD = xmlrpc.client.dumps((1, 2), "add")
`;

test("a document that is not a call gets fault -32600 with HTTP 200 from the calculator", async () => {
  await using server = await startCalculator("--codec", "xmlrpc", "--transport", "http");
  const out = await python(
    String.raw`
import http.client, json, sys, urllib.parse, xmlrpc.client
` + READ_REPLY + String.raw`
url = urllib.parse.urlsplit(sys.argv[1])
out = []
for doc in STRAYS + [ADD]:
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.request("POST", url.path, doc.encode(), {"Content-Type": "text/xml"})
    reply = conn.getresponse()
    out.append([reply.status, reply.getheader("Content-Type")] + read_reply(reply.read()))
    conn.close()
print(json.dumps(out))`,
    server.url,
  );
  const invalid = (root: string) => [
    200,
    "text/xml; charset=utf-8",
    "fault",
    -32600,
    `expected <methodCall>, got <${root}>`,
  ];
  assert.deepEqual(out, [
    invalid("methodResponse"),
    invalid("methodResponse"),
    invalid("html"),
    [200, "text/xml; charset=utf-8", "result", 3],
  ]);
});

test("over TCP the calculator answers a stray document with fault -32600 once, and the connection goes on", async () => {
  await using server = await startCalculator("--codec", "xmlrpc");
  const out = await python(
    String.raw`
import json, socket, struct, sys, xmlrpc.client
` + READ_REPLY + String.raw`
sock = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)

def send(doc):
    data = doc.encode()
    sock.sendall(struct.pack(">I", len(data)) + data)

def receive():
    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise EOFError("the server closed the connection")
            data += chunk
        return data
    return read_reply(exactly(struct.unpack(">I", exactly(4))[0]))

out = []
for stray in STRAYS:
    send(stray)
    out.append(receive())
    # Whatever follows the server's complaint, before a call, is not
    # answered (two ends never trade faults): the next reply is the call's.
    send(stray)
    send(ADD)
    out.append(receive())
print(json.dumps(out))`,
    server.hostname,
    String(server.port),
  );
  const invalid = (root: string) => ["fault", -32600, `expected <methodCall>, got <${root}>`];
  assert.deepEqual(out, [
    invalid("methodResponse"),
    ["result", 3],
    invalid("methodResponse"),
    ["result", 3],
    invalid("html"),
    ["result", 3],
  ]);
});
