/**
 * `parley list` and `parley call` on grpc:// and grpcs:// URLs, run as the
 * command a user types: against parley's own serveGrpc (the calculator with
 * health and reflection), a grpc-js server with @grpc/reflection, and a real
 * grpcio server without reflection (Debian's python3-grpcio,
 * tests/interop/python/grpc_calculator_server.py), with the schema from
 * `--proto`, and from the server's reflection.
 *
 * @module
 */

import assert from "node:assert/strict";
import { serveGrpc } from "../rpc/transports/grpc.ts";
import { ERROR_DETAILS } from "../examples/calculator/protobuf.ts";
import { reflectedCalculator } from "./_reflection.ts";
import { makeCertificates } from "./_certificates.ts";
import { ok, parley } from "./_cli.ts";
import {
  DEBIAN_PYTHON,
  formatOutput,
  spawnListening,
  startCalculator as startCalculatorProcess,
} from "./interop/_process.ts";
import { testNeeding } from "./_needs.ts";
import { CALCULATOR_PROTO_DIR, nodePeers } from "./interop/_node.ts";

const PROTO = "examples/calculator/calculator.proto";
const PY_SERVER = new URL("./interop/python/grpc_calculator_server.py", import.meta.url).pathname;
const withGrpcio = testNeeding("py:grpc", "py:google.protobuf", "protoc");

// The calculator with health and reflection on serveGrpc (TLS with `tls`).
function startCalculator(tls?: { cert: string; key: string }) {
  const { schema, service } = reflectedCalculator();
  return serveGrpc({
    schema,
    service,
    errorDetails: ERROR_DETAILS,
    errorStatus: () => 3, // InvalidOperation → INVALID_ARGUMENT, as the contract says
    ...tls,
  });
}

// Unary calls every gRPC calculator answers the same, through `parley call`.
async function checkUnary(url: string, ...options: string[]) {
  const call = (...args: string[]) => parley("call", url, ...options, ...args);
  assert.deepEqual(
    JSON.parse(ok(await call("interop.Calculator/Add", "num1=1", "num2=2"))),
    { sum: 3 },
  );
  assert.deepEqual(
    JSON.parse(ok(await call("interop.Calculator/Add", '{"num1": -5, "num2": 2}', "--json"))),
    { sum: -3 },
  );
  // The contract's InvalidOperation: gRPC status 3, its message and detail.
  const failed = await call(
    "interop.Calculator/Calculate",
    '{"logid": 1, "w": {"num1": 1, "num2": 0, "op": "DIVIDE"}}',
  );
  assert.equal(failed.code, 1, formatOutput(failed));
  assert.match(failed.stderr, /error 3: Cannot divide by 0/);
  assert.match(failed.stderr, /"why": "Cannot divide by 0"/);
  // Not a method of the schema: a usage error naming the ones there are.
  const unknown = await call("interop.Calculator/Nope", "a=1");
  assert.equal(unknown.code, 2, formatOutput(unknown));
  assert.match(unknown.stderr, /interop\.Calculator\/Add/);
}

Deno.test("parley call grpc:// with --proto: unary calls, errors, int64 exact", async () => {
  await using server = await startCalculator();
  await checkUnary(server.url, "--proto", PROTO);
  // int64 both ways, beyond 2^53: the exact sum, printed with every digit.
  const sum = ok(
    await parley(
      "call",
      server.url,
      "--proto",
      PROTO,
      "interop.Calculator/Sum",
      '{"values": [9223372036854775807, 1, "-1"]}',
    ),
  );
  assert.match(sum, /"total": 9223372036854775807\b/);
  // Bytes go as base64 and come back as base64.
  const echoed = ok(
    await parley(
      "call",
      server.url,
      "--proto",
      PROTO,
      "interop.Calculator/EchoBinary",
      "data=AP8=",
    ),
  );
  assert.deepEqual(JSON.parse(echoed), { data: "AP8=" });
  // Metadata: --header reaches the handler as gRPC metadata (a header of the wrong form is refused).
  const bad = await parley("call", server.url, "--header", "nocolon", "interop.Calculator/Ping");
  assert.equal(bad.code, 2);
});

Deno.test("parley list grpc:// with --proto: every method with its kind", async () => {
  await using server = await startCalculator();
  const out = ok(await parley("list", server.url, "--proto", PROTO));
  assert.match(out, /from \.proto/);
  assert.match(out, /interop\.Calculator\/Add\(request: interop\.AddRequest\) → interop\.AddReply/);
  assert.match(
    out,
    /interop\.Calculator\/Range\(request: interop\.RangeRequest\) → stream interop\.Number/,
  );
  assert.match(
    out,
    /interop\.Calculator\/Total\(requests: stream interop\.Number\) → interop\.SumReply/,
  );
  assert.match(
    out,
    /interop\.Calculator\/Running\(requests: stream interop\.Number\) → stream interop\.SumReply/,
  );
  const json = JSON.parse(ok(await parley("list", server.url, "--proto", PROTO, "--json")));
  const kinds = Object.fromEntries(
    json.methods.map((m: { name: string; kind: string }) => [m.name, m.kind]),
  );
  assert.equal(kinds["interop.Calculator/Add"], "unary");
  assert.equal(kinds["interop.Calculator/Range"], "server streaming");
  assert.equal(kinds["interop.Calculator/Total"], "client streaming");
  assert.equal(kinds["interop.Calculator/Running"], "bidi streaming");
});

