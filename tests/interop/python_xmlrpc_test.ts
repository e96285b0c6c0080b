/**
 * The XML-RPC interop matrix with Python's standard library, both ways:
 *
 * - parley's client (`connectHttp` + `xmlRpc()`) against Python's
 *   `xmlrpc.server.SimpleXMLRPCServer` (`allow_none`, `use_builtin_types`);
 * - Python's `xmlrpc.client` against parley's `serveHttp` + `xmlRpc()`.
 *
 * Each direction covers every value type (int/i4, i8, boolean, string,
 * double, dateTime.iso8601, base64, struct, array, nil, nesting), faults,
 * unknown methods, `system.multicall`, introspection, gzip (request bodies and
 * replies, proven by the Content-Encoding headers seen on the wire) and 1 MiB
 * strings and base64. Python reports what it decoded as JSON, each value
 * tagged with its Python type, so that both ends are checked.
 *
 * Needs `python3` on the PATH. Complements `tests/http_test.ts` and
 * `tests/xmlrpc_example_test.ts`.
 */

import assert from "node:assert/strict";
import { z } from "zod";
import { xmlRpc } from "../../codecs/xml_rpc.ts";
import {
  combineServices,
  defineService,
  method,
  ProtocolError,
  RpcError,
  withSystemMethods,
} from "../../mod.ts";
import { connectHttp, type HttpClient, serveHttp } from "../../rpc/transports/http.ts";
import { formatOutput, run, spawnListening } from "./_process.ts";
import { testNeeding } from "../_needs.ts";

const test = testNeeding("python3");

const PYTHON = "python3";

// ------------------------------------------------------------------ shared data

/** A unit of the large strings: escapes, a BMP and an astral character, whitespace. */
const UNIT = "h\u00e9llo \u2713 \u{1F600} <&> ]]> \"' \t\n";
/** Repeats of UNIT in a large string: over 1 MiB of UTF-8. */
const REPEATS = 40_000;
/** Length of the large byte strings: 1 MiB. */
const MIB = 1024 * 1024;

const bigString = (repeats: number) => UNIT.repeat(repeats);
const bigBytes = (length: number) => Uint8Array.from({ length }, (_, i) => i % 251);

/** Text with everything XML must escape, non-ASCII, an astral character and edge whitespace. */
const TEXT = "  h\u00e9llo \u2713 \u{1F600} <tag> & &amp; ]]> \"quoted\" 'single'\t\n end  ";

/** One value of every type, nested. */
const VALUE = {
  int: 42,
  min: -2147483648,
  max: 2147483647,
  yes: true,
  no: false,
  text: TEXT,
  empty: "",
  double: 3.25,
  tiny: 5e-324,
  huge: -1e300,
  when: new Date(Date.UTC(2026, 10, 26, 12, 34, 56)),
  bytes: new Uint8Array([0, 1, 62, 254, 255]),
  emptyBytes: new Uint8Array(0),
  list: [1, "two", [3, { four: 4.5 }]],
  emptyList: [],
  emptyStruct: {},
  nested: { a: { b: { c: [null, { d: new Date(0) }] } } },
  nil: null,
};

/** How Python's `tag()` describes VALUE once decoded with `use_builtin_types`. */
const VALUE_TAGS = {
  struct: {
    int: { int: "42" },
    min: { int: "-2147483648" },
    max: { int: "2147483647" },
    yes: { boolean: true },
    no: { boolean: false },
    text: { string: TEXT },
    empty: { string: "" },
    double: { double: "3.25" },
    tiny: { double: "5e-324" },
    huge: { double: "-1e+300" },
    when: { datetime: "2026-11-26T12:34:56" },
    bytes: { bytes: VALUE.bytes.toBase64() },
    emptyBytes: { bytes: "" },
    list: {
      array: [{ int: "1" }, { string: "two" }, {
        array: [{ int: "3" }, { struct: { four: { double: "4.5" } } }],
      }],
    },
    emptyList: { array: [] },
    emptyStruct: { struct: {} },
    nested: {
      struct: {
        a: {
          struct: {
            b: {
              struct: {
                c: {
                  array: [{ nil: null }, { struct: { d: { datetime: "1970-01-01T00:00:00" } } }],
                },
              },
            },
          },
        },
      },
    },
    nil: { nil: null },
  },
};

