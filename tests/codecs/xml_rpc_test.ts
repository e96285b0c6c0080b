import assert from "node:assert/strict";
import fc from "fast-check";
import { xmlRpc } from "../../codecs/xml_rpc.ts";
import { DecodeError, ErrorCode } from "../../rpc/errors.ts";
import { Float, float } from "../../rpc/float.ts";
import type { DecodedFrame, RpcMessage } from "../../rpc/types.ts";
import { EXAMPLES, valueArbitrary } from "./conformance.ts";
import { needs } from "../_needs.ts";

/** Decodes one value, wrapped as the param of a methodCall (bad values throw DecodeError). */
function decodeParam(inner: string, codec = xmlRpc()): unknown {
  const decoded = codec.decode(
    `<?xml version="1.0"?><methodCall><methodName>m</methodName><params><param><value>${inner}</value></param></params></methodCall>`,
  );
  assert.equal(decoded.kind, "request");
  return (decoded as { params: readonly unknown[] }).params[0];
}

/** Encodes `value` as a result and decodes it with a fresh client. */
function roundTrip(value: unknown, options = {}): unknown {
  const client = xmlRpc(options);
  client.encode({ kind: "request", id: 9, method: "m" });
  const reply = client.decode(xmlRpc(options).encode({ kind: "result", id: 1, result: value }));
  assert.equal(reply.kind, "result");
  return (reply as { result: unknown }).result;
}

Deno.test("xmlRpc: the specification's examples", () => {
  const server = xmlRpc();
  assert.deepEqual(
    server.decode(`<?xml version="1.0"?>
<methodCall>
   <methodName>examples.getStateName</methodName>
   <params>
      <param>
         <value><i4>41</i4></value>
         </param>
      </params>
   </methodCall>`),
    { kind: "request", id: 1, method: "examples.getStateName", params: [41] },
  );
  const client = xmlRpc();
  client.encode({ kind: "request", id: "a", method: "examples.getStateName", params: [41] });
  client.encode({ kind: "request", id: "b", method: "examples.getStateName", params: [42] });
  assert.deepEqual(
    client.decode(`<?xml version="1.0"?>
<methodResponse>
   <params>
      <param>
         <value><string>South Dakota</string></value>
         </param>
      </params>
   </methodResponse>`),
    { kind: "result", id: "a", result: "South Dakota" },
  );
  assert.deepEqual(
    client.decode(`<?xml version="1.0"?>
<methodResponse>
   <fault>
      <value>
         <struct>
            <member>
               <name>faultCode</name>
               <value><int>4</int></value>
               </member>
            <member>
               <name>faultString</name>
               <value><string>Too many parameters.</string></value>
               </member>
            </struct>
         </value>
      </fault>
   </methodResponse>`),
    { kind: "error", id: "b", error: { code: 4, message: "Too many parameters." } },
  );
});

Deno.test("xmlRpc: request ids are a counter; replies ignore ids; FIFO on the client", () => {
  const server = xmlRpc();
  const client = xmlRpc();
  const ids = ["x", 5, 0];
  for (const id of ids) {
    const decoded = server.decode(client.encode({ kind: "request", id, method: "ping" }));
    assert.deepEqual(decoded, { kind: "request", id: ids.indexOf(id) + 1, method: "ping" });
  }
  for (const id of ids) {
    const reply = server.encode({ kind: "result", id: 999, result: "pong" });
    assert.deepEqual(client.decode(reply), { kind: "result", id, result: "pong" });
  }
  // A result answering no call is invalid; a fault answering none has id null.
  assert.deepEqual(
    client.decode(server.encode({ kind: "result", id: 1, result: 1 })).kind,
    "invalid",
  );
  assert.deepEqual(
    client.decode(
      server.encode({ kind: "error", id: 1, error: { code: 1, message: "x", data: 5 } }),
    ),
    { kind: "error", id: null, error: { code: 1, message: "x" } },
  );
});