Deno.test("parley call grpcs:// with --ca and --proto", async () => {
  await using certs = await makeCertificates();
  await using server = await startCalculator({ cert: certs.cert, key: certs.key });
  assert.match(server.url, /^grpcs:\/\//);
  const ca = `${certs.dir}/ca.pem`;
  await Deno.writeTextFile(ca, certs.ca);
  await checkUnary(server.url, "--proto", PROTO, "--ca", ca);
  // Without the CA the server is not trusted: the transport fails (exit 3).
  const untrusted = await parley("call", server.url, "--proto", PROTO, "interop.Calculator/Ping");
  assert.equal(untrusted.code, 3, formatOutput(untrusted));
});

Deno.test("parley rejects what gRPC URLs cannot say", async () => {
  const path = await parley("call", "grpc://127.0.0.1:1/x", "a.B/C");
  assert.equal(path.code, 2);
  assert.match(path.stderr, /has a path/);
  const port = await parley("list", "grpc://127.0.0.1");
  assert.equal(port.code, 2);
  const refused = await parley(
    "call",
    "grpc://127.0.0.1:1",
    "--proto",
    PROTO,
    "interop.Calculator/Ping",
  );
  assert.equal(refused.code, 3, formatOutput(refused));
});

Deno.test("parley list grpc:// through reflection: the services the server lists, with kinds", async () => {
  await using server = await startCalculator();
  const out = ok(await parley("list", server.url));
  assert.match(out, /from gRPC reflection/);
  assert.match(out, /interop\.Calculator\/Add\(request: interop\.AddRequest\) → interop\.AddReply/);
  assert.match(
    out,
    /grpc\.health\.v1\.Health\/Watch\(request: grpc\.health\.v1\.HealthCheckRequest\) → stream/,
  );
  assert.match(
    out,
    /grpc\.reflection\.v1\.ServerReflection\/ServerReflectionInfo\(requests: stream .*\) → stream/,
  );
  const json = JSON.parse(ok(await parley("list", server.url, "--json")));
  assert.deepEqual(json.services, [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
    "interop.Calculator",
  ]);
});

Deno.test("parley call grpc:// through reflection: unary, server streaming, and what it cannot send", async () => {
  await using server = await startCalculator();
  await checkUnary(server.url);
  const sum = ok(
    await parley(
      "call",
      server.url,
      "interop.Calculator/Sum",
      '{"values": [9223372036854775807, 1, -1]}',
    ),
  );
  assert.match(sum, /"total": 9223372036854775807\b/);
  // A server stream: one JSON line per message.
  const range = ok(
    await parley("call", server.url, "interop.Calculator/Range", "start=7", "count=3"),
  );
  assert.deepEqual(range.trim().split("\n").map((line) => JSON.parse(line)), [
    { value: 7 },
    { value: 8 },
    { value: 9 },
  ]);
  // Its error after the call began: the status, exit 1.
  const invalid = await parley("call", server.url, "interop.Calculator/Range", "count=-1");
  assert.equal(invalid.code, 1, formatOutput(invalid));
  assert.match(invalid.stderr, /error 3: invalid count/);
  // A client stream cannot be given on the command line.
  const total = await parley("call", server.url, "interop.Calculator/Total", "value=1");
  assert.equal(total.code, 2, formatOutput(total));
  assert.match(total.stderr, /stream of interop\.Number/);
});

Deno.test("parley list and call the calculator process (--transport grpc) through reflection", async () => {
  await using server = await startCalculatorProcess("--transport", "grpc");
  const out = ok(await parley("list", server.url));
  assert.match(out, /interop\.Calculator\/Running\(requests: stream interop\.Number\)/);
  assert.match(out, /grpc\.health\.v1\.Health\/Check/);
  await checkUnary(server.url);
  const range = ok(await parley("call", server.url, "interop.Calculator/Range", "count=2"));
  assert.deepEqual(range.trim().split("\n"), ['{"value":0}', '{"value":1}']);
  const health = ok(await parley("call", server.url, "grpc.health.v1.Health/Check", "service="));
  assert.deepEqual(JSON.parse(health), { status: 1 });
});

Deno.test("parley list and call grpc:// against grpc-js with @grpc/reflection", async () => {
  const dir = await nodePeers();
  await using server = await spawnListening("node", {
    args: [`${dir}/grpc_reflection_peer.mjs`, "server", "--proto-dir", CALCULATOR_PROTO_DIR],
  });
  const out = ok(await parley("list", server.url));
  assert.match(
    out,
    /interop\.Calculator\/Range\(request: interop\.RangeRequest\) → stream interop\.Number/,
  );
  assert.deepEqual(
    JSON.parse(ok(await parley("call", server.url, "interop.Calculator/Add", "num1=40", "num2=2"))),
    { sum: 42 },
  );
  const range = ok(
    await parley("call", server.url, "interop.Calculator/Range", "start=1", "count=2"),
  );
  assert.deepEqual(range.trim().split("\n"), ['{"value":1}', '{"value":2}']);
});

withGrpcio("parley call and list grpc:// against a grpcio server, with --proto", async () => {
  await using server = await spawnListening(DEBIAN_PYTHON, {
    args: [PY_SERVER],
    env: { PATH: Deno.env.get("PATH")! },
  });
  assert.match(server.url, /^grpc:\/\//);
  await checkUnary(server.url, "--proto", PROTO);
  const out = ok(await parley("list", server.url, "--proto", PROTO));
  assert.match(out, /interop\.Calculator\/Add/);
  const range = ok(
    await parley(
      "call",
      server.url,
      "--proto",
      PROTO,
      "interop.Calculator/Range",
      "start=-2",
      "count=3",
    ),
  );
  assert.deepEqual(range.trim().split("\n"), ['{"value":-2}', '{"value":-1}', '{"value":0}']);
  // This server has no reflection: without --proto, the CLI says what to give.
  const bare = await parley("list", server.url);
  assert.equal(bare.code, 1, formatOutput(bare));
  assert.match(bare.stderr, /no reflection service.*--proto/);
});
