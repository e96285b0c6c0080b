/**
 * What parley's Connect client (and `parley call --codec protobuf` over
 * https://) makes of a real gRPC server that does not speak Connect:
 * `python/grpc_calculator_server.py`, Debian's python3-grpcio with a generic
 * handler for `interop.Calculator/Add`.
 *
 * - Over TLS, fetch negotiates HTTP/2 by ALPN and grpcio answers the Connect
 *   POST with HTTP 200, `application/grpc`, `grpc-status: 2` and an empty
 *   body, which read as proto would be `{sum: 0}`: the client must reject
 *   with a ConnectError that says what came back, and the CLI exit non-zero.
 * - Over cleartext, fetch speaks HTTP/1.1 to a server that speaks only
 *   HTTP/2: no reply, a ConnectionClosedError that names the URL, not
 *   fetch's bare TypeError.
 *
 * Needs `/usr/bin/python3` with python3-grpcio and python3-protobuf, and
 * `protoc` on the PATH.
 */

import assert from "node:assert/strict";
import { connectClient, ConnectError } from "../../protocols/connect.ts";
import { ConnectionClosedError } from "../../rpc/errors.ts";
import { tlsClient } from "../../rpc/transports/tls.ts";
import { calculatorSchema } from "../../examples/calculator/protobuf.ts";
import { makeCertificates } from "../_certificates.ts";
import { rejection } from "../_rejection.ts";
import { DEBIAN_PYTHON, formatOutput, run, spawnListening } from "./_process.ts";
import { testNeeding } from "../_needs.ts";

const test = testNeeding("py:grpc", "py:google.protobuf", "protoc");

const SERVER = new URL("./python/grpc_calculator_server.py", import.meta.url).pathname;
const PROTO = "examples/calculator/calculator.proto";
const schema = calculatorSchema();

const startGrpc = (...args: string[]) =>
  spawnListening(DEBIAN_PYTHON, { args: [SERVER, ...args], env: { PATH: Deno.env.get("PATH")! } });

// A real gRPC client (grpcio, raw bytes both ways): the server does answer
// gRPC, so what the Connect client gets is the protocol mismatch alone.
async function grpcAdd(target: string, ca?: string): Promise<string> {
  const code = `
import sys, grpc
target, ca = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None
channel = (grpc.secure_channel(target, grpc.ssl_channel_credentials(open(ca, "rb").read()))
           if ca else grpc.insecure_channel(target))
add = channel.unary_unary("/interop.Calculator/Add")
print(add(bytes([0x08, 1, 0x10, 2]), timeout=20).hex())
`;
  const result = await run(DEBIAN_PYTHON, {
    args: ["-c", code, target, ...(ca === undefined ? [] : [ca])],
    timeout: 30_000,
  });
  assert.equal(result.code, 0, formatOutput(result));
  return result.stdout.trim();
}

function parley(...args: string[]) {
  return run(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-read", "--allow-env", "cli/main.ts", ...args],
    timeout: 60_000,
  });
}

test("Connect client against a gRPC server over TLS (h2): a ConnectError that says what came back, not proto3 defaults", async () => {
  await using certs = await makeCertificates();
  const cert = `${certs.dir}/server.pem`;
  const key = `${certs.dir}/server-key.pem`;
  const ca = `${certs.dir}/ca.pem`;
  await using server = await startGrpc("--cert", cert, "--key", key);
  assert.match(server.url, /^grpcs:\/\/127\.0\.0\.1:\d+$/);
  // AddReply{sum: 3} to a gRPC client.
  assert.equal(await grpcAdd(`localhost:${server.port}`, ca), "0803");
  using tls = tlsClient({ caCerts: [certs.ca] });
  const base = `https://127.0.0.1:${server.port}`;
  for (const format of ["proto", "json"] as const) {
    await using client = connectClient(base, { schema, format, fetch: tls.fetch, timeout: 20_000 });
    const error = await rejection(
      client.call("interop.Calculator/Add", { num1: 1, num2: 2 }),
      ConnectError,
    );
    assert.equal(error.connectCode, "unknown");
    assert.equal(error.code, 2);
    assert.match(error.message, new RegExp(`POST ${base}/interop\\.Calculator/Add answered`));
    assert.match(error.message, /HTTP 200, content-type "application\/grpc"/);
    assert.match(error.message, /grpc-status 2, grpc-message "[^"]+"/);
    assert.match(error.message, /empty body/);
    assert.match(error.message, /not a Connect reply \(application\/(proto|json)\)/);
    assert.match(error.message, /a gRPC server\?/);
  }

  // The command line: exit status 1 (the server's answer was an error),
  // the reason on stderr, nothing on stdout.
  const call = await parley(
    "call",
    `${base}/`,
    "--codec",
    "protobuf",
    "--proto",
    PROTO,
    "--ca",
    ca,
    "interop.Calculator/Add",
    "num1=1",
    "num2=2",
  );
  assert.equal(call.code, 1, formatOutput(call));
  assert.equal(call.stdout, "");
  assert.match(call.stderr, /error 2: .*content-type "application\/grpc", grpc-status 2/);
});

test("Connect client against a gRPC server over cleartext (fetch speaks HTTP/1.1): a ConnectionClosedError naming the URL", async () => {
  await using server = await startGrpc();
  assert.match(server.url, /^grpc:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(await grpcAdd(`127.0.0.1:${server.port}`), "0803");
  const base = `http://127.0.0.1:${server.port}`;
  await using client = connectClient(base, { schema, timeout: 20_000 });
  const error = await rejection(
    client.call("interop.Calculator/Add", { num1: 1, num2: 2 }),
    ConnectionClosedError,
  );
  assert.ok(error.cause instanceof TypeError, "the cause is fetch's own error");
  assert.match(error.message, new RegExp(`^No reply to POST ${base}/interop\\.Calculator/Add: `));

  // The command line: exit status 3 (the transport failed), the reason on stderr.
  const call = await parley(
    "call",
    `${base}/`,
    "--codec",
    "protobuf",
    "--proto",
    PROTO,
    "interop.Calculator/Add",
    "num1=1",
    "num2=2",
  );
  assert.equal(call.code, 3, formatOutput(call));
  assert.equal(call.stdout, "");
  assert.match(call.stderr, /No reply to POST http:\/\/127\.0\.0\.1:\d+\/interop\.Calculator\/Add/);
});
