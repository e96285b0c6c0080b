// serveHttp over mutual TLS (clientCa): HTTPS POST and WSS clients with a
// certificate from the client CA are served and their identity read by
// handlers and the route's context; clients without a certificate, with
// another CA's or an expired one are refused with their reason, while an
// accepted client goes on being served. Clients: connectHttp on a Deno
// HttpClient with a certificate, Python's websockets and http.client.

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { connectionOf, typedContext } from "../rpc/connection.ts";
import { withContext } from "../rpc/service.ts";
import { connectHttp, serveHttp } from "../rpc/transports/http.ts";
import { ClientCertificateError, type ClientCertificateFailure } from "../rpc/transports/mtls.ts";
import {
  type CertifiedKey,
  makeMutualTlsCertificates,
  type MutualTlsCertificates,
} from "../testing/mtls_certificates.ts";
import { DEBIAN_PYTHON, formatOutput, run } from "./interop/_process.ts";
import { testNeeding } from "./_needs.ts";

const app = typedContext<{ spiffe: string }>();

async function startServer(certs: MutualTlsCertificates) {
  const errors: unknown[] = [];
  const server = await serveHttp({
    ...certs.server,
    clientCa: [certs.ca],
    routes: {
      "/rpc": {
        codec: jsonRpc(),
        service: {
          whoami: withContext((ctx) => {
            const connection = connectionOf(ctx);
            return `${connection?.transport} ${connection?.peerCertificate?.commonName}`;
          }),
          spiffe: app.handler((context) => context.spiffe),
          add: (a: number, b: number) => a + b,
        },
        context: app.build((connection) => ({
          spiffe: connection.peerCertificate?.subjectAltNames.find((san) =>
            san.startsWith("URI:")
          )?.slice(4) ?? "",
        })),
        websocket: true,
      },
    },
    onError: (error) => errors.push(error),
  });
  return { server, errors };
}

function clientOf(certs: MutualTlsCertificates, identity?: CertifiedKey) {
  const client = Deno.createHttpClient({
    caCerts: [certs.ca],
    ...(identity === undefined ? {} : { cert: identity.cert, key: identity.key }),
  });
  return client;
}

Deno.test("serveHttp clientCa: a POST client with a certificate is served, its identity read", async () => {
  await using certs = await makeMutualTlsCertificates();
  const { server, errors } = await startServer(certs);
  const httpClient = clientOf(certs, certs.client);
  const rpc = connectHttp(`${server.url}/rpc`, {
    codec: jsonRpc(),
    fetch: (input, init) => fetch(input, { ...init, client: httpClient }),
  });
  try {
    assert.equal(await rpc.call("whoami", []), "https alice");
    assert.match(String(await rpc.call("spiffe", [])), /^spiffe:\/\//);
    assert.equal(await rpc.call("add", [2, 3]), 5);
    assert.deepEqual(errors, []);
  } finally {
    await rpc.close();
    httpClient.close();
    await server.shutdown();
  }
});

for (
  const [name, reason] of [
    ["none", "missing"],
    ["otherCaClient", "untrusted"],
    ["expiredClient", "expired"],
  ] as const
) {
  Deno.test(`serveHttp clientCa: a client with ${name} is refused (${reason}), another served meanwhile`, async () => {
    await using certs = await makeMutualTlsCertificates();
    const { server, errors } = await startServer(certs);
    const good = clientOf(certs, certs.client);
    const bad = clientOf(certs, name === "none" ? undefined : certs[name]);
    try {
      await assert.rejects(
        fetch(`${server.url}/rpc`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: '{"jsonrpc":"2.0","id":1,"method":"add","params":[1,2]}',
          client: bad,
        }).then((response) => response.text()),
      );
      const response = await fetch(`${server.url}/rpc`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"jsonrpc":"2.0","id":1,"method":"whoami","params":[]}',
        client: good,
      });
      assert.equal((await response.json()).result, "https alice");
      const refused = errors.filter((e) => e instanceof ClientCertificateError);
      assert.equal(refused.length >= 1, true, String(errors));
      assert.equal(
        (refused[0] as ClientCertificateError).reason,
        reason as ClientCertificateFailure,
      );
    } finally {
      good.close();
      bad.close();
      await server.shutdown();
    }
  });
}