Deno.test("xmlRpc: the wire format", () => {
  assert.equal(
    xmlRpc().encode({
      kind: "request",
      id: 1,
      method: "a&b",
      params: [1, "<x>", [true], { k: 2.5 }],
    }),
    '<?xml version="1.0"?><methodCall><methodName>a&amp;b</methodName><params>' +
      "<param><value><int>1</int></value></param>" +
      "<param><value><string>&lt;x&gt;</string></value></param>" +
      "<param><value><array><data><value><boolean>1</boolean></value></data></array></value></param>" +
      "<param><value><struct><member><name>k</name><value><double>2.5</double></value></member></struct></value></param>" +
      "</params></methodCall>",
  );
  assert.equal(
    xmlRpc().encode({ kind: "request", id: 1, method: "ping" }),
    '<?xml version="1.0"?><methodCall><methodName>ping</methodName></methodCall>',
  );
});

Deno.test("xmlRpc: every type both ways", () => {
  const values: unknown[] = [
    0,
    -7,
    2 ** 31 - 1,
    -(2 ** 31),
    true,
    false,
    "",
    "a < b & c > d ]]> \r\n\t",
    "héllo ✓ 𝄞 日本",
    1.5,
    -2.25e-300,
    1e300,
    new Date(Date.UTC(1998, 6, 17, 14, 8, 55)),
    new Uint8Array([0, 1, 2, 250, 255]),
    new Uint8Array(),
    [],
    [1, ["two", [3.5]], { a: null }],
    {},
    { a: 1, "b c": [true], nested: { deep: { x: "y" } } },
    null,
  ];
  for (const value of values) assert.deepEqual(roundTrip(value), value);
  assert.equal(roundTrip(undefined), null);
  assert.equal(roundTrip(-0), 0);
  assert.equal(roundTrip(12n), 12);
  assert.deepEqual(roundTrip({ p: 1 }), { p: 1 });
  // Named params travel as one struct.
  const server = xmlRpc();
  assert.deepEqual(
    server.decode(xmlRpc().encode({ kind: "request", id: 1, method: "f", params: { a: 1 } })),
    { kind: "request", id: 1, method: "f", params: [{ a: 1 }] },
  );
  assert.deepEqual(
    server.decode("<methodCall><methodName>f</methodName><params/></methodCall>"),
    { kind: "request", id: 2, method: "f", params: [] },
  );
});

Deno.test("xmlRpc: any value round trips (property)", () => {
  // deno-lint-ignore no-control-regex
  const safe = /^[\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd]*$/;
  const representable = (v: unknown): boolean =>
    typeof v === "string"
      ? safe.test(v)
      : Array.isArray(v)
      ? v.every(representable)
      : v !== null && typeof v === "object"
      ? Object.entries(v).every(([k, x]) => safe.test(k) && representable(x))
      : true;
  fc.assert(
    fc.property(valueArbitrary().filter(representable), (value) => {
      assert.deepEqual(roundTrip(value), value);
    }),
  );
});