/** JSON with only ASCII in it (`\uXXXX` escapes), safe on any command line. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

async function sha256(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const hash = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return new Uint8Array(hash).toHex();
}

/** What Python's `digest()` and parley's `digest` answer: type, length, SHA-256. */
async function digestOf(data: string | Uint8Array): Promise<Record<string, unknown>> {
  return typeof data === "string"
    ? { type: "str", length: [...data].length, sha256: await sha256(data) }
    : { type: "bytes", length: data.length, sha256: await sha256(data) };
}

// ------------------------------------------------------------------ Python side

/** Python helpers shared by every script: `tag()`, `digest()`, the large values. */
const PRELUDE = String.raw`
import base64, datetime, hashlib, json, sys, urllib.parse, xmlrpc.client, xmlrpc.server

def tag(v):
    if v is None: return {"nil": None}
    if isinstance(v, bool): return {"boolean": v}
    if isinstance(v, int): return {"int": str(v)}
    if isinstance(v, float): return {"double": repr(v)}
    if isinstance(v, str): return {"string": v}
    if isinstance(v, datetime.datetime): return {"datetime": v.isoformat()}
    if isinstance(v, xmlrpc.client.DateTime): return {"DateTime": v.value}
    if isinstance(v, (bytes, bytearray)): return {"bytes": base64.b64encode(v).decode()}
    if isinstance(v, xmlrpc.client.Binary): return {"Binary": base64.b64encode(v.data).decode()}
    if isinstance(v, (list, tuple)): return {"array": [tag(x) for x in v]}
    if isinstance(v, dict): return {"struct": {k: tag(x) for k, x in v.items()}}
    return {"other": repr(v)}

def digest(v):
    if isinstance(v, xmlrpc.client.Binary): v = v.data
    data = v.encode("utf-8") if isinstance(v, str) else bytes(v)
    return {"type": "str" if isinstance(v, str) else "bytes", "length": len(v),
            "sha256": hashlib.sha256(data).hexdigest()}

UNIT = json.loads(sys.argv[2])

def big_string(repeats):
    return UNIT * repeats

def big_bytes(length):
    return bytes(i % 251 for i in range(length))
`;

/**
 * Python's SimpleXMLRPCServer with nil, builtin types, introspection and
 * multicall; it logs the encodings of each request (`seen()` returns and
 * clears the log of the requests before it). `raw_types` answers a
 * hand-written reply with the types Python's marshaller never writes.
 */
const PY_SERVER = PRELUDE + String.raw`
LOG = []

class Handler(xmlrpc.server.SimpleXMLRPCRequestHandler):
    rpc_paths = ("/RPC2",)

    def do_POST(self):
        self.entry = {"acceptEncoding": self.headers.get("Accept-Encoding"),
                      "contentEncoding": self.headers.get("Content-Encoding"),
                      "replyEncoding": None}
        LOG.append(self.entry)
        super().do_POST()

    def send_header(self, keyword, value):
        if keyword.lower() == "content-encoding" and hasattr(self, "entry"):
            self.entry["replyEncoding"] = value
        super().send_header(keyword, value)

RAW = ('<?xml version="1.0"?><methodResponse><params><param><value><array><data>'
       '<value><i4>-2147483648</i4></value><value><i4>2147483647</i4></value>'
       '<value><i8>42</i8></value><value><i8>9007199254740993</i8></value>'
       '<value><i8>-9223372036854775808</i8></value>'
       '<value>untyped &amp; text</value>'
       '</data></array></value></param></params></methodResponse>')

class Server(xmlrpc.server.SimpleXMLRPCServer):
    def _marshaled_dispatch(self, data, dispatch_method=None, path=None):
        try:
            name = xmlrpc.client.loads(data)[1]
        except Exception:
            name = None
        if name == "raw_types":
            return RAW.encode()
        return super()._marshaled_dispatch(data, dispatch_method, path)

server = Server(("127.0.0.1", 0), requestHandler=Handler, allow_none=True,
                use_builtin_types=True, logRequests=False)
server.register_introspection_functions()
server.register_multicall_functions()

def echo(value):
    """echo(value): the value, unchanged."""
    return value

def describe(*values):
    """describe(*values): how Python decoded each value, as JSON."""
    return json.dumps([tag(v) for v in values])

def fault(code, text):
    raise xmlrpc.client.Fault(code, text)

def boom():
    raise ValueError("bad <things> & more")

def too_big():
    return 2 ** 40

def not_finite():
    return float("inf")

def seen():
    entries = LOG[:-1]
    del LOG[:-1]
    return entries

for f in (echo, describe, fault, boom, too_big, not_finite, seen, digest, big_string, big_bytes):
    server.register_function(f)

print("listening http://127.0.0.1:%d/RPC2" % server.server_address[1], flush=True)
server.serve_forever()
`;

