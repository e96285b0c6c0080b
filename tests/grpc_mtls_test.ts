// gRPC over mutual TLS on parley's own HTTP/2 (serveGrpc's clientCa): a
// client with a certificate from the client CA is served and its identity
// read by handlers and the context; one without a certificate, with another
// CA's, or with an expired one is refused with its reason, while an accepted
// client goes on being served. Clients: connectGrpc, and Python's grpcio.

import assert from "node:assert/strict";
import { loadProto, protoService } from "../codecs/protobuf.ts";
import { ConnectError } from "../protocols/connect.ts";
import { connectionOf, typedContext } from "../rpc/connection.ts";
import { withContext } from "../rpc/service.ts";
import { connectGrpc, serveGrpc, type ServeGrpcOptions } from "../rpc/transports/grpc.ts";
import { ClientCertificateError, type ClientCertificateFailure } from "../rpc/transports/mtls.ts";
import {
  makeMutualTlsCertificates,
  type MutualTlsCertificates,
} from "../testing/mtls_certificates.ts";
import { calculatorGrpcSchema } from "../examples/calculator/grpc.ts";
import { DEBIAN_PYTHON, formatOutput, run, startCalculator } from "./interop/_process.ts";
import { testNeeding } from "./_needs.ts";

const PYTHON_CLIENT = new URL("./peers/grpc_mtls_client.py", import.meta.url).pathname;
const schema = loadProto(`
  syntax = "proto3";
  package demo;
  message Empty {}
  message Name { string name = 1; }
  message Chunk { bytes data = 1; }
  message Size { int64 bytes = 1; int32 chunks = 2; }
  service Who {
    rpc WhoAmI(Empty) returns (Name);
    rpc Spiffe(Empty) returns (Name);
  }
  service Bulk {
    rpc Upload(stream Chunk) returns (Size);
    rpc Download(Size) returns (stream Chunk);
  }
`);
const WHO = "demo.Who/WhoAmI";
const app = typedContext<{ spiffe: string }>();

/** A server requiring client certificates from `certs.ca`; what `onError` heard; how often `context` ran. */
async function startServer(certs: MutualTlsCertificates, options: Partial<ServeGrpcOptions> = {}) {
  const errors: unknown[] = [];
  const built = { count: 0 };
  const server = await serveGrpc({
    schema,
    ...certs.server,
    clientCa: [certs.ca],
    service: protoService(schema, "demo.Who", {
      WhoAmI: withContext((ctx) => ({
        name: connectionOf(ctx)?.peerCertificate?.commonName ?? "",
      })),
      Spiffe: app.handler((context) => ({ name: context.spiffe })),
    }),
    context: app.build((connection) => {
      built.count++;
      const sans = connection.peerCertificate?.subjectAltNames ?? [];
      return { spiffe: sans.find((san) => san.startsWith("URI:"))?.slice(4) ?? "" };
    }),
    onError: (error) => errors.push(error),
    ...options,
  });
  return { server, errors, built };
}

Deno.test("serveGrpc with clientCa serves connectGrpc presenting a certificate, its identity in every call and the context", async () => {
  await using certs = await makeMutualTlsCertificates();
  const { server, errors, built } = await startServer(certs);
  await using _ = server;
  assert.match(server.url, /^grpcs:\/\/127\.0\.0\.1:\d+$/);
  await using client = connectGrpc(server.url, { schema, caCerts: [certs.ca], ...certs.client });
  assert.deepEqual(await client.call(WHO, {}), { name: "alice" });
  assert.deepEqual(await client.call("demo.Who/Spiffe", {}), {
    name: "spiffe://parley.test/alice",
  });
  let seen;
  await using server2 = await serveGrpc({
    schema,
    ...certs.server,
    clientCa: [certs.ca],
    service: protoService(schema, "demo.Who", {
      WhoAmI: withContext((ctx) => {
        seen = connectionOf(ctx);
        return { name: "" };
      }),
    }),
  });
  await using client2 = connectGrpc(server2.url, { schema, caCerts: [certs.ca], ...certs.client });
  await client2.call(WHO, {});
  const connection = seen as unknown as ReturnType<typeof connectionOf> & object;
  assert.equal(connection.transport, "grpc");
  assert.equal(connection.alpnProtocol, "h2");
  assert.equal(connection.peerCertificate?.subject, "CN=alice");
  assert.equal(connection.peerCertificate?.issuer, "CN=parley ca");
  assert.deepEqual(connection.peerCertificate?.subjectAltNames, [
    "URI:spiffe://parley.test/alice",
    "email:alice@parley.test",
  ]);
  assert.equal(built.count, 1, "the context is built once per connection");
  assert.deepEqual(errors, []);
});