const PYTHON_CLIENT = `
import asyncio, json, ssl, sys, http.client
import websockets
url, ca, cert, key = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
host, port = url.split("//")[1].split(":")
conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=10)
conn.request("POST", "/rpc", json.dumps({"jsonrpc": "2.0", "id": 1, "method": "whoami", "params": []}), {"content-type": "application/json"})
print(json.loads(conn.getresponse().read())["result"])
async def ws():
    async with websockets.connect(url.replace("https", "wss") + "/rpc", ssl=ctx, open_timeout=10) as sock:
        await sock.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "whoami", "params": []}))
        print(json.loads(await asyncio.wait_for(sock.recv(), 10))["result"])
        await sock.send(json.dumps({"jsonrpc": "2.0", "id": 3, "method": "spiffe", "params": []}))
        print(json.loads(await asyncio.wait_for(sock.recv(), 10))["result"])
asyncio.run(ws())
`;

const python = testNeeding("py:websockets");

python(
  "serveHttp clientCa: Python http.client (POST) and websockets (WSS) with a client certificate",
  async () => {
    await using certs = await makeMutualTlsCertificates();
    const { server, errors } = await startServer(certs);
    try {
      const output = await run(DEBIAN_PYTHON, {
        args: [
          "-c",
          PYTHON_CLIENT,
          server.url,
          `${certs.dir}/ca.pem`,
          `${certs.dir}/client.pem`,
          `${certs.dir}/client-key.pem`,
        ],
        timeout: 30_000,
      });
      assert.equal(output.code, 0, formatOutput(output));
      const lines = output.stdout.trim().split("\n");
      assert.equal(lines[0], "https alice");
      assert.equal(lines[1], "websocket alice");
      assert.match(lines[2]!, /^spiffe:\/\//);
      assert.deepEqual(errors, []);
    } finally {
      await server.shutdown();
    }
  },
);

// The TCP ports this process listens on, from /proc/net/tcp (Linux): only
// the sockets among this process's own descriptors, as tests of other
// files run beside this one (--parallel) and listen too.
async function listeningPorts(): Promise<Set<number>> {
  // Deno reads /proc's special files only with --allow-all: `cat` and `ls` do it.
  const run = async (command: string, args: string[]) =>
    new TextDecoder().decode((await new Deno.Command(command, { args }).output()).stdout);
  const own = new Set(
    [...(await run("ls", ["-l", `/proc/${Deno.pid}/fd`])).matchAll(/socket:\[(\d+)\]/g)]
      .map((match) => match[1]!),
  );
  const ports = new Set<number>();
  for (const line of (await run("cat", ["/proc/net/tcp"])).split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    // local_address is HEXIP:HEXPORT; state 0A is LISTEN; field 9 the socket's inode.
    if (fields[3] === "0A" && own.has(fields[9]!)) {
      ports.add(parseInt(fields[1]!.split(":")[1]!, 16));
    }
  }
  return ports;
}

Deno.test({
  name: "serveHttp over mutual TLS: its loopback listeners serve no one who skipped the relay",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await using certs = await makeMutualTlsCertificates();
    const before = await listeningPorts();
    const { server } = await startServer(certs);
    try {
      const internal = [...await listeningPorts()].filter((port) =>
        !before.has(port) && port !== Number(new URL(server.url).port)
      );
      assert.ok(internal.length >= 1, "the relay's loopback listeners");
      for (const port of internal) {
        // A local process posting straight to the loopback port, no certificate.
        const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "add", params: [1, 2] });
        const answer = await fetch(`http://127.0.0.1:${port}/rpc`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        })
          .then(async (response) => `${response.status} ${await response.text()}`)
          .catch((error: unknown) => `closed: ${error}`);
        assert.doesNotMatch(answer, /"result"/, `port ${port} served: ${answer}`);
        assert.match(answer, /^(403 |closed: )/, answer);
      }
    } finally {
      await server.shutdown();
    }
  },
});