/**
 * Runs a Python client script (PRELUDE first) against `url`; the script
 * prints one JSON object, which is returned.
 */
async function runPython(script: string, url: string): Promise<Record<string, unknown>> {
  const result = await run(PYTHON, {
    args: ["-c", PRELUDE + script, url, asciiJson(UNIT)],
    timeout: 60_000,
  });
  assert.equal(result.code, 0, formatOutput(result));
  return JSON.parse(result.stdout);
}

/** The Content-Encoding of each reply parley's client got, in order. */
type Encodings = (string | null)[];

/** Starts PY_SERVER and gives `body` a parley client for it; stops both. */
async function withPythonServer(
  body: (client: HttpClient, encodings: Encodings) => Promise<void>,
): Promise<void> {
  await using python = await spawnListening(PYTHON, {
    args: ["-c", PY_SERVER, "", asciiJson(UNIT)],
    timeout: 15_000,
  });
  assert.match(python.url, /^http:\/\/127\.0\.0\.1:\d+\/RPC2$/);
  const encodings: Encodings = [];
  const client = connectHttp(python.url, {
    codec: xmlRpc(),
    timeout: 30_000,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      encodings.push(response.headers.get("content-encoding"));
      return response;
    },
  });
  try {
    await body(client, encodings);
  } catch (error) {
    const stderr = python.stderr();
    if (stderr !== "" && error instanceof Error) error.message += `\n--- python ---\n${stderr}`;
    throw error;
  } finally {
    await client.close();
  }
}

/** The fault a call rejects with, as [code, message]. */
async function faultOf(promise: Promise<unknown>): Promise<[number, string]> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RpcError, `an RpcError, got ${error}`);
    return [error.code, error.message];
  }
  assert.fail("the call succeeded");
}

// ------------------------------------------------------------------ parley side

/** parley's XML-RPC server; every value `echo` receives lands in `received`. */
function startParley(received: unknown[]) {
  const typed = defineService({
    repeat: method({
      params: z.tuple([z.string(), z.number().int().min(0).max(100)]),
      names: ["text", "times"],
      result: z.array(z.string()),
      description: "repeat(text, times): the text, times times",
      handler: (text, times) => Array.from({ length: times }, () => text),
    }),
  });
  const plain = {
    echo: (value: unknown) => {
      received.push(value);
      return value;
    },
    nothing: () => null,
    bigInts: () => [2 ** 40, 2n ** 63n - 1n, -(2n ** 63n), -(2 ** 53 - 1), 2 ** 53 + 2],
    fault: (code: number, text: string) => {
      throw new RpcError(code, text, { dropped: true });
    },
    boom: () => {
      throw new Error("secret detail");
    },
    bigString: (repeats: number) => bigString(repeats),
    bigBytes: (length: number) => bigBytes(length),
    digest: (value: string | Uint8Array) => digestOf(value),
  };
  return serveHttp({
    routes: {
      "/RPC2": { codec: xmlRpc(), service: withSystemMethods(combineServices(typed, plain)) },
    },
  });
}

