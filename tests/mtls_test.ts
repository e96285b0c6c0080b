// Mutual TLS over real sockets: accepted clients and their identity, and
// each reason a client is refused.

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { connectionOf, type PeerCertificate, typedContext } from "../rpc/connection.ts";
import { withContext } from "../rpc/service.ts";
import { connectTcp } from "../rpc/transports/tcp.ts";
import {
  ClientCertificateError,
  type ClientCertificateFailure,
  serveMutualTls,
} from "../rpc/transports/mtls.ts";
import { listenTls } from "../rpc/transports/tls.ts";
import { makeMutualTlsCertificates } from "../testing/mtls_certificates.ts";

const options = { codec: jsonRpc(), framing: newline() };

Deno.test("serveMutualTls: a client with a certificate from the client CA is served, its identity in the context", async () => {
  await using certs = await makeMutualTlsCertificates();
  const app = typedContext<{ spiffe: string | undefined }>();
  let built = 0;
  await using server = await serveMutualTls(
    { transport: "tls", port: 0, ...certs.server, clientCa: [certs.ca] },
    {
      ...options,
      context: app.build((connection) => {
        built++;
        const sans = connection.peerCertificate?.subjectAltNames ?? [];
        return { spiffe: sans.find((san) => san.startsWith("URI:spiffe://"))?.slice(4) };
      }),
      service: {
        spiffe: app.handler((context) => context.spiffe),
        certificate: withContext((ctx) => {
          const connection = connectionOf(ctx)!;
          return { transport: connection.transport, ...connection.peerCertificate! };
        }),
      },
    },
  );
  await using client = await connectTcp(
    { ...server.address, caCerts: [certs.ca], ...certs.client },
    options,
  );
  assert.equal(await client.call("spiffe", []), "spiffe://parley.test/alice");
  const seen = await client.call("certificate", []) as PeerCertificate & { transport: string };
  assert.equal(seen.transport, "tls");
  assert.equal(seen.commonName, "alice");
  assert.equal(seen.subject, "CN=alice");
  assert.equal(seen.issuer, "CN=parley ca");
  assert.deepEqual(seen.subjectAltNames, [
    "URI:spiffe://parley.test/alice",
    "email:alice@parley.test",
  ]);
  assert.match(seen.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.equal(built, 1);
});

for (
  const [reason, pick] of [
    ["missing", () => ({})],
    ["untrusted", (c) => c.otherCaClient],
    ["expired", (c) => c.expiredClient],
  ] as [
    ClientCertificateFailure,
    (c: Awaited<ReturnType<typeof makeMutualTlsCertificates>>) => object,
  ][]
) {
  Deno.test(`serveMutualTls refuses a client whose certificate is ${reason}, and says so`, async () => {
    await using certs = await makeMutualTlsCertificates();
    const errors: unknown[] = [];
    let served = 0;
    await using server = await serveMutualTls(
      { transport: "tls", port: 0, ...certs.server, clientCa: [certs.ca] },
      { ...options, onError: (e) => errors.push(e), service: { hi: () => ++served } },
    );
    // The handshake may complete (the server decides after it); no call is served.
    let connected;
    try {
      connected = await connectTcp(
        { ...server.address, caCerts: [certs.ca], ...pick(certs) },
        options,
      );
    } catch {
      connected = undefined;
    }
    if (connected !== undefined) {
      await assert.rejects(connected.call("hi", [], { timeout: 5_000 }), {
        name: "ConnectionClosedError",
      });
      await connected.close();
    }
    assert.equal(served, 0);
    assert.equal(errors.length, 1);
    const error = errors[0] as ClientCertificateError;
    assert.ok(error instanceof ClientCertificateError);
    assert.equal(error.reason, reason);
    assert.match(error.message, /^The TLS client tls:\/\/127\.0\.0\.1:\d+ sent/);
  });
}

Deno.test("serveMutualTls needs clientCa", async () => {
  await using certs = await makeMutualTlsCertificates();
  await assert.rejects(
    serveMutualTls({ transport: "tls", port: 0, ...certs.server, clientCa: [] }, {
      ...options,
      service: {},
    }),
    TypeError,
  );
});

// Why serveMutualTls runs on node:tls: Deno.listenTls ignores client-CA
// options and never asks for a certificate. When this fails, Deno has
// learnt mutual TLS and serveTcp can do it itself.
Deno.test("Deno.listenTls does not ask clients for a certificate (the gap serveMutualTls fills)", async () => {
  await using certs = await makeMutualTlsCertificates();
  const listener = listenTls({ transport: "tls", port: 0, ...certs.server });
  const accepted = listener.accept();
  const client = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: listener.addr.port,
    caCerts: [certs.ca],
  });
  const server = await accepted;
  const [info] = await Promise.all([server.handshake(), client.handshake()]);
  // A client without a certificate completes the handshake; the server
  // learns nothing of a client certificate (only alpnProtocol).
  assert.deepEqual(Object.keys(info), ["alpnProtocol"]);
  client.close();
  server.close();
  listener.close();
});

Deno.test("serveMutualTls: a context that refuses a verified client tells it why", async () => {
  await using certs = await makeMutualTlsCertificates();
  const errors: unknown[] = [];
  await using server = await serveMutualTls(
    { transport: "tls", port: 0, ...certs.server, clientCa: [certs.ca] },
    {
      ...options,
      onError: (e) => errors.push(e),
      context: (connection) => {
        throw new Error(`${connection.peerCertificate?.commonName} is suspended`);
      },
      service: { hi: () => "hi" },
    },
  );
  await using client = await connectTcp(
    { ...server.address, caCerts: [certs.ca], ...certs.client },
    options,
  );
  const error = await client.call("hi", [], { timeout: 5_000 }).then(() => undefined, (e) => e);
  assert.equal(error?.name, "ConnectionClosedError");
  assert.equal(error.cause?.message, "Connection refused: alice is suspended");
  assert.equal(errors.length, 1);
});

Deno.test("serveMutualTls: a verified client that sends no complete frame is closed after firstFrameTimeout", async () => {
  await using certs = await makeMutualTlsCertificates();
  const errors: unknown[] = [];
  await using server = await serveMutualTls(
    { transport: "tls", port: 0, ...certs.server, clientCa: [certs.ca] },
    {
      ...options,
      onError: (e) => errors.push(e),
      firstFrameTimeout: 300,
      service: { hi: () => "hi" },
    },
  );
  const slow = await Deno.connectTls({
    hostname: "localhost",
    port: server.address.port,
    caCerts: [certs.ca],
    ...certs.client,
  });
  await slow.handshake();
  await slow.write(new TextEncoder().encode('{"jsonrpc"'));
  // A client whose first frame came in time is kept.
  await using client = await connectTcp(
    { ...server.address, caCerts: [certs.ca], ...certs.client },
    options,
  );
  assert.equal(await client.call("hi", []), "hi");
  const end = await slow.read(new Uint8Array(64)).catch(() => null);
  assert.equal(end, null);
  slow.close();
  assert.ok(
    errors.some((e) => e instanceof Error && /no complete frame within 300 ms/.test(e.message)),
    String(errors),
  );
  assert.equal(await client.call("hi", []), "hi");
});
