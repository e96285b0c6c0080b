import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { xmlRpc } from "../codecs/xml_rpc.ts";
import { spawnListening } from "./interop/_process.ts";
import {
  type CallContext,
  ConnectionClosedError,
  ProtocolError,
  RpcError,
  TimeoutError,
  withContext,
} from "../mod.ts";
import { connectHttp, HttpError, type HttpServer, serveHttp } from "../rpc/transports/http.ts";
import { needs } from "./_needs.ts";

const codec = jsonRpc();
const big = "x".repeat(4096);
const service = {
  add: (a: number, b: number) => a + b,
  echo: (value: unknown) => value,
  big: () => big,
  fail: () => {
    throw new RpcError(1, "overflow", { whatOp: 1, why: "overflow" });
  },
  zip: () => {},
};

function start(options: Partial<Parameters<typeof serveHttp>[0]> = {}): HttpServer {
  return serveHttp({ routes: { "/rpc": { codec, service } }, ...options });
}

function post(
  server: HttpServer,
  body: BodyInit | null,
  headers: Record<string, string> = { "content-type": "application/json" },
  path = "/rpc",
  method = "POST",
): Promise<Response> {
  return fetch(server.url + path, { method, headers, body });
}

async function gzip(bytes: Uint8Array | string): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("serveHttp answers JSON-RPC calls with positional and named params", async () => {
  await using server = start();
  const response = await post(server, '{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}');
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/json");
  assert.deepEqual(await response.json(), { jsonrpc: "2.0", result: 3, id: 1 });
  const named = await post(
    server,
    '{"jsonrpc":"2.0","method":"echo","params":{"a":1},"id":"n"}',
    { "content-type": "application/json; charset=utf-8" },
  );
  assert.deepEqual(await named.json(), { jsonrpc: "2.0", result: { a: 1 }, id: "n" });
});

Deno.test("serveHttp answers a batch with one body and notifications only with 204", async () => {
  await using server = start();
  const response = await post(
    server,
    '[{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},{"jsonrpc":"2.0","method":"zip"},' +
      '{"jsonrpc":"2.0","method":"add","params":[3,4],"id":2}]',
  );
  assert.equal(response.status, 200);
  const replies = await response.json();
  assert.deepEqual(replies.map((r: { id: number }) => r.id).sort(), [1, 2]);
  const none = await post(server, '[{"jsonrpc":"2.0","method":"zip"}]');
  assert.equal(none.status, 204);
  assert.equal(await none.text(), "");
  const one = await post(server, '{"jsonrpc":"2.0","method":"zip"}');
  assert.equal(one.status, 204);
  await one.body?.cancel();
});

Deno.test("serveHttp answers errors with 200 and a JSON-RPC error body", async () => {
  await using server = start();
  const missing = await post(server, '{"jsonrpc":"2.0","method":"nope","id":1}');
  assert.equal(missing.status, 200);
  assert.equal((await missing.json()).error.code, -32601);
  const malformed = await post(server, '{"jsonrpc":');
  assert.equal(malformed.status, 200);
  assert.equal((await malformed.json()).error.code, -32700);
});

Deno.test("serveHttp answers 404, 405, 415 and 400", async () => {
  await using server = start();
  for (const path of ["/nothing", "/rpc/", "/RPC", "/rpc/x"]) {
    const notFound = await post(server, "{}", undefined, path);
    assert.equal(notFound.status, 404, path);
    await notFound.body?.cancel();
  }
  // A query string does not change the route.
  const query = await post(server, '{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}', {
    "content-type": "application/json",
  }, "/rpc?trace=1");
  assert.deepEqual(await query.json(), { jsonrpc: "2.0", result: 3, id: 1 });
  const get = await post(server, null, {}, "/rpc", "GET");
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
  await get.body?.cancel();
  for (const type of ["text/plain", "application/x-www-form-urlencoded"]) {
    const wrong = await post(server, "{}", { "content-type": type });
    assert.equal(wrong.status, 415);
    await wrong.body?.cancel();
  }
  const brotli = await post(server, "{}", {
    "content-type": "application/json",
    "content-encoding": "br",
  });
  assert.equal(brotli.status, 415);
  await brotli.body?.cancel();
  const empty = await post(server, "");
  assert.equal(empty.status, 400);
  await empty.body?.cancel();
  const invalid = await post(server, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
  assert.equal(invalid.status, 400);
  await invalid.body?.cancel();
  const corrupt = await post(server, new Uint8Array([1, 2, 3, 4]), {
    "content-type": "application/json",
    "content-encoding": "gzip",
  });
  assert.equal(corrupt.status, 400);
  await corrupt.body?.cancel();
});

Deno.test("serveHttp accepts the extra media types of a route", async () => {
  await using server = serveHttp({
    routes: { "/rpc": { codec, service, mediaTypes: ["application/json-rpc"] } },
  });
  const response = await post(server, '{"jsonrpc":"2.0","method":"add","params":[1,1],"id":1}', {
    "content-type": "application/json-rpc",
  });
  assert.equal((await response.json()).result, 2);
});

Deno.test("serveHttp answers 413 by Content-Length and while streaming a body", async () => {
  await using server = start({ maxBodySize: 1024 });
  const declared = await post(server, "x".repeat(2048));
  assert.equal(declared.status, 413);
  await declared.body?.cancel();
  // A chunked body with no Content-Length that would go on for 1 GiB: the
  // answer comes long before it ends.
  let sent = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      sent += 65536;
      if (sent > 1024 * 1024 * 1024) controller.close();
      else controller.enqueue(new Uint8Array(65536).fill(0x20));
    },
  });
  const streamed = await post(server, endless);
  assert.equal(streamed.status, 413);
  await streamed.body?.cancel();
  assert.ok(sent < 64 * 1024 * 1024, `sent ${sent} bytes`);
  const small = await post(server, '{"jsonrpc":"2.0","method":"add","params":[1,1],"id":1}');
  assert.equal((await small.json()).result, 2);
});

