/**
 * The example server's `--transport grpc` and `grpcs`, as the interop
 * contract's "Streaming and gRPC" says, called by a real gRPC client
 * (Debian's python3-grpcio, tests/interop/python/grpc_calculator_client.py).
 *
 * @module
 */

import assert from "node:assert/strict";
import { makeCertificates } from "./_certificates.ts";
import { testNeeding } from "./_needs.ts";
import { DEBIAN_PYTHON, formatOutput, run, spawnListening } from "./interop/_process.ts";

const test = testNeeding("py:grpc", "py:google.protobuf", "protoc");

const CALCULATOR = ["run", "--allow-net", "--allow-read", "--allow-env", "examples/calculator.ts"];
const CLIENT = new URL("./interop/python/grpc_calculator_client.py", import.meta.url).pathname;

async function python(target: string, scenario: string, ca?: string) {
  const result = await run(DEBIAN_PYTHON, {
    args: [CLIENT, target, scenario, ...(ca === undefined ? [] : [ca])],
    env: { PATH: Deno.env.get("PATH")! },
    timeout: 60_000,
  });
  assert.equal(result.code, 0, formatOutput(result));
  return JSON.parse(result.stdout.trim().split("\n").at(-1)!);
}

test("calculator --transport grpc: h2c, statuses with details, the x-request-tag echo, SIGTERM exits 0", async () => {
  await using server = await spawnListening(Deno.execPath(), {
    args: [...CALCULATOR, "--transport", "grpc", "--port", "0"],
  });
  assert.match(server.url, /^grpc:\/\/127\.0\.0\.1:\d+$/);
  const target = `127.0.0.1:${server.port}`;
  assert.deepEqual(await python(target, "add"), { code: 0, sum: 3 });
  const invalid = await python(target, "invalid");
  assert.equal(invalid.code, 3);
  assert.equal(invalid.details, "Cannot divide by 0");
  assert.deepEqual(await python(target, "metadata"), {
    code: 0,
    sum: 3,
    headers: { "x-request-tag": "py-7" },
    trailers: { "x-request-tag-end": "py-7" },
  });
  const failed = await python(target, "metadata-error");
  assert.equal(failed.code, 3);
  // A trailers-only reply: both in its one header block.
  assert.equal(failed.trailers["x-request-tag"], "py-8");
  assert.equal(failed.trailers["x-request-tag-end"], "py-8");
  assert.equal((await python(target, "unknown")).code, 12);
  // The three streaming methods, as the contract's table says.
  assert.deepEqual(await python(target, "range"), {
    code: 0,
    values: [5, 6, 7, 8],
    headers: { "x-request-tag": "py-r" },
    trailers: { "x-request-tag-end": "py-r" },
  });
  const badCount = await python(target, "range-invalid");
  assert.equal(badCount.code, 3);
  assert.equal(badCount.details, "invalid count");
  assert.deepEqual(badCount.received, []);
  assert.equal((await python(target, "range-deadline")).code, 4);
  assert.deepEqual(await python(target, "total"), { code: 0, total: 9223372036854775807 });
  const overflow = await python(target, "total-overflow");
  assert.equal(overflow.code, 3);
  assert.equal(overflow.details, "overflow");
  assert.deepEqual(await python(target, "running"), { code: 0, last: 6, count: 3 });
  const running = await python(target, "running-overflow");
  assert.equal(running.code, 3);
  assert.equal(running.details, "overflow");
  const stopped = await server.stop("SIGTERM");
  assert.equal(stopped.code, 0, server.stderr());
});

test("calculator --transport grpcs: TLS with ALPN h2, --codec protobuf given or not", async () => {
  await using certs = await makeCertificates();
  await using server = await spawnListening(Deno.execPath(), {
    args: [
      ...CALCULATOR,
      "--codec",
      "protobuf",
      "--transport",
      "grpcs",
      "--cert",
      `${certs.dir}/server.pem`,
      "--key",
      `${certs.dir}/server-key.pem`,
    ],
  });
  assert.match(server.url, /^grpcs:\/\/127\.0\.0\.1:\d+$/);
  assert.deepEqual(await python(`localhost:${server.port}`, "add", `${certs.dir}/ca.pem`), {
    code: 0,
    sum: 3,
  });
});

test("calculator --transport grpc refuses another codec with exit 2", async () => {
  const result = await run(Deno.execPath(), {
    args: [...CALCULATOR, "--codec", "jsonrpc", "--transport", "grpc"],
    timeout: 30_000,
  });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--transport grpc carries protobuf, not "jsonrpc"/);
});