Deno.test("xmlRpc: decodes the wire forms", () => {
  assert.equal(decodeParam("<int> 42 </int>"), 42);
  assert.equal(decodeParam("<i4>-3</i4>"), -3);
  assert.equal(decodeParam("<boolean>1</boolean>"), true);
  assert.equal(decodeParam("plain text"), "plain text");
  assert.equal(decodeParam("\n   <int>1</int>\n  "), 1);
  assert.deepEqual(
    decodeParam("<struct>\n <member>\n <name>a</name>\n <value> x </value>\n </member>\n</struct>"),
    { a: " x " },
  );
  assert.equal(decodeParam("  spaced  "), "  spaced  ");
  assert.equal(decodeParam(""), "");
  assert.equal(decodeParam("<string/>"), "");
  assert.equal(decodeParam("<string><![CDATA[<x>&]]></string>"), "<x>&");
  assert.equal(decodeParam("<string>&#x1F600;&amp;&lt;</string>"), "😀&<");
  assert.equal(decodeParam("<double>-1.5E3</double>"), -1500);
  assert.equal(decodeParam("<double>.5</double>"), 0.5);
  assert.equal(decodeParam("<nil/>"), null);
  assert.equal(
    decodeParam('<ex:nil xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions"/>'),
    null,
  );
  assert.equal(decodeParam("<ex:i8>5000000000</ex:i8>"), 5000000000);
  assert.deepEqual(
    decodeParam("<base64>AAEC\n+v8=</base64>"),
    new Uint8Array([0, 1, 2, 250, 255]),
  );
  assert.deepEqual(
    decodeParam(`<array>
      <data>
        <value><int>1</int></value>
        <value>two</value>
      </data>
    </array>`),
    [1, "two"],
  );
  const expected = new Date(Date.UTC(1998, 6, 17, 14, 8, 55));
  for (
    const text of [
      "19980717T14:08:55",
      "1998-07-17T14:08:55",
      "1998-07-17T14:08:55Z",
      "19980717T140855",
      "1998-07-17T16:08:55+02:00",
    ]
  ) {
    assert.deepEqual(decodeParam(`<dateTime.iso8601>${text}</dateTime.iso8601>`), expected);
  }
  assert.deepEqual(
    decodeParam("<dateTime.iso8601>1998-07-17T14:08:55.250Z</dateTime.iso8601>"),
    new Date(expected.getTime() + 250),
  );
  const encoded = xmlRpc().encode({ kind: "result", id: 1, result: expected }) as string;
  assert.match(encoded, /<dateTime\.iso8601>19980717T14:08:55<\/dateTime\.iso8601>/);
});

Deno.test("xmlRpc: integer boundaries, i8 and bigint", () => {
  const encode = (v: unknown, o = {}) =>
    xmlRpc(o).encode({ kind: "result", id: 1, result: v }) as string;
  assert.match(encode(2 ** 31 - 1), /<int>2147483647<\/int>/);
  assert.match(encode(2 ** 31), /<i8>2147483648<\/i8>/);
  assert.match(encode(-(2 ** 31) - 1), /<i8>-2147483649<\/i8>/);
  assert.match(encode(2n ** 63n - 1n), /<i8>9223372036854775807<\/i8>/);
  assert.match(encode(2 ** 70), /<double>/);
  assert.throws(() => encode(2n ** 63n), TypeError);
  assert.throws(() => encode(2 ** 31, { allowNone: false }), TypeError);
  assert.equal(roundTrip(2 ** 31), 2 ** 31);
  assert.equal(roundTrip(-(2 ** 31) - 1), -(2 ** 31) - 1);
  assert.equal(roundTrip(2n ** 63n - 1n), 2n ** 63n - 1n);
  assert.equal(roundTrip(-(2n ** 63n)), -(2n ** 63n));
  assert.equal(roundTrip(2 ** 53 - 1), 2 ** 53 - 1);
  // A whole number beyond 2^53 is a double: it comes back as the same number.
  assert.match(encode(2 ** 53), /<double>9007199254740992<\/double>/);
  assert.equal(roundTrip(2 ** 53), 2 ** 53);
  // <int> and <i4> beyond 32 bits are read as <i8> is (Python does, and the
  // xmlrpc npm package writes them); beyond 64 bits they are malformed.
  assert.equal(decodeParam("<int>2147483648</int>"), 2147483648);
  assert.equal(decodeParam("<int>1099511627776</int>"), 2 ** 40);
  assert.equal(decodeParam("<i4>-2147483649</i4>"), -2147483649);
  assert.equal(decodeParam("<int>9223372036854775807</int>"), 2n ** 63n - 1n);
  assert.equal(decodeParam("<i4>-9223372036854775808</i4>"), -(2n ** 63n));
  assert.equal(decodeParam("<int>-9007199254740991</int>"), -(2 ** 53 - 1));
  assert.equal(decodeParam("<int>9007199254740992</int>"), 2n ** 53n);
  for (const type of ["int", "i4", "i8"]) {
    assert.throws(() => decodeParam(`<${type}>9223372036854775808</${type}>`), DecodeError);
    assert.throws(() => decodeParam(`<${type}>-9223372036854775809</${type}>`), DecodeError);
  }
  assert.throws(() => decodeParam("<int>1.5</int>"), DecodeError);
  assert.throws(() => decodeParam("<int></int>"), DecodeError);
  for (const bad of [NaN, Infinity, -Infinity]) assert.throws(() => encode(bad), TypeError);
});