Deno.test("serveHttp decompresses gzip requests and answers 413 to a gzip bomb", async () => {
  await using server = start({ maxBodySize: 1024 * 1024 });
  const body = await gzip('{"jsonrpc":"2.0","method":"add","params":[2,3],"id":1}');
  const response = await post(server, body, {
    "content-type": "application/json",
    "content-encoding": "gzip",
  });
  assert.equal((await response.json()).result, 5);
  const bomb = await gzip(new Uint8Array(50 * 1024 * 1024));
  assert.ok(bomb.length < 100 * 1024);
  const exploded = await post(server, bomb, {
    "content-type": "application/json",
    "content-encoding": "gzip",
  });
  assert.equal(exploded.status, 413);
  await exploded.body?.cancel();
});

Deno.test("serveHttp gzips large replies for clients that accept gzip", async () => {
  await using server = start();
  const call = '{"jsonrpc":"2.0","method":"big","id":1}';
  // A client that does not decompress by itself: a raw socket.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  const request = `POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
    `Accept-Encoding: gzip\r\nContent-Length: ${call.length}\r\nConnection: close\r\n\r\n${call}`;
  await conn.write(new TextEncoder().encode(request));
  const raw = new Uint8Array(await new Response(conn.readable).arrayBuffer());
  const split = raw.findIndex((_, i) =>
    raw[i] === 13 && raw[i + 1] === 10 && raw[i + 2] === 13 && raw[i + 3] === 10
  );
  const head = new TextDecoder().decode(raw.subarray(0, split)).toLowerCase();
  assert.match(head, /content-encoding: gzip/);
  let body: Uint8Array = raw.subarray(split + 4);
  if (/transfer-encoding: chunked/.test(head)) body = dechunk(body);
  const text = await new Response(
    new Blob([body as BlobPart]).stream().pipeThrough(new DecompressionStream("gzip")),
  ).text();
  assert.equal(JSON.parse(text).result, big);
  // fetch decompresses by itself; the header is still there.
  const viaFetch = await post(server, call, {
    "content-type": "application/json",
    "accept-encoding": "gzip",
  });
  assert.equal(viaFetch.headers.get("content-encoding"), "gzip");
  assert.equal((await viaFetch.json()).result, big);
  // A small reply is left as it is.
  const small = await post(server, '{"jsonrpc":"2.0","method":"add","params":[1,1],"id":1}', {
    "content-type": "application/json",
    "accept-encoding": "gzip",
  });
  assert.notEqual(small.headers.get("content-encoding"), "gzip");
  await small.body?.cancel();
});

function dechunk(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const parts: number[] = [];
  let at = 0;
  while (at < bytes.length) {
    let end = at;
    while (bytes[end] !== 13) end++;
    const size = parseInt(new TextDecoder().decode(bytes.subarray(at, end)), 16);
    if (size === 0) break;
    parts.push(...bytes.subarray(end + 2, end + 2 + size));
    at = end + 2 + size + 2;
  }
  return new Uint8Array(parts);
}