for (
  const [reason, pick] of [
    ["missing", () => ({})],
    ["untrusted", (c) => c.otherCaClient],
    ["expired", (c) => c.expiredClient],
  ] as [ClientCertificateFailure, (c: MutualTlsCertificates) => object][]
) {
  Deno.test(`serveGrpc with clientCa refuses a client whose certificate is ${reason}, says why, and serves others meanwhile`, async () => {
    await using certs = await makeMutualTlsCertificates();
    const { server, errors } = await startServer(certs);
    await using _ = server;
    await using good = connectGrpc(server.url, { schema, caCerts: [certs.ca], ...certs.client });
    assert.deepEqual(await good.call(WHO, {}), { name: "alice" });
    await using bad = connectGrpc(server.url, { schema, caCerts: [certs.ca], ...pick(certs) });
    const [refused, served] = await Promise.allSettled([
      bad.call(WHO, {}, { timeout: 10_000 }),
      good.call(WHO, {}, { timeout: 10_000 }),
    ]);
    assert.equal(refused.status, "rejected");
    assert.notEqual((refused as PromiseRejectedResult).reason?.name, "TimeoutError");
    assert.deepEqual(served, { status: "fulfilled", value: { name: "alice" } });
    const refusals = errors.filter((e) => e instanceof ClientCertificateError);
    assert.ok(refusals.length >= 1, `onError heard ${errors.map(String).join("; ")}`);
    for (const error of refusals) {
      assert.equal(error.reason, reason);
      assert.match(error.message, /^The TLS client tls:\/\/127\.0\.0\.1:\d+ sent/);
    }
    assert.deepEqual(await good.call(WHO, {}), { name: "alice" });
  });
}

Deno.test("serveGrpc: clientCa needs cert and key, and at least one CA", async () => {
  await using certs = await makeMutualTlsCertificates();
  const service = {};
  await assert.rejects(serveGrpc({ schema, service, clientCa: [certs.ca] }), TypeError);
  await assert.rejects(serveGrpc({ schema, service, ...certs.server, clientCa: [] }), TypeError);
  assert.throws(
    () => connectGrpc("grpcs://127.0.0.1:1", { schema, cert: certs.client.cert }),
    TypeError,
  );
});

const python = testNeeding("py:grpc");

python(
  "serveGrpc with clientCa serves Python grpcio with a certificate, refuses it without one or with another CA's",
  async () => {
    await using certs = await makeMutualTlsCertificates();
    const { server, errors } = await startServer(certs);
    await using _ = server;
    await using good = connectGrpc(server.url, { schema, caCerts: [certs.ca], ...certs.client });
    const port = String(server.addr.port);
    const py = (which: string) =>
      run(DEBIAN_PYTHON, { args: [PYTHON_CLIENT, certs.dir, port, which], timeout: 30_000 });
    const accepted = await py("client");
    assert.equal(accepted.code, 0, formatOutput(accepted));
    assert.equal(accepted.stdout.trim(), "OK alice");
    const [refused, meanwhile] = await Promise.all([py("none"), good.call(WHO, {})]);
    assert.deepEqual(meanwhile, { name: "alice" });
    assert.equal(refused.code, 0, formatOutput(refused));
    assert.match(refused.stdout, /^REFUSED UNAVAILABLE /);
    const refusals = errors.filter((e) => e instanceof ClientCertificateError);
    assert.ok(refusals.length >= 1, `onError heard ${errors.map(String).join("; ")}`);
    assert.ok(refusals.every((e) => e.reason === "missing"));
    const other = await py("client-other:client");
    assert.match(other.stdout, /^REFUSED UNAVAILABLE /, formatOutput(other));
    assert.ok(errors.some((e) => e instanceof ClientCertificateError && e.reason === "untrusted"));
  },
);