Deno.test("xmlRpc: a Float is always a <double>, its sign kept; keepFloats decodes Floats", () => {
  const encode = (v: unknown) => xmlRpc().encode({ kind: "result", id: 1, result: v }) as string;
  const doubles = (xml: string) => [...xml.matchAll(/<double>([^<]*)<\/double>/g)].map((m) => m[1]);
  assert.deepEqual(
    doubles(encode([float(2), float(0), float(-0), float(0.5), float(-3), float(1e21)])),
    ["2.0", "0.0", "-0.0", "0.5", "-3.0", "1e+21"],
  );
  assert.deepEqual(doubles(encode({ nested: [{ x: float(2 ** 40) }] })), ["1099511627776.0"]);
  // Plain numbers keep their form: whole ones are integers.
  assert.match(encode(2), /<int>2<\/int>/);
  assert.match(encode(-0), /<int>0<\/int>/);
  for (const bad of [NaN, Infinity, -Infinity]) {
    assert.throws(() => encode(float(bad)), TypeError);
    assert.throws(() => encode([1, { x: float(bad) }]), TypeError);
  }
  // By default a double is a plain number; with keepFloats a Float.
  const whole = encode([float(2), float(-0), 0.5, 7]);
  const plain = roundTrip([float(2), float(-0), 0.5, 7]) as unknown[];
  assert.deepEqual(plain, [2, -0, 0.5, 7]);
  assert.ok(Object.is(plain[1], -0));
  const client = xmlRpc({ keepFloats: true });
  client.encode({ kind: "request", id: 1, method: "m" });
  const kept = (client.decode(whole) as { result: unknown[] }).result;
  assert.ok(kept[0] instanceof Float && kept[0].value === 2);
  assert.ok(kept[1] instanceof Float && Object.is(kept[1].value, -0));
  assert.ok(kept[2] instanceof Float && kept[2].value === 0.5);
  assert.equal(kept[3], 7);
  // What was kept is sent on as it came: doubles stay doubles.
  assert.deepEqual(doubles(encode(kept)), ["2.0", "-0.0", "0.5"]);
  assert.deepEqual(
    decodeParam("<double>-0.0</double>", xmlRpc({ keepFloats: true })),
    new Float(-0),
  );
});

Deno.test("xmlRpc: a server answers every document that is not a call with -32600", () => {
  const server = xmlRpc();
  const faultXml = xmlRpc().encode({ kind: "error", id: 1, error: { code: 4, message: "x" } });
  const resultXml = xmlRpc().encode({ kind: "result", id: 1, result: 1 });
  const call = xmlRpc().encode({ kind: "request", id: 1, method: "m" });
  const invalid = (id: number | undefined, root: string) => ({
    kind: "invalid",
    id,
    error: { code: ErrorCode.InvalidRequest, message: `expected <methodCall>, got <${root}>` },
  });
  assert.deepEqual(server.decode(resultXml), invalid(1, "methodResponse"));
  // What follows its own complaint is not answered, until a call arrives:
  // two ends never trade faults forever.
  assert.deepEqual(server.decode(faultXml), {
    kind: "error",
    id: null,
    error: { code: 4, message: "x" },
  });
  assert.deepEqual(server.decode("<foo/>"), invalid(undefined, "foo"));
  assert.deepEqual(server.decode(call), { kind: "request", id: 2, method: "m" });
  assert.deepEqual(server.decode(faultXml), invalid(3, "methodResponse"));
  assert.deepEqual(xmlRpc().decode("<foo><bar/></foo>"), invalid(1, "foo"));
  // The answer is a fault the other side reads.
  const answer = server.encode({ kind: "error", id: 3, error: invalid(3, "x").error });
  const client = xmlRpc();
  client.encode({ kind: "request", id: "c", method: "m" });
  assert.deepEqual(client.decode(answer), {
    kind: "error",
    id: "c",
    error: { code: -32600, message: "expected <methodCall>, got <x>" },
  });
});