Deno.test("connectHttp calls, notifies and batches over HTTP", async () => {
  await using server = start();
  await using client = connectHttp(`${server.url}/rpc`, { codec: jsonRpc() });
  assert.equal(await client.call("add", [1, 2]), 3);
  assert.deepEqual(await client.call("echo", { a: [1, "b"] }), { a: [1, "b"] });
  assert.equal(await client.call("big"), big);
  const calls = await Promise.all([1, 2, 3, 4].map((n) => client.call("add", [n, n])));
  assert.deepEqual(calls, [2, 4, 6, 8]);
  await client.notify("zip");
  const batch = await client.batch([
    { method: "add", params: [1, 1] },
    { method: "zip", notification: true },
    { method: "nope" },
  ]);
  assert.deepEqual(batch[0], { status: "fulfilled", value: 2 });
  assert.equal(batch[2]!.status, "rejected");
  await assert.rejects(client.call("fail"), (e: unknown) => e instanceof RpcError && e.code === 1);
  await assert.rejects(
    client.call("nope"),
    (e: unknown) => e instanceof RpcError && e.code === -32601,
  );
  assert.equal(client.pending, 0);
});

Deno.test("connectHttp with gzip-capable fetch gets large gzipped replies", async () => {
  let encoding: string | null = null;
  await using server = start();
  await using client = connectHttp(`${server.url}/rpc`, {
    codec: jsonRpc(),
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      encoding = response.headers.get("content-encoding");
      return response;
    },
  });
  assert.equal(await client.call("big"), big);
  assert.equal(encoding, "gzip");
});

Deno.test("serveHttp authenticates with Basic or a bearer token before dispatch", async () => {
  const seen: string[] = [];
  const basic = "Basic " + btoa("alice:secret");
  await using server = start({
    authenticate: (request) => {
      const auth = request.headers.get("authorization") ?? "";
      seen.push(auth);
      return auth === basic || auth === "Bearer t0ken";
    },
  });
  const denied = await post(server, '{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}');
  assert.equal(denied.status, 401);
  assert.equal(denied.headers.get("www-authenticate"), 'Basic realm="parley"');
  await denied.body?.cancel();
  for (const authorization of [basic, "Bearer t0ken"]) {
    await using client = connectHttp(`${server.url}/rpc`, {
      codec: jsonRpc(),
      headers: { authorization },
    });
    assert.equal(await client.call("add", [1, 2]), 3);
  }
  assert.deepEqual(seen.slice(1), [basic, "Bearer t0ken"]);
  await using stranger = connectHttp(`${server.url}/rpc`, {
    codec: jsonRpc(),
    headers: { authorization: "Bearer wrong" },
  });
  await assert.rejects(
    stranger.call("add", [1, 2]),
    (e: unknown) => e instanceof HttpError && e.status === 401 && /Unauthorized/.test(e.body),
  );
  assert.equal(stranger.pending, 0);
});

Deno.test("connectHttp fails the calls of a POST answered 500 with HttpError", async () => {
  await using server = serveHttp({
    routes: { "/rpc": { codec, service } },
    authenticate: () => {
      throw new Error("auth backend down");
    },
    onError: () => {},
  });
  await using client = connectHttp(`${server.url}/rpc`, { codec: jsonRpc() });
  const results = await client.batch([{ method: "add", params: [1, 1] }, { method: "echo" }]);
  for (const result of results) {
    assert.equal(result.status, "rejected");
    assert.ok(result.reason instanceof HttpError && result.reason.status === 500);
  }
  await using nowhere = connectHttp(`${server.url}/missing`, { codec: jsonRpc() });
  await assert.rejects(
    nowhere.call("add", [1, 1]),
    (e: unknown) => e instanceof HttpError && e.status === 404,
  );
});

Deno.test("connectHttp times out and aborts calls, and the handler sees the abort", async () => {
  const aborted = Promise.withResolvers<unknown>();
  await using server = serveHttp({
    routes: {
      "/rpc": {
        codec,
        service: {
          wait: withContext((ctx: CallContext, ms: number) =>
            new Promise((resolve) => {
              const timer = setTimeout(resolve, ms, "done");
              ctx.signal.addEventListener("abort", () => {
                clearTimeout(timer);
                aborted.resolve(ctx.signal.reason);
                resolve("aborted");
              });
            })
          ),
        },
      },
    },
  });
  await using client = connectHttp(`${server.url}/rpc`, { codec: jsonRpc() });
  await assert.rejects(client.call("wait", [10_000], { timeout: 50 }), TimeoutError);
  await aborted.promise;
  const controller = new AbortController();
  const call = client.call("wait", [10_000], { signal: controller.signal });
  setTimeout(() => controller.abort(new Error("user gave up")), 20);
  await assert.rejects(call, /user gave up/);
  await using slowDefault = connectHttp(`${server.url}/rpc`, { codec: jsonRpc(), timeout: 30 });
  await assert.rejects(slowDefault.call("wait", [10_000]), TimeoutError);
  assert.equal(await client.call("wait", [1]), "done");
});