// ============================================ parley's client → Python's server

test("parley → Python server: every type arrives as Python's own type and comes back equal", async () => {
  await withPythonServer(async (client) => {
    const [tags] = JSON.parse(await client.call<string>("describe", [VALUE]));
    assert.deepEqual(tags, VALUE_TAGS);
    assert.deepEqual(await client.call("echo", [VALUE]), VALUE);
    // Top-level params of each type, several in one call.
    const params = [7, true, TEXT, 0.1, VALUE.when, VALUE.bytes, [null], { k: "v" }, null];
    assert.deepEqual(JSON.parse(await client.call<string>("describe", params)), [
      { int: "7" },
      { boolean: true },
      { string: TEXT },
      { double: "0.1" },
      { datetime: "2026-11-26T12:34:56" },
      { bytes: VALUE.bytes.toBase64() },
      { array: [{ nil: null }] },
      { struct: { k: { string: "v" } } },
      { nil: null },
    ]);
    // parley escapes \r as &#13;, so Python reads it; Python writes \r raw and
    // XML's end-of-line normalization turns its \r\n into \n on the way back.
    assert.deepEqual(JSON.parse(await client.call<string>("describe", ["a\r\nb\rc"])), [
      { string: "a\r\nb\rc" },
    ]);
    assert.equal(await client.call("echo", ["a\r\nb\rc"]), "a\nb\nc");
    // Milliseconds do not travel (neither side writes them).
    assert.deepEqual(
      await client.call("echo", [new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999))]),
      new Date(Date.UTC(1999, 11, 31, 23, 59, 59)),
    );
  });
});

test("parley → Python server: i8 and nil both ways, <i4> and untyped values decoded", async () => {
  await withPythonServer(async (client) => {
    // parley writes <i8> beyond 32 bits; Python decodes every one exactly.
    const ints = [
      2 ** 31,
      -(2 ** 31) - 1,
      2 ** 40,
      Number.MAX_SAFE_INTEGER,
      2n ** 63n - 1n,
      -(2n ** 63n),
    ];
    assert.deepEqual(
      JSON.parse(await client.call<string>("describe", ints)),
      [
        "2147483648",
        "-2147483649",
        "1099511627776",
        "9007199254740991",
        "9223372036854775807",
        "-9223372036854775808",
      ]
        .map((int) => ({ int })),
    );
    // ...but Python's marshaller refuses to write an int beyond 32 bits: a fault.
    const [code, message] = await faultOf(client.call("echo", [2 ** 40]));
    assert.equal(code, 1);
    assert.equal(message, "<class 'OverflowError'>:int exceeds XML-RPC limits");
    assert.equal((await faultOf(client.call("too_big")))[0], 1);
    // nil both ways (allow_none on both sides).
    assert.equal(await client.call("echo", [null]), null);
    assert.deepEqual(await client.call("echo", [[null, { n: null }]]), [null, { n: null }]);
    // Types Python's marshaller never writes, in a hand-written reply.
    assert.deepEqual(await client.call("raw_types"), [
      -2147483648,
      2147483647,
      42,
      2n ** 53n + 1n,
      -(2n ** 63n),
      "untyped & text",
    ]);
  });
});

test("parley → Python server: faults keep code and string, unknown methods and non-finite doubles fail", async () => {
  await withPythonServer(async (client) => {
    assert.deepEqual(
      await faultOf(client.call("fault", [4, "Too many <params> & \u2713 \u{1F600}"])),
      [
        4,
        "Too many <params> & \u2713 \u{1F600}",
      ],
    );
    assert.deepEqual(await faultOf(client.call("fault", [-2147483648, ""])), [-2147483648, ""]);
    assert.deepEqual(await faultOf(client.call("boom")), [
      1,
      "<class 'ValueError'>:bad <things> & more",
    ]);
    assert.deepEqual(await faultOf(client.call("nope", [1])), [
      1,
      `<class 'Exception'>:method "nope" is not supported`,
    ]);
    // Python writes <double>inf</double>, which XML-RPC does not allow: parley refuses the reply.
    await assert.rejects(client.call("not_finite"), ProtocolError);
    // The client keeps working after all that.
    assert.equal(await client.call("echo", ["still here"]), "still here");
  });
});