Deno.test("calculator --transport grpcs --client-ca requires a client certificate", async () => {
  await using certs = await makeMutualTlsCertificates();
  await using server = await startCalculator(
    ...["--transport", "grpcs", "--cert", `${certs.dir}/server.pem`],
    ...["--key", `${certs.dir}/server-key.pem`, "--client-ca", `${certs.dir}/ca.pem`],
  );
  assert.match(server.url, /^grpcs:\/\/127\.0\.0\.1:\d+$/);
  const calculator = calculatorGrpcSchema();
  await using alice = connectGrpc(server.url, {
    schema: calculator,
    caCerts: [certs.ca],
    ...certs.client,
  });
  assert.deepEqual(await alice.call("interop.Calculator/Add", { num1: 1, num2: 2 }), { sum: 3 });
  await using anonymous = connectGrpc(server.url, { schema: calculator, caCerts: [certs.ca] });
  await assert.rejects(
    anonymous.call("interop.Calculator/Add", { num1: 1, num2: 2 }, { timeout: 10_000 }),
    (error: Error) => error.name !== "TimeoutError",
  );
  const stopped = await server.stop("SIGTERM");
  assert.equal(stopped.code, 0, server.stderr());
  assert.match(stopped.stderr, /sent no certificate/);
});

Deno.test("calculator --client-ca is refused with another transport", async () => {
  const result = await run(Deno.execPath(), {
    args: ["run", "-A", "examples/calculator.ts", "--transport", "tcp", "--client-ca", "x.pem"],
    timeout: 30_000,
  });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--client-ca is for --transport grpcs/);
});

Deno.test("serveGrpc with clientCa closes a client that never finishes its TLS handshake, after firstFrameTimeout", async () => {
  await using certs = await makeMutualTlsCertificates();
  const { server, errors } = await startServer(certs, { limits: { firstFrameTimeout: 300 } });
  await using _ = server;
  // A TCP client that sends nothing: no ClientHello, so no handshake.
  using silent = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  const read = await Promise.race([
    silent.read(new Uint8Array(16)).catch(() => null),
    new Promise<"open">((resolve) => setTimeout(() => resolve("open"), 10_000)),
  ]);
  assert.equal(read, null, "the server closes the silent socket");
  assert.ok(errors.some((e) => /TLS handshake failed: .*timeout/i.test(String(e))), String(errors));
  await using client = connectGrpc(server.url, { schema, caCerts: [certs.ca], ...certs.client });
  assert.deepEqual(await client.call(WHO, {}), { name: "alice" });
});

// Bulk moves more than a stream's window (256 KiB) and the socket's read
// buffer, so that flow control and the node socket's pause and resume work.
const CHUNK = 64 * 1024;
const CHUNKS = 64; // 4 MiB each way
const bulk = protoService(schema, "demo.Bulk", {
  Upload: async (chunks: AsyncIterable<{ data: Uint8Array }>) => {
    let bytes = 0n;
    let count = 0;
    for await (const { data } of chunks) {
      bytes += BigInt(data.length);
      count++;
    }
    return { bytes, chunks: count };
  },
  Download: async function* ({ chunks }: { chunks: number }) {
    for (let i = 0; i < chunks; i++) yield { data: new Uint8Array(CHUNK).fill(i) };
  },
});