Deno.test("serveHttp shutdown finishes a call in flight", async () => {
  const started = Promise.withResolvers<void>();
  const server = serveHttp({
    routes: {
      "/rpc": {
        codec,
        service: {
          slow: () => {
            started.resolve();
            return new Promise((resolve) => setTimeout(resolve, 100, "finished"));
          },
        },
      },
    },
  });
  await using client = connectHttp(`${server.url}/rpc`, { codec: jsonRpc() });
  const call = client.call("slow");
  await started.promise;
  await server.shutdown();
  assert.equal(await call, "finished");
  await server.finished;
  await assert.rejects(fetch(`${server.url}/rpc`, { method: "POST" }));
});

Deno.test("serveHttp routes two codecs on one port", async () => {
  await using server = serveHttp({
    routes: {
      "/rpc": { codec: jsonRpc(), service: { who: () => "rpc" } },
      "/other": { codec: jsonRpc({ version: "1.0" }), service: { who: () => "other" } },
    },
  });
  await using a = connectHttp(`${server.url}/rpc`, { codec: jsonRpc() });
  await using b = connectHttp(`${server.url}/other`, { codec: jsonRpc({ version: "1.0" }) });
  assert.deepEqual(await Promise.all([a.call("who"), b.call("who")]), ["rpc", "other"]);
});