Deno.test("xmlRpc: at a client, another document fails the awaiting call; strays are answered once", () => {
  const client = xmlRpc();
  client.encode({ kind: "request", id: "a", method: "m" });
  assert.deepEqual(client.decode("<html><body/></html>"), {
    kind: "invalid",
    id: undefined,
    error: { code: ErrorCode.InvalidRequest, message: "expected <methodResponse>, got <html>" },
    inReplyTo: "a",
  });
  // Nothing awaits: a stray document is answered, the fault answering it is not.
  assert.deepEqual(client.decode("<html/>"), {
    kind: "invalid",
    id: 1,
    error: { code: ErrorCode.InvalidRequest, message: "expected <methodCall>, got <html>" },
  });
  const stray = client.decode(xmlRpc().encode({ kind: "result", id: 1, result: 1 }));
  assert.equal(stray.kind, "invalid");
  assert.equal((stray as { id: unknown }).id, undefined);
});

Deno.test("xmlRpc: nil with allowNone true and false", () => {
  const strict = xmlRpc({ allowNone: false });
  assert.match(xmlRpc().encode({ kind: "result", id: 1, result: null }) as string, /<nil\/>/);
  assert.throws(() => strict.encode({ kind: "result", id: 1, result: null }), TypeError);
  assert.throws(() => strict.encode({ kind: "result", id: 1, result: [undefined] }), TypeError);
  assert.equal(decodeParam("<nil/>", strict), null);
  assert.equal(decodeParam("<i8>1</i8>", strict), 1);
});

Deno.test("xmlRpc: encode refuses what XML-RPC cannot carry", () => {
  const codec = xmlRpc();
  const encode = (v: unknown) => codec.encode({ kind: "result", id: 1, result: v });
  for (
    const bad of ["\u0000", "a\u0001", "\ud800", "\uffff", new Map(), new Int8Array(), () => 1]
  ) {
    assert.throws(() => encode(bad), TypeError);
  }
  assert.throws(() => encode({ "\u0007": 1 }), TypeError);
  assert.throws(() => encode(new Date(NaN)), TypeError);
  assert.throws(() => codec.encode({ kind: "notification", method: "x" }), TypeError);
  assert.throws(() => codec.encode([{ kind: "result", id: 1, result: 1 }]), TypeError);
  assert.throws(
    () => codec.encode({ kind: "error", id: 1, error: { code: 1.5, message: "x" } }),
    TypeError,
  );
});

Deno.test("xmlRpc: a __proto__ member does not pollute", () => {
  const value = decodeParam(
    "<struct><member><name>__proto__</name><value><struct><member><name>polluted</name>" +
      "<value><boolean>1</boolean></value></member></struct></value></member></struct>",
  ) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal((value as { polluted?: unknown }).polluted, undefined);
  assert.deepEqual(Object.getOwnPropertyDescriptor(value, "__proto__")?.value, { polluted: true });
});

Deno.test("xmlRpc: nesting over maxDepth is refused both ways", () => {
  const codec = xmlRpc({ maxDepth: 3 });
  assert.deepEqual(roundTrip([[[1]]], { maxDepth: 3 }), [[[1]]]);
  assert.throws(() => codec.encode({ kind: "result", id: 1, result: [[[[1]]]] }), TypeError);
  const deep = (n: number) =>
    "<array><data><value>".repeat(n) + "1" + "</value></data></array>".repeat(n);
  assert.throws(() => decodeParam(deep(4), codec), DecodeError);
  // Far too deep for the default: refused while parsing, no stack overflow.
  assert.throws(() => decodeParam(deep(100_000)), DecodeError);
  assert.throws(() => xmlRpc().decode("<a>".repeat(100_000)), DecodeError);
});