Deno.test("gRPC over mutual TLS streams megabytes both ways, with flow control", async () => {
  await using certs = await makeMutualTlsCertificates();
  await using server = await serveGrpc({
    schema,
    ...certs.server,
    clientCa: [certs.ca],
    service: bulk,
  });
  await using client = connectGrpc(server.url, { schema, caCerts: [certs.ca], ...certs.client });
  async function* upload() {
    for (let i = 0; i < CHUNKS; i++) yield { data: new Uint8Array(CHUNK).fill(i) };
  }
  const uploaded = client.openStream("demo.Bulk/Upload", undefined, { input: upload() });
  assert.deepEqual(await uploaded.result, { bytes: BigInt(CHUNK * CHUNKS), chunks: CHUNKS });
  const downloaded = client.openStream("demo.Bulk/Download", { chunks: CHUNKS });
  let index = 0;
  for await (const message of downloaded.messages) {
    const { data } = message as { data: Uint8Array };
    assert.equal(data.length, CHUNK);
    assert.equal(data[0], index % 256);
    assert.equal(data[CHUNK - 1], index % 256);
    index++;
    // A slow reader: the server waits for the window rather than buffering.
    if (index % 16 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(index, CHUNKS);
});

Deno.test("gRPC over mutual TLS: a context that refuses a verified client answers 16 UNAUTHENTICATED with why", async () => {
  await using certs = await makeMutualTlsCertificates();
  const { server, errors } = await startServer(certs, {
    context: (connection) => {
      throw new Error(`${connection.peerCertificate?.commonName} is suspended`);
    },
  });
  await using _ = server;
  await using client = connectGrpc(server.url, { schema, caCerts: [certs.ca], ...certs.client });
  const error = await client.call(WHO, {}).then(() => undefined, (e) => e);
  assert.ok(error instanceof ConnectError, String(error));
  assert.equal(error.code, 16);
  assert.match(error.message, /alice is suspended/);
  assert.equal(errors.length, 1);
});

Deno.test("gRPC over mutual TLS: a verified client that sends garbage is closed; others are served", async () => {
  await using certs = await makeMutualTlsCertificates();
  const { server } = await startServer(certs);
  await using _ = server;
  using rogue = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: server.addr.port,
    caCerts: [certs.ca],
    alpnProtocols: ["h2"],
    ...certs.client,
  });
  await rogue.write(new TextEncoder().encode("GET / HTTP/1.1\r\nhost: x\r\n\r\n".repeat(4)));
  // Read to the end: a GOAWAY (and SETTINGS) then the close; bounded in bytes and time.
  const received: Uint8Array[] = [];
  const reading = (async () => {
    const buffer = new Uint8Array(4096);
    for (let total = 0; total < 1 << 20;) {
      const n = await rogue.read(buffer).catch(() => null);
      if (n === null) return "closed";
      received.push(buffer.slice(0, n));
      total += n;
    }
    return "flood";
  })();
  const outcome = await Promise.race([
    reading,
    new Promise<"open">((resolve) => setTimeout(() => resolve("open"), 10_000)),
  ]);
  assert.equal(outcome, "closed");
  const bytes = new Uint8Array(received.flatMap((chunk) => [...chunk]));
  // Some frame of type 7 (GOAWAY): HTTP/2 frames are length(3) type(1) flags(1) stream(4) payload.
  const types: number[] = [];
  for (let at = 0; at + 9 <= bytes.length;) {
    types.push(bytes[at + 3]!);
    at += 9 + ((bytes[at]! << 16) | (bytes[at + 1]! << 8) | bytes[at + 2]!);
  }
  assert.ok(types.includes(7), `frames received: ${types}`);
  await using client = connectGrpc(server.url, { schema, caCerts: [certs.ca], ...certs.client });
  assert.deepEqual(await client.call(WHO, {}), { name: "alice" });
});

Deno.test("gRPC over mutual TLS: shutdown answers the call in flight, then closes", async () => {
  await using certs = await makeMutualTlsCertificates();
  const started = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const server = await serveGrpc({
    schema,
    ...certs.server,
    clientCa: [certs.ca],
    service: protoService(schema, "demo.Who", {
      WhoAmI: withContext(async (ctx) => {
        started.resolve();
        await release.promise;
        return { name: connectionOf(ctx)?.peerCertificate?.commonName ?? "" };
      }),
    }),
  });
  await using client = connectGrpc(server.url, { schema, caCerts: [certs.ca], ...certs.client });
  const call = client.call(WHO, {});
  await started.promise;
  const stopped = server.shutdown();
  release.resolve();
  assert.deepEqual(await call, { name: "alice" });
  await stopped;
  await server.finished;
  const later = connectGrpc(server.url, { schema, caCerts: [certs.ca], ...certs.client });
  await assert.rejects(later.call(WHO, {}, { timeout: 10_000 }));
  await later.close();
});