Deno.test(
  "a Python urllib client calls the HTTP server",
  { ignore: needs("python3") },
  async () => {
    await using server = start();
    const script = `
import json, sys, urllib.request
body = json.dumps({"jsonrpc": "2.0", "method": "add", "params": [20, 22], "id": 7}).encode()
req = urllib.request.Request(sys.argv[1], data=body, headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req) as response:
    print(response.status, json.dumps(json.loads(response.read())))
`;
    const output = await new Deno.Command("python3", {
      args: ["-c", script, `${server.url}/rpc`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    const [status, json] = new TextDecoder().decode(output.stdout).trim().split(" ", 2);
    assert.equal(status, "200");
    assert.deepEqual(JSON.parse(new TextDecoder().decode(output.stdout).slice(4)), {
      jsonrpc: "2.0",
      result: 42,
      id: 7,
    });
    assert.ok(json !== undefined);
  },
);

Deno.test("connectHttp fails a call that a 200 reply does not answer, and network errors", async () => {
  await using client = connectHttp("http://127.0.0.1:9/rpc", {
    codec: jsonRpc(),
    fetch: () =>
      Promise.resolve(
        new Response('{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}'),
      ),
  });
  await assert.rejects(client.call("add", [1, 2]), ProtocolError);
  const unused = serveHttp({ routes: {} });
  const closed = `${unused.url}/rpc`;
  await unused.shutdown();
  await using offline = connectHttp(closed, { codec: jsonRpc() });
  // As over TCP and WebSocket: a ConnectionClosedError naming the URL, fetch's error its cause.
  await assert.rejects(
    offline.call("add", [1, 2]),
    (e: unknown) =>
      e instanceof ConnectionClosedError && e.message.startsWith(`No reply to POST ${closed}: `) &&
      /refused/i.test(e.message) && e.cause instanceof TypeError,
  );
  assert.equal(offline.pending, 0);
});

Deno.test(
  "connectHttp() with XML-RPC calls Python's SimpleXMLRPCServer: types, faults, many calls at once",
  { ignore: needs("python3") },
  async () => {
    const script = `import sys, xmlrpc.server
server = xmlrpc.server.SimpleXMLRPCServer(("127.0.0.1", 0), allow_none=True, logRequests=False)
server.register_introspection_functions()
server.register_multicall_functions()
server.register_function(lambda a, b: a + b, "add")
server.register_function(lambda value: value, "echo")
def fail():
    raise xmlrpc.client.Fault(42, "deliberate")
server.register_function(fail, "fail")
print("listening http://127.0.0.1:%d/RPC2" % server.server_address[1], flush=True)
server.serve_forever()`;
    await using python = await spawnListening("python3", { args: ["-c", script] });
    const client = connectHttp(python.url, { codec: xmlRpc(), timeout: 10_000 });
    try {
      assert.equal(await client.call("add", [40, 2]), 42);
      const value = {
        text: "héllo ✓ <&>",
        bytes: new Uint8Array([0, 255]),
        when: new Date(Date.UTC(2026, 10, 26, 12, 0, 0)),
        list: [1, 2.5, true, null],
        big: "x".repeat(1024 * 1024),
      };
      assert.deepEqual(await client.call("echo", [value]), value);
      await assert.rejects(
        client.call("fail"),
        (e: unknown) => e instanceof RpcError && e.code === 42,
      );
      // Replies are matched to calls by order, so concurrent calls go one at a time.
      const sums = await Promise.all(
        Array.from({ length: 20 }, (_, i) => client.call("add", [i, 1])),
      );
      assert.deepEqual(sums, Array.from({ length: 20 }, (_, i) => i + 1));
      const methods = await client.call<string[]>("system.listMethods");
      assert.ok(methods.includes("add") && methods.includes("system.multicall"));
    } finally {
      await client.close();
    }
  },
);

Deno.test(
  "serveHttp() serves XML-RPC to Python's xmlrpc.client",
  { ignore: needs("python3") },
  async () => {
    await using server = serveHttp({
      routes: { "/RPC2": { codec: xmlRpc(), service: { add: (a: number, b: number) => a + b } } },
    });
    const script = `import sys, xmlrpc.client
proxy = xmlrpc.client.ServerProxy(sys.argv[1])
print(proxy.add(40, 2))
try:
    proxy.nope()
except xmlrpc.client.Fault as fault:
    print(fault.faultCode)`;
    const output = await new Deno.Command("python3", { args: ["-c", script, `${server.url}/RPC2`] })
      .output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    assert.deepEqual(new TextDecoder().decode(output.stdout).trim().split("\n"), ["42", "-32601"]);
  },
);

Deno.test("hostile XML over HTTP answers a fault, and the server keeps serving", async () => {
  await using server = serveHttp({
    routes: { "/RPC2": { codec: xmlRpc(), service: { add: (a: number, b: number) => a + b } } },
  });
  const post = async (body: string) => {
    const response = await fetch(`${server.url}/RPC2`, {
      method: "POST",
      headers: { "content-type": "text/xml" },
      body,
    });
    return { status: response.status, text: await response.text() };
  };
  const faultCode = (text: string) =>
    Number(/<name>faultCode<\/name>\s*<value>\s*<int>(-?\d+)<\/int>/.exec(text)?.[1]);
  const laughs =
    `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><methodCall><methodName>&lol3;</methodName></methodCall>`;
  const external =
    `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><methodCall><methodName>&xxe;</methodName></methodCall>`;
  const deep = `<?xml version="1.0"?><methodCall><methodName>add</methodName><params><param>${
    "<value><array><data>".repeat(10_000)
  }${"</data></array></value>".repeat(10_000)}</param></params></methodCall>`;
  const hostile = [
    laughs,
    external,
    deep,
    "<methodCall><methodName>add</methodName><params>",
    "<methodCall><methodName>add</methodName><params><param><value><int>x</int></value></param></params></methodCall>",
  ];
  for (const body of hostile) {
    const { status, text } = await post(body);
    assert.equal(status, 200, body.slice(0, 60));
    assert.ok(faultCode(text) === -32700 || faultCode(text) === -32600, text.slice(0, 200));
    assert.ok(!text.includes("root:"), "nothing external was read");
  }
  const wrongType = await post(
    "<methodCall><methodName>add</methodName><params><param><value><string>1</string></value></param></params></methodCall>",
  );
  assert.equal(wrongType.status, 200);
  const ok = await post(
    "<methodCall><methodName>add</methodName><params><param><value><int>40</int></value></param><param><value><int>2</int></value></param></params></methodCall>",
  );
  assert.match(ok.text, /<int>42<\/int>/);
});

Deno.test("serveHttp answers paths that are not routes with its fallback", async () => {
  await using server = serveHttp({
    routes: { "/rpc": { codec, service } },
    fallback: (request) =>
      new URL(request.url).pathname === "/"
        ? new Response("<h1>page</h1>", { headers: { "content-type": "text/html" } })
        : new Response("gone", { status: 410 }),
  });
  const page = await fetch(`${server.url}/`);
  assert.equal(await page.text(), "<h1>page</h1>");
  const other = await fetch(`${server.url}/other`);
  assert.equal(other.status, 410);
  await other.body?.cancel();
  const call = await post(server, '{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}');
  assert.deepEqual(await call.json(), { jsonrpc: "2.0", result: 3, id: 1 });
});