test("parley → Python server: system.multicall slots and introspection", async () => {
  await withPythonServer(async (client) => {
    const outcomes = await client.call("system.multicall", [[
      { methodName: "echo", params: [VALUE] },
      { methodName: "fault", params: [7, "seven <7>"] },
      { methodName: "nope", params: [] },
      { methodName: "boom", params: [] },
      { methodName: "echo", params: [null] },
    ]]);
    assert.deepEqual(outcomes, [
      [VALUE],
      { faultCode: 7, faultString: "seven <7>" },
      { faultCode: 1, faultString: `<class 'Exception'>:method "nope" is not supported` },
      { faultCode: 1, faultString: "<class 'ValueError'>:bad <things> & more" },
      [null],
    ]);
    assert.deepEqual(await client.call("system.listMethods"), [
      "big_bytes",
      "big_string",
      "boom",
      "describe",
      "digest",
      "echo",
      "fault",
      "not_finite",
      "seen",
      "system.listMethods",
      "system.methodHelp",
      "system.methodSignature",
      "system.multicall",
      "too_big",
    ]);
    assert.equal(
      await client.call("system.methodHelp", ["echo"]),
      "echo(value): the value, unchanged.",
    );
    assert.equal(await client.call("system.methodHelp", ["fault"]), "");
    assert.equal(await client.call("system.methodSignature", ["echo"]), "signatures not supported");
  });
});

test("parley → Python server: large replies come gzipped (fetch accepts gzip), requests go plain", async () => {
  await withPythonServer(async (client, encodings) => {
    assert.equal(await client.call("echo", ["small"]), "small");
    assert.equal(await client.call("big_string", [1000]), bigString(1000));
    const log = await client.call<Record<string, string | null>[]>("seen");
    assert.equal(log.length, 2);
    for (const entry of log) {
      assert.match(entry.acceptEncoding ?? "", /\bgzip\b/, "parley's client (fetch) accepts gzip");
      assert.equal(entry.contentEncoding, null, "parley's client does not compress requests");
    }
    // Python gzips replies over its encode_threshold of 1400 bytes only.
    assert.deepEqual(log.map((entry) => entry.replyEncoding), [null, "gzip"]);
    // What the client's fetch saw: the same encodings, decompressed transparently.
    assert.deepEqual(encodings.slice(0, 2), [null, "gzip"]);
  });
});

test("parley → Python server: 1 MiB strings and base64, both ways, exactly", async () => {
  await withPythonServer(async (client, encodings) => {
    const text = bigString(REPEATS);
    const bytes = bigBytes(MIB);
    assert.ok(new TextEncoder().encode(text).length > MIB);
    // Up: Python hashes what it decoded.
    assert.deepEqual(await client.call("digest", [text]), await digestOf(text));
    assert.deepEqual(await client.call("digest", [bytes]), await digestOf(bytes));
    // Down: Python builds the same values.
    const down = await client.call<string>("big_string", [REPEATS]);
    assert.equal(down.length, text.length);
    assert.ok(down === text, "the large string Python built arrives exactly");
    assert.deepEqual(await client.call("big_bytes", [MIB]), bytes);
    // Both: echoed.
    const echoed = await client.call<string>("echo", [text]);
    assert.ok(echoed === text, "the large string comes back exactly");
    assert.deepEqual(await client.call("echo", [bytes]), bytes);
    assert.deepEqual(await client.call("echo", [[text, { bytes }]]), [text, { bytes }]);
    assert.ok(encodings.filter((e) => e === "gzip").length >= 5, "the large replies were gzipped");
  });
});

// ============================================ Python's client → parley's server

