// Mutual TLS against Python's ssl module, a real and independent TLS
// stack: a Python client with and without a certificate against
// serveMutualTls, and connectTcp presenting a certificate to a Python
// server that requires one.

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { connectionOf } from "../rpc/connection.ts";
import { withContext } from "../rpc/service.ts";
import { connectTcp } from "../rpc/transports/tcp.ts";
import { ClientCertificateError, serveMutualTls } from "../rpc/transports/mtls.ts";
import { makeMutualTlsCertificates } from "../testing/mtls_certificates.ts";
import { DEBIAN_PYTHON, formatOutput, run, spawnListening } from "./interop/_process.ts";
import { needs } from "./_needs.ts";

const PEER = new URL("./peers/mtls_peer.py", import.meta.url).pathname;
const options = { codec: jsonRpc(), framing: newline() };

Deno.test("serveMutualTls serves a Python ssl client with a certificate and refuses one without", {
  ignore: needs("python3"),
}, async () => {
  await using certs = await makeMutualTlsCertificates();
  const errors: unknown[] = [];
  await using server = await serveMutualTls(
    { transport: "tls", port: 0, ...certs.server, clientCa: [certs.ca] },
    {
      ...options,
      onError: (error) => errors.push(error),
      service: { whoami: withContext((ctx) => connectionOf(ctx)?.peerCertificate?.commonName) },
    },
  );
  const port = String(server.address.port);
  const accepted = await run(DEBIAN_PYTHON, { args: [PEER, "client", certs.dir, port, "client"] });
  assert.equal(accepted.code, 0, formatOutput(accepted));
  assert.deepEqual(JSON.parse(accepted.stdout), { jsonrpc: "2.0", id: 1, result: "alice" });
  const refused = await run(DEBIAN_PYTHON, { args: [PEER, "client", certs.dir, port, "none"] });
  assert.equal(refused.code, 0, formatOutput(refused));
  assert.match(refused.stdout, /^REFUSED /);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof ClientCertificateError);
  assert.equal(errors[0].reason, "missing");
});

Deno.test("connectTcp presents its certificate to a Python ssl server that requires one", {
  ignore: needs("python3"),
}, async () => {
  await using certs = await makeMutualTlsCertificates();
  await using python = await spawnListening(DEBIAN_PYTHON, {
    args: [PEER, "server", certs.dir],
    timeout: 30_000,
  });
  const address = { transport: "tls", port: python.port, caCerts: [certs.ca] } as const;
  await using client = await connectTcp({ ...address, ...certs.client }, options);
  assert.equal(await client.call("whoami", [], { timeout: 10_000 }), "alice");
  await client.close();
  // Without a certificate the Python server ends the handshake: the call fails.
  const failed = await connectTcp(address, options).then(
    async (peer) => {
      try {
        return await peer.call("whoami", [], { timeout: 10_000 }).then(() => false, () => true);
      } finally {
        await peer.close();
      }
    },
    () => true,
  );
  assert.ok(failed, "a client without a certificate must not be served");
  // The client may see the alert before Python has printed why: wait for its line (bounded).
  for (let i = 0; i < 200 && !/refused/.test(python.stdout()); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const output = await python.stop();
  assert.match(
    output.stdout,
    /refused (PEER_DID_NOT_RETURN_A_CERTIFICATE|[A-Z_]*CERTIFICATE[A-Z_]*)/,
    formatOutput(output),
  );
});