Deno.test("xmlRpc: DOCTYPE, entities and XXE are refused", () => {
  const codec = xmlRpc();
  const attacks = [
    `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>
<methodCall><methodName>&lol2;</methodName></methodCall>`,
    `<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<methodCall><methodName>&xxe;</methodName></methodCall>`,
    `<!DOCTYPE methodCall SYSTEM "http://example.com/x.dtd"><methodCall><methodName>a</methodName></methodCall>`,
    `<methodCall><methodName>&undefined;</methodName></methodCall>`,
    `<?xml-stylesheet href="x"?><methodCall><methodName>a</methodName></methodCall>`,
  ];
  for (const attack of attacks) assert.throws(() => codec.decode(attack), DecodeError);
});

Deno.test("xmlRpc: garbage, truncation and bad structure", () => {
  const codec = xmlRpc();
  const garbage = [
    "",
    "   ",
    "garbage",
    "<methodCall>",
    "<methodCall><methodName>a</methodName></methodCall><x/>",
    "<methodCall><methodName>a</methodName><params><param><value><float>1</float></value></param></params></methodCall>",
    "<methodCall><methodName>a</methodName><params><param><value><boolean>2</boolean></value></param></params></methodCall>",
    "<methodCall><methodName>a</methodName><params><param><value><base64>!!</base64></value></param></params></methodCall>",
    "<methodCall><methodName>a</methodName><params><param><value><dateTime.iso8601>19981317T00:00:00</dateTime.iso8601></value></param></params></methodCall>",
    "<methodCall><methodName>a</methodName><params><param><value>x<int>1</int></value></param></params></methodCall>",
    new Uint8Array([0xc1, 0xff, 0xfe, 0x00]),
    new Uint8Array([0x3c, 0x61, 0xc3, 0x28, 0x2f, 0x3e]),
  ];
  for (const frame of garbage) assert.throws(() => codec.decode(frame), DecodeError, String(frame));
  for (const message of EXAMPLES as RpcMessage[]) {
    if (message.kind === "notification") continue;
    if (JSON.stringify(message).includes("\\u0000")) continue; // XML cannot carry U+0000
    const frame = codec.encode(message) as string;
    for (let n = 0; n < frame.length; n++) {
      assert.throws(() => xmlRpc().decode(frame.slice(0, n)), DecodeError, `prefix ${n}`);
    }
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        codec.decode(bytes);
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
      }
    }),
  );
  const invalid = (frame: string): DecodedFrame => xmlRpc().decode(frame);
  for (
    const frame of [
      "<methodCall/>",
      "<methodCall><methodName> </methodName></methodCall>",
      "<methodCall><params/></methodCall>",
      "<methodCall><methodName>a</methodName><foo/></methodCall>",
    ]
  ) {
    assert.deepEqual(invalid(frame).kind, "invalid", frame);
    assert.equal(
      (invalid(frame) as { error: { code: number } }).error.code,
      ErrorCode.InvalidRequest,
    );
    assert.equal((invalid(frame) as { id: unknown }).id, 1);
  }
});

Deno.test("xmlRpc: an invalid response fails the call it consumed", () => {
  const client = xmlRpc();
  for (
    const frame of [
      "<methodResponse/>",
      "<methodResponse><params/></methodResponse>",
      "<methodResponse><params><param><value><int>1</int><int>2</int></value></param></params></methodResponse>",
      "<methodResponse><params><param><value><int>x</int></value></param></params></methodResponse>",
      "<methodResponse><fault><value><struct></struct></value></fault></methodResponse>",
    ]
  ) {
    client.encode({ kind: "request", id: "call", method: "m" });
    const decoded = client.decode(frame);
    assert.equal(decoded.kind, "invalid", frame);
    assert.equal((decoded as { id: unknown }).id, undefined);
    assert.equal((decoded as { inReplyTo?: unknown }).inReplyTo, "call");
  }
  // The FIFO stays in step: the next response answers the next call.
  client.encode({ kind: "request", id: "next", method: "m" });
  assert.deepEqual(client.decode(xmlRpc().encode({ kind: "result", id: 0, result: 1 })), {
    kind: "result",
    id: "next",
    result: 1,
  });
  assert.deepEqual(client.decode("<methodResponse/>"), {
    kind: "invalid",
    id: undefined,
    error: {
      code: ErrorCode.InvalidRequest,
      message: "Cannot decode xmlrpc frame: <methodResponse> must hold one <params>",
    },
  });
});