test("Python client → parley server: every type, builtin and classic, i8 and nil", async () => {
  const received: unknown[] = [];
  await using server = startParley(received);
  const got = await runPython(
    String.raw`
url = sys.argv[1]
value = {
    "int": 42, "min": -2**31, "max": 2**31 - 1, "yes": True, "no": False,
    "text": "  h\u00e9llo \u2713 \U0001F600 <tag> & &amp; ]]> \"quoted\" 'single'\t\n end  ",
    "empty": "", "double": 3.25, "tiny": 5e-324, "huge": -1e300,
    "when": datetime.datetime(2026, 11, 26, 12, 34, 56),
    "bytes": bytes([0, 1, 62, 254, 255]), "emptyBytes": b"",
    "list": [1, "two", [3, {"four": 4.5}]], "emptyList": [], "emptyStruct": {},
    "nested": {"a": {"b": {"c": [None, {"d": datetime.datetime(1970, 1, 1)}]}}},
    "nil": None,
}
out = {}
builtin = xmlrpc.client.ServerProxy(url, allow_none=True, use_builtin_types=True)
out["builtin"] = tag(builtin.echo(value))
classic = xmlrpc.client.ServerProxy(url, allow_none=True)
out["classic"] = tag(classic.echo([xmlrpc.client.DateTime("20261126T12:34:56"),
                                   xmlrpc.client.Binary(b"\x00\xff")]))
out["cr"] = builtin.echo("a\r\nb\rc")
try:
    builtin.echo(2**31)
    out["bigSend"] = None
except OverflowError as error:
    out["bigSend"] = "OverflowError: %s" % error
out["bigBack"] = tag(builtin.bigInts())
plain = xmlrpc.client.ServerProxy(url)
try:
    plain.echo(None)
    out["noneSend"] = None
except TypeError as error:
    out["noneSend"] = "TypeError: %s" % error
out["nilBack"] = tag(plain.nothing())
raw = ('<?xml version="1.0"?><methodCall><methodName>echo</methodName><params><param>'
       '<value><array><data><value><i4>-2147483648</i4></value><value><i8>9007199254740993</i8></value>'
       '<value><i8>42</i8></value><value>untyped &amp; text</value><value><nil/></value>'
       '</data></array></value></param></params></methodCall>')
parts = urllib.parse.urlsplit(url)
out["raw"] = tag(xmlrpc.client.Transport().request(parts.netloc, parts.path, raw.encode())[0])
print(json.dumps(out))
`,
    `${server.url}/RPC2`,
  );
  assert.deepEqual(got.builtin, VALUE_TAGS);
  assert.deepEqual(got.classic, {
    array: [{ DateTime: "20261126T12:34:56" }, { Binary: new Uint8Array([0, 255]).toBase64() }],
  });
  // Python writes \r raw; XML's end-of-line normalization makes it \n.
  assert.equal(got.cr, "a\nb\nc");
  assert.equal(got.bigSend, "OverflowError: int exceeds XML-RPC limits");
  assert.deepEqual(got.bigBack, {
    array: [
      { int: "1099511627776" },
      { int: "9223372036854775807" },
      { int: "-9223372036854775808" },
      { int: "-9007199254740991" },
      // Beyond 2^53 a number is a double (documented): it travels as <double>.
      { double: "9007199254740994.0" },
    ],
  });
  assert.equal(got.noneSend, "TypeError: cannot marshal None unless allow_none is enabled");
  assert.deepEqual(got.nilBack, { nil: null }, "Python decodes <nil/> even without allow_none");
  assert.deepEqual(got.raw, {
    array: [
      { int: "-2147483648" },
      { int: "9007199254740993" },
      { int: "42" },
      { string: "untyped & text" },
      { nil: null },
    ],
  });
  // What parley decoded, as JS values.
  assert.deepEqual(received, [
    VALUE,
    [new Date(Date.UTC(2026, 10, 26, 12, 34, 56)), new Uint8Array([0, 255])],
    "a\nb\nc",
    [-2147483648, 2n ** 53n + 1n, 42, "untyped & text", null],
  ]);
});

