/**
 * parley's own NATS client against a nats-server that asks for credentials
 * (user and password, token, an nkey; in the options or the address), that
 * grants some subjects only, or that asks for TLS (a CA made with openssl
 * at test time; `tls://`; a wrong CA).
 */

import assert from "node:assert/strict";
import { connectNatsCore, type NatsCoreConnection } from "../rpc/transports/nats.ts";
import { startNatsServer } from "../testing/nats_server.ts";
import { makeCertificates } from "./_certificates.ts";
import { selfSignedCertificate } from "../testing/certificate.ts";
import { StatusLog } from "./_nats_core.ts";
import { testNeeding } from "./_needs.ts";
import { nkeyAuthenticator, nkeys } from "@nats-io/nats-core";

const test = testNeeding("nats-server");

// A message to itself and back: the connection works.
async function echoes(nc: NatsCoreConnection): Promise<void> {
  const sub = nc.subscribe("echo", { max: 1 });
  nc.publish("echo", "hi");
  for await (const msg of sub) assert.equal(msg.text(), "hi");
}

test("nats core auth: user and password, in the options and in the address; wrong ones refused", async () => {
  await using nats = await startNatsServer(0, { args: ["--user", "u", "--pass", "p"] });
  const where = `127.0.0.1:${nats.port}`;
  for (
    const [url, options] of [
      [`nats://${where}`, { user: "u", pass: "wrong" }],
      [`nats://${where}`, {}],
      [`nats://u:nope@${where}`, {}],
    ] as const
  ) {
    await assert.rejects(
      connectNatsCore(url, { ...options, timeout: 5_000 }),
      /Authorization Violation/i,
      `${url} ${JSON.stringify(options)}`,
    );
  }
  for (
    const [url, options] of [
      [`nats://${where}`, { user: "u", pass: "p" }],
      [`nats://u:p@${where}`, {}],
    ] as const
  ) {
    const nc = await connectNatsCore(url, options);
    assert.equal(nc.info.auth_required, true);
    await echoes(nc);
    await nc.drain();
  }
});

test("nats core auth: a token, in the options and in the address", async () => {
  await using nats = await startNatsServer(0, { args: ["--auth", "s3cret"] });
  const where = `127.0.0.1:${nats.port}`;
  await assert.rejects(
    connectNatsCore(`nats://${where}`, { token: "wrong" }),
    /Authorization Violation/i,
  );
  await assert.rejects(connectNatsCore(`nats://wrong@${where}`), /Authorization Violation/i);
  for (
    const nc of [
      await connectNatsCore(`nats://${where}`, { token: "s3cret" }),
      await connectNatsCore(`nats://s3cret@${where}`),
    ]
  ) {
    await echoes(nc);
    await nc.drain();
  }
});

test("nats core TLS: a server with --tls, trusted by caCerts, with tls options or a tls:// address; a wrong CA fails", async () => {
  await using certs = await makeCertificates();
  await using nats = await startNatsServer(0, {
    args: [
      "--tls",
      "--tlscert",
      `${certs.dir}/server.pem`,
      "--tlskey",
      `${certs.dir}/server-key.pem`,
    ],
  });
  const where = `127.0.0.1:${nats.port}`;
  const byOption = await connectNatsCore(`nats://${where}`, { tls: { caCerts: [certs.ca] } });
  assert.equal(byOption.info.tls_required, true);
  await echoes(byOption);
  // A tls:// address with the CA, and the server's INFO alone asking for TLS.
  const byAddress = await connectNatsCore(`tls://${where}`, { tls: { caCerts: [certs.ca] } });
  await echoes(byAddress);
  // Both see each other's messages over TLS.
  const got = byAddress.subscribe("cross", { max: 1 });
  await byAddress.flush();
  byOption.publish("cross", "é over TLS");
  for await (const msg of got) assert.equal(msg.text(), "é over TLS");
  await Promise.all([byOption.drain(), byAddress.drain()]);

  // A CA that did not sign the server's certificate, or none: refused.
  const stranger = await selfSignedCertificate();
  await assert.rejects(
    connectNatsCore(`tls://${where}`, { tls: { caCerts: [stranger.cert] }, timeout: 5_000 }),
    /certificate/,
  );
  await assert.rejects(connectNatsCore(`nats://${where}`, { timeout: 5_000 }), /certificate/);
  // tls: false against a server that requires TLS: a clear refusal.
  await assert.rejects(
    connectNatsCore(`nats://${where}`, { tls: false, timeout: 5_000 }),
    /requires TLS/,
  );
});

test("nats core auth: an nkey user through nats.js's nkeyAuthenticator; a permission violation is told, not fatal", async () => {
  const user = nkeys.createUser();
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "parley-nats-" });
  try {
    await Deno.writeTextFile(
      `${dir}/nats.conf`,
      `authorization {
        users = [{
          nkey: ${user.getPublicKey()}
          permissions: { publish: { deny: ["secret"] }, subscribe: { deny: ["hidden"] } }
        }]
      }\n`,
    );
    await using nats = await startNatsServer(0, { args: ["-c", `${dir}/nats.conf`] });
    await assert.rejects(connectNatsCore(nats.url), /Authorization Violation/i);
    const statuses = new StatusLog();
    const nc = await connectNatsCore(nats.url, {
      authenticator: nkeyAuthenticator(user.getSeed()),
      onStatus: statuses.onStatus,
    });
    assert.equal(typeof nc.info.nonce, "string");
    nc.publish("secret", "not allowed");
    nc.subscribe("hidden", { callback: () => assert.fail("no message") });
    await statuses.waitFor("error", 2);
    const errors = statuses.seen.map((s) => String((s.data as Error).message));
    assert.ok(
      errors.some((e) => /Permissions Violation for Publish to "secret"/.test(e)),
      `${errors}`,
    );
    assert.ok(
      errors.some((e) => /Permissions Violation for Subscription to "hidden"/.test(e)),
      `${errors}`,
    );
    await echoes(nc); // still connected
    assert.ok(!statuses.types.includes("disconnect"));
    await nc.drain();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