// ---------------------------------------------------------------- Python cross-check

async function python(script: string, input = ""): Promise<string> {
  const child = new Deno.Command("python3", {
    args: ["-c", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return new TextDecoder().decode(stdout);
}

const PY_VALUES = `
import datetime, xmlrpc.client as x
values = (1, -2147483648, 2147483647, True, False, "h\\u00e9llo \\u2713 \\U0001d11e <&>", "",
  1.5, -2.25e-10, datetime.datetime(1998, 7, 17, 14, 8, 55), x.Binary(b"\\x00\\x01\\xfa\\xff"),
  {"a": [1, {"b": None}], "__proto__": 1}, [], None)
`;

Deno.test(
  "xmlRpc: decodes what Python's xmlrpc.client sends",
  { ignore: needs("python3") },
  async () => {
    const xml = await python(
      PY_VALUES + "import sys; sys.stdout.write(x.dumps(values, methodname='x', allow_none=True))",
    );
    const decoded = xmlRpc().decode(xml);
    assert.equal(decoded.kind, "request");
    const params = (decoded as { params: readonly unknown[] }).params;
    const object = Object.fromEntries([["a", [1, { b: null }]], ["__proto__", 1]]);
    assert.deepEqual(params, [
      1,
      -2147483648,
      2147483647,
      true,
      false,
      "héllo ✓ 𝄞 <&>",
      "",
      1.5,
      -2.25e-10,
      new Date(Date.UTC(1998, 6, 17, 14, 8, 55)),
      new Uint8Array([0, 1, 250, 255]),
      object,
      [],
      null,
    ]);
    const fault = await python(
      "import sys, xmlrpc.client as x; sys.stdout.write(x.dumps(x.Fault(4, 'Too many'), methodresponse=True))",
    );
    const client = xmlRpc();
    client.encode({ kind: "request", id: "call", method: "m" });
    assert.deepEqual(client.decode(fault), {
      kind: "error",
      id: "call",
      error: { code: 4, message: "Too many" },
    });
  },
);

Deno.test(
  "xmlRpc: Python's xmlrpc.client reads what parley sends",
  { ignore: needs("python3") },
  async () => {
    const xml = xmlRpc().encode({
      kind: "request",
      id: 1,
      method: "x",
      params: [
        1,
        -2147483648,
        2147483647,
        true,
        false,
        "héllo ✓ 𝄞 <&>",
        "",
        1.5,
        -2.25e-10,
        new Date(Date.UTC(1998, 6, 17, 14, 8, 55)),
        new Uint8Array([0, 1, 250, 255]),
        Object.fromEntries([["a", [1, { b: null }]], ["__proto__", 1]]),
        [],
        null,
        2 ** 40,
      ],
    }) as string;
    const out = await python(
      PY_VALUES + `
import sys
params, method = x.loads(sys.stdin.read(), use_builtin_types=True)
expected = list(values)
expected[10] = b"\\x00\\x01\\xfa\\xff"
expected.append(2 ** 40)
assert method == "x", method
assert list(params) == expected, (params, expected)
sys.stdout.write("ok")
`,
      xml,
    );
    assert.equal(out, "ok");
    const fault = xmlRpc().encode({
      kind: "error",
      id: 1,
      error: { code: -32601, message: "no <such>" },
    });
    assert.equal(
      await python(
        `import sys, xmlrpc.client as x
try:
  x.loads(sys.stdin.read())
except x.Fault as f:
  sys.stdout.write("%d %s" % (f.faultCode, f.faultString))`,
        fault as string,
      ),
      "-32601 no <such>",
    );
  },
);