test("Python client → parley server: faults, unknown method, multicall, introspection", async () => {
  const received: unknown[] = [];
  await using server = startParley(received);
  const got = await runPython(
    String.raw`
proxy = xmlrpc.client.ServerProxy(sys.argv[1], allow_none=True)
def fault_of(call):
    try:
        call()
        return None
    except xmlrpc.client.Fault as fault:
        return [fault.faultCode, fault.faultString]
out = {
    "fault": fault_of(lambda: proxy.fault(4, "Too many <params> & \u2713 \U0001F600")),
    "minFault": fault_of(lambda: proxy.fault(-2**31, "")),
    "boom": fault_of(lambda: proxy.boom()),
    "unknown": fault_of(lambda: proxy.nope(1)),
    "badParams": fault_of(lambda: proxy.repeat("x", "y"))[0],
    "repeat": proxy.repeat("ab", 2),
}
multicall = xmlrpc.client.MultiCall(proxy)
multicall.echo(1)
multicall.fault(7, "seven <7>")
multicall.nope()
multicall.repeat("ab", 2)
multicall.echo(None)
multicall.boom()
results = multicall()
slots = []
for i in range(6):
    try:
        slots.append({"ok": tag(results[i])})
    except xmlrpc.client.Fault as fault:
        slots.append({"fault": [fault.faultCode, fault.faultString]})
out["multicall"] = slots
out["rawMulticall"] = proxy.system.multicall([
    {"methodName": "echo", "params": [[1, None]]},
    {"methodName": "fault", "params": [8, "eight"]},
    {"methodName": "system.multicall", "params": [[]]},
])
out["methods"] = proxy.system.listMethods()
out["help"] = {name: proxy.system.methodHelp(name)
               for name in ("repeat", "echo", "system.multicall")}
out["signatures"] = {name: proxy.system.methodSignature(name)
                     for name in ("repeat", "echo", "system.listMethods")}
out["helpUnknown"] = fault_of(lambda: proxy.system.methodHelp("nope"))
print(json.dumps(out))
`,
    `${server.url}/RPC2`,
  );
  assert.deepEqual(got.fault, [4, "Too many <params> & \u2713 \u{1F600}"]);
  assert.deepEqual(got.minFault, [-2147483648, ""]);
  assert.deepEqual(got.boom, [-32603, "Internal error"], "no handler detail leaks");
  assert.deepEqual(got.unknown, [-32601, "Method not found"]);
  assert.equal(got.badParams, -32602);
  assert.deepEqual(got.repeat, ["ab", "ab"]);
  assert.deepEqual(got.multicall, [
    { ok: { int: "1" } },
    { fault: [7, "seven <7>"] },
    { fault: [-32601, "Method not found"] },
    { ok: { array: [{ string: "ab" }, { string: "ab" }] } },
    { ok: { nil: null } },
    { fault: [-32603, "Internal error"] },
  ]);
  assert.deepEqual(got.rawMulticall, [
    [[1, null]],
    { faultCode: 8, faultString: "eight" },
    { faultCode: -32600, faultString: "Recursive system.multicall is forbidden" },
  ]);
  assert.deepEqual(got.methods, [
    "bigBytes",
    "bigInts",
    "bigString",
    "boom",
    "digest",
    "echo",
    "fault",
    "nothing",
    "repeat",
    "system.getCapabilities",
    "system.listMethods",
    "system.methodHelp",
    "system.methodSignature",
    "system.multicall",
  ]);
  assert.deepEqual(got.help, {
    repeat: "repeat(text, times): the text, times times",
    echo: "",
    "system.multicall":
      "Runs several calls in one request; each result, or a fault struct, in its slot.",
  });
  assert.deepEqual(got.signatures, {
    repeat: [["array", "string", "int"]],
    echo: "undef",
    "system.listMethods": [["array"]],
  });
  assert.deepEqual(got.helpUnknown, [-32601, "Method not found"]);
});

