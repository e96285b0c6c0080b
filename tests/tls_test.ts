import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { msgpackRpc } from "../codecs/msgpack_rpc.ts";
import { xmlRpc } from "../codecs/xml_rpc.ts";
import { ConnectionClosedError, type Peer, RpcError } from "../mod.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { selfDelimiting } from "../rpc/framing/self_delimiting.ts";
import { connectHttp, connectWebSocket, serveHttp } from "../rpc/transports/http.ts";
import { connectTcp, perConnection, serveTcp } from "../rpc/transports/tcp.ts";
import { CertificateError, tlsClient } from "../rpc/transports/tls.ts";
import { formatOutput, REPO_ROOT, run, spawnListening } from "./interop/_process.ts";
import { makeCertificates } from "./_certificates.ts";
import { needs } from "./_needs.ts";

const service = {
  add: (a: number, b: number) => a + b,
  echo: (value: unknown) => value,
};

const CALCULATOR = [
  "run",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "examples/calculator.ts",
];

function certificateRefused(
  reason: CertificateError["reason"],
  message: RegExp,
): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof CertificateError, `expected a CertificateError, got ${error}`);
    assert.equal(error.reason, reason);
    assert.match(error.message, message);
    return true;
  };
}

Deno.test("TLS: JSON-RPC and msgpack-rpc over TLS, the CA trusted, by IP and by DNS name", async () => {
  await using certs = await makeCertificates();
  await using json = serveTcp(
    { transport: "tls", port: 0, cert: certs.cert, key: certs.key },
    {
      codec: jsonRpc(),
      framing: newline(),
      service: perConnection((conn) => ({
        ...service,
        hello: async () => `hello ${await conn.peer().call("name")}`,
      })),
    },
  );
  assert.match(json.url, /^tls:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(json.address.transport, "tls");
  await using client = await connectTcp({ ...json.address, caCerts: [certs.ca] }, {
    codec: jsonRpc(),
    framing: newline(),
    service: { name: () => "Ada" },
  });
  assert.equal(await client.call("add", [1, 2]), 3);
  assert.deepEqual(await client.call("echo", [{ text: "h\u00e9llo", n: [1, 2] }]), {
    text: "h\u00e9llo",
    n: [1, 2],
  });
  assert.equal(await client.call("hello"), "hello Ada", "the server calls back over TLS");
  const many = await Promise.all(Array.from({ length: 50 }, (_, i) => client.call("add", [i, i])));
  assert.deepEqual(many, Array.from({ length: 50 }, (_, i) => 2 * i));
  await using byName = await connectTcp(
    {
      transport: "tls",
      hostname: "localhost",
      port: (json.addr as Deno.NetAddr).port,
      caCerts: [certs.ca],
    },
    { codec: jsonRpc(), framing: newline() },
  );
  assert.equal(await byName.call("add", [2, 3]), 5);

  const codec = msgpackRpc();
  const framing = () => selfDelimiting(codec.measure!.bind(codec));
  await using msgpack = serveTcp(
    { transport: "tls", hostname: "127.0.0.1", port: 0, cert: certs.cert, key: certs.key },
    { codec: msgpackRpc(), framing: framing(), service },
  );
  await using binary = await connectTcp({ ...msgpack.address, caCerts: [certs.ca] }, {
    codec: msgpackRpc(),
    framing: framing(),
  });
  const bytes = new Uint8Array([0, 1, 254, 255]);
  assert.deepEqual(await binary.call("echo", [{ bytes, big: 2n ** 60n }]), {
    bytes,
    big: 2n ** 60n,
  });
  await assert.rejects(binary.call("nope"), (e: unknown) => e instanceof RpcError);
});

Deno.test("TLS: a client without the CA is refused with a CertificateError saying to pass caCerts", async () => {
  await using certs = await makeCertificates();
  const refused: unknown[] = [];
  await using server = serveTcp(
    { transport: "tls", port: 0, cert: certs.cert, key: certs.key },
    { codec: jsonRpc(), framing: newline(), service, onError: (e) => refused.push(e) },
  );
  await assert.rejects(
    connectTcp(server.address, { codec: jsonRpc(), framing: newline() }),
    certificateRefused("untrusted", /127\.0\.0\.1:\d+ is not trusted .*pass the CA .*in caCerts/),
  );
  // A CA that did not sign it does not help either.
  await using strangers = await makeCertificates();
  await assert.rejects(
    connectTcp({ ...server.address, caCerts: [strangers.ca] }, {
      codec: jsonRpc(),
      framing: newline(),
    }),
    certificateRefused("untrusted", /not trusted/),
  );
  // The server still serves those who trust it.
  await using client = await connectTcp({ ...server.address, caCerts: [certs.ca] }, {
    codec: jsonRpc(),
    framing: newline(),
  });
  assert.equal(await client.call("add", [1, 1]), 2);
  assert.equal(server.peers.size, 1, "failed handshakes never became peers");
  for (const error of refused) assert.match(String(error), /TLS handshake with .* failed/);
});

Deno.test("TLS: a certificate for another name fails hostname verification with a clear error", async () => {
  await using certs = await makeCertificates();
  await using server = serveTcp(
    { transport: "tls", port: 0, cert: certs.otherCert, key: certs.otherKey },
    { codec: jsonRpc(), framing: newline(), service, onError: () => {} },
  );
  const port = (server.addr as Deno.NetAddr).port;
  for (const hostname of ["127.0.0.1", "localhost"]) {
    await assert.rejects(
      connectTcp({ transport: "tls", hostname, port, caCerts: [certs.ca] }, {
        codec: jsonRpc(),
        framing: newline(),
      }),
      certificateRefused(
        "name",
        new RegExp(
          `of ${hostname}:${port} is not valid for the name "${hostname}" .*example\\.test.*` +
            `connect with a name the certificate lists`,
        ),
      ),
    );
  }
});

Deno.test("HTTPS: serveHttp with cert and key, connectHttp with tlsClient's fetch", async () => {
  await using certs = await makeCertificates();
  await using server = serveHttp({
    cert: certs.cert,
    key: certs.key,
    routes: {
      "/rpc": { codec: jsonRpc(), service },
      "/RPC2": { codec: xmlRpc(), service },
    },
  });
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  using tls = tlsClient({ caCerts: [certs.ca] });
  await using client = connectHttp(`${server.url}/rpc`, { codec: jsonRpc(), fetch: tls.fetch });
  assert.equal(await client.call("add", [20, 22]), 42);
  assert.deepEqual(await client.batch([{ method: "add", params: [1, 2] }]), [
    { status: "fulfilled", value: 3 },
  ]);
  await using xml = connectHttp(`${server.url}/RPC2`, { codec: xmlRpc(), fetch: tls.fetch });
  assert.deepEqual(
    await Promise.all([xml.call("add", [1, 2]), xml.call("echo", ["x"])]),
    [3, "x"],
  );
  // Without the CA: a clear error, not "fetch failed".
  using untrusting = tlsClient();
  await using refused = connectHttp(`${server.url}/rpc`, {
    codec: jsonRpc(),
    fetch: untrusting.fetch,
  });
  await assert.rejects(
    refused.call("add", [1, 2]),
    certificateRefused("untrusted", /127\.0\.0\.1:\d+ is not trusted .*caCerts/),
  );
});

Deno.test("WSS: serveHttp's WebSocket routes over TLS, connectWebSocket with tlsClient's WebSocket", async () => {
  await using certs = await makeCertificates();
  let serverSide: Peer | undefined;
  await using server = serveHttp({
    cert: certs.cert,
    key: certs.key,
    routes: {
      "/rpc": {
        codec: jsonRpc(),
        service,
        websocket: { onConnection: (peer) => void (serverSide = peer) },
      },
      "/msgpack": { codec: msgpackRpc(), service, websocket: true },
    },
  });
  const wss = `${server.url.replace(/^https/, "wss")}`;
  assert.match(wss, /^wss:\/\//);
  using tls = tlsClient({ caCerts: [certs.ca] });
  await using client = await connectWebSocket(`${wss}/rpc`, {
    codec: jsonRpc(),
    WebSocket: tls.WebSocket,
    service: { name: () => "page" },
  });
  assert.equal(await client.call("add", [1, 2]), 3);
  assert.equal(await serverSide!.call("name"), "page", "the server calls back over wss");
  await using binary = await connectWebSocket(`${wss}/msgpack`, {
    codec: msgpackRpc(),
    WebSocket: tls.WebSocket,
  });
  assert.deepEqual(
    await binary.call("echo", [new Uint8Array([1, 2, 3])]),
    new Uint8Array([1, 2, 3]),
  );
  // Without the CA: the socket never opens, and the error says why.
  using untrusting = tlsClient();
  await assert.rejects(
    connectWebSocket(`${wss}/rpc`, { codec: jsonRpc(), WebSocket: untrusting.WebSocket }),
    (error: unknown) => {
      assert.ok(error instanceof ConnectionClosedError, String(error));
      assert.match(error.message, /closed before it opened.*not trusted .*caCerts/);
      assert.ok(error.cause instanceof CertificateError);
      return true;
    },
  );
});

Deno.test("the calculator over --transport tls, https and wss, called by parley", async () => {
  await using certs = await makeCertificates();
  const tlsArgs = ["--cert", `${certs.dir}/server.pem`, "--key", `${certs.dir}/server-key.pem`];
  {
    await using server = await spawnListening(Deno.execPath(), {
      args: [...CALCULATOR, "--transport", "tls", ...tlsArgs],
      timeout: 60_000,
    });
    assert.match(server.url, /^tls:\/\/127\.0\.0\.1:\d+$/);
    await using client = await connectTcp(
      { transport: "tls", hostname: server.hostname, port: server.port, caCerts: [certs.ca] },
      { codec: jsonRpc(), framing: newline() },
    );
    assert.equal(await client.call("add", { num1: 1, num2: 2 }), 3);
    await assert.rejects(
      client.call("calculate", [1, { num1: 1, num2: 0, op: 4 }]),
      (e: unknown) => e instanceof RpcError && e.code === 1,
    );
    await client.close();
    const result = await server.stop("SIGTERM");
    assert.equal(result.code, 0, formatOutput(result));
  }
  using tls = tlsClient({ caCerts: [certs.ca] });
  {
    await using server = await spawnListening(Deno.execPath(), {
      args: [...CALCULATOR, "--transport", "https", ...tlsArgs],
      timeout: 60_000,
    });
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+\/rpc$/);
    await using client = connectHttp(server.url, { codec: jsonRpc(), fetch: tls.fetch });
    assert.equal(await client.call("add", [40, 2]), 42);
    await client.close();
    const result = await server.stop("SIGTERM");
    assert.equal(result.code, 0, formatOutput(result));
  }
  {
    await using server = await spawnListening(Deno.execPath(), {
      args: [...CALCULATOR, "--codec", "msgpack", "--transport", "wss", ...tlsArgs],
      timeout: 60_000,
    });
    assert.match(server.url, /^wss:\/\/127\.0\.0\.1:\d+\/rpc$/);
    await using client = await connectWebSocket(server.url, {
      codec: msgpackRpc(),
      WebSocket: tls.WebSocket,
    });
    assert.equal(await client.call("add", [2, 3]), 5);
    await client.close();
    const result = await server.stop("SIGTERM");
    assert.equal(result.code, 0, formatOutput(result));
  }
});

Deno.test("DENO_CERT makes the standard WebSocket and fetch trust the CA, with no tlsClient", async () => {
  await using certs = await makeCertificates();
  await using server = await spawnListening(Deno.execPath(), {
    args: [
      ...CALCULATOR,
      "--transport",
      "wss",
      "--cert",
      `${certs.dir}/server.pem`,
      "--key",
      `${certs.dir}/server-key.pem`,
    ],
    timeout: 60_000,
  });
  const script = `import { connectWebSocket } from "${REPO_ROOT}rpc/transports/websocket.ts";
import { connectHttp } from "${REPO_ROOT}rpc/transports/http/client.ts";
import { jsonRpc } from "${REPO_ROOT}codecs/json_rpc.ts";
const ws = await connectWebSocket(Deno.args[0], { codec: jsonRpc() });
const http = connectHttp(Deno.args[0].replace(/^wss/, "https"), { codec: jsonRpc() });
console.log(await ws.call("add", [1, 2]), await http.call("add", [3, 4]));
await ws.close();
await http.close();`;
  const result = await run(Deno.execPath(), {
    args: ["eval", "--no-config", script, server.url],
    env: { DENO_CERT: `${certs.dir}/ca.pem` },
    timeout: 60_000,
  });
  assert.equal(result.code, 0, formatOutput(result));
  assert.equal(result.stdout.trim(), "3 7");
});

Deno.test("the calculator refuses --transport tls without --cert and --key", async () => {
  const result = await run(Deno.execPath(), {
    args: [...CALCULATOR, "--transport", "https"],
    timeout: 60_000,
  });
  assert.equal(result.code, 2, formatOutput(result));
  assert.match(result.stderr, /needs --cert and --key/);
});

Deno.test("Python's ssl and xmlrpc.client call the https calculator, trusting the CA file", {
  ignore: needs("python3"),
}, async () => {
  await using certs = await makeCertificates();
  await using server = await spawnListening(Deno.execPath(), {
    args: [
      ...CALCULATOR,
      "--codec",
      "xmlrpc",
      "--transport",
      "https",
      "--cert",
      `${certs.dir}/server.pem`,
      "--key",
      `${certs.dir}/server-key.pem`,
    ],
    timeout: 60_000,
  });
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+\/RPC2$/);
  const script = `import ssl, sys, xmlrpc.client
url, cafile = sys.argv[1], sys.argv[2]
context = ssl.create_default_context(cafile=cafile)
assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
calc = xmlrpc.client.ServerProxy(url, allow_none=True, context=context)
assert calc.add(1, 2) == 3
assert calc.echo("h\\u00e9llo") == "h\\u00e9llo"
try:
    calc.calculate(1, {"num1": 1, "num2": 0, "op": 4})
    raise SystemExit("no fault")
except xmlrpc.client.Fault as fault:
    assert fault.faultCode == 1 and "Cannot divide by 0" in fault.faultString, fault
# Without the CA, Python refuses the certificate too.
try:
    xmlrpc.client.ServerProxy(url, context=ssl.create_default_context()).add(1, 2)
    raise SystemExit("an untrusted certificate was accepted")
except ssl.SSLCertVerificationError:
    pass
print("ok")`;
  const result = await run("python3", {
    args: ["-c", script, server.url, `${certs.dir}/ca.pem`],
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    timeout: 60_000,
  });
  assert.equal(result.code, 0, `${formatOutput(result)}\n--- server ---\n${server.stderr()}`);
  assert.equal(result.stdout.trim(), "ok");
  const stopped = await server.stop("SIGTERM");
  assert.equal(stopped.code, 0, formatOutput(stopped));
});