test("Python client → parley server: gzip requests are read, large replies gzipped when accepted", async () => {
  const received: unknown[] = [];
  await using server = startParley(received);
  const got = await runPython(
    String.raw`
class Recording(xmlrpc.client.Transport):
    """Records the Content-Encoding of each request sent and reply received."""
    def __init__(self, threshold=None, accept=True):
        super().__init__()
        self.encode_threshold = threshold
        self.accept_gzip_encoding = accept
        self.sent = []
        self.replies = []

    def send_content(self, connection, request_body):
        putheader = connection.putheader
        encoding = []
        def record(name, *values):
            if name.lower() == "content-encoding":
                encoding.append(values[0])
            return putheader(name, *values)
        connection.putheader = record
        try:
            super().send_content(connection, request_body)
        finally:
            del connection.putheader
        self.sent.append(encoding[0] if encoding else None)

    def parse_response(self, response):
        self.replies.append(response.getheader("Content-Encoding"))
        return super().parse_response(response)

url = sys.argv[1]
text = big_string(2000)
gzipping = Recording(threshold=0)
proxy = xmlrpc.client.ServerProxy(url, transport=gzipping)
out = {
    "small": proxy.echo("tiny"),
    "bigDown": proxy.bigString(2000) == text,
    "bigUp": proxy.echo(text) == text,
}
out["sent"] = gzipping.sent
out["replies"] = gzipping.replies
refusing = Recording(accept=False)
proxy = xmlrpc.client.ServerProxy(url, transport=refusing)
out["plainDown"] = proxy.bigString(2000) == text
out["plainSent"] = refusing.sent
out["plainReplies"] = refusing.replies
print(json.dumps(out))
`,
    `${server.url}/RPC2`,
  );
  assert.equal(got.small, "tiny");
  assert.equal(got.bigDown, true);
  assert.equal(got.bigUp, true);
  // Every request gzipped (threshold 0) and understood; replies over 1024 bytes gzipped.
  assert.deepEqual(got.sent, ["gzip", "gzip", "gzip"]);
  assert.deepEqual(got.replies, [null, "gzip", "gzip"]);
  // Without Accept-Encoding: gzip nothing is compressed.
  assert.equal(got.plainDown, true);
  assert.deepEqual(got.plainSent, [null]);
  assert.deepEqual(got.plainReplies, [null]);
  assert.deepEqual(received, ["tiny", bigString(2000)]);
});

test("Python client → parley server: 1 MiB strings and base64, both ways, exactly", async () => {
  const received: unknown[] = [];
  await using server = startParley(received);
  const got = await runPython(
    String.raw`
url = sys.argv[1]
repeats, length = ${REPEATS}, ${MIB}
text, data = big_string(repeats), big_bytes(length)
proxy = xmlrpc.client.ServerProxy(url, use_builtin_types=True)
classic = xmlrpc.client.ServerProxy(url)
out = {
    "digests": [digest(text), digest(data)],
    "parleyDigests": [proxy.digest(text), proxy.digest(data)],
    "stringDown": proxy.bigString(repeats) == text,
    "bytesDown": proxy.bigBytes(length) == data,
    "stringEcho": proxy.echo(text) == text,
    "bytesEcho": proxy.echo(data) == data,
    "binaryEcho": classic.echo(xmlrpc.client.Binary(data)).data == data,
}
print(json.dumps(out))
`,
    `${server.url}/RPC2`,
  );
  const text = bigString(REPEATS);
  const bytes = bigBytes(MIB);
  const digests = [await digestOf(text), await digestOf(bytes)];
  assert.deepEqual(got.digests, digests, "Python built the same values");
  assert.deepEqual(got.parleyDigests, digests, "parley decoded them exactly");
  assert.equal(got.stringDown, true);
  assert.equal(got.bytesDown, true);
  assert.equal(got.stringEcho, true);
  assert.equal(got.bytesEcho, true);
  assert.equal(got.binaryEcho, true);
  assert.equal(received.length, 3);
  assert.ok(received[0] === text, "parley received the large string exactly");
  assert.deepEqual(received[1], bytes);
  assert.deepEqual(received[2], bytes);
});
