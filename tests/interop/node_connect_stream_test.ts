/**
 * Connect streaming interop with connect-es on Node
 * (`@connectrpc/connect-node`, from npm): `node/connect_stream_client.mjs`
 * calls parley's `connectHandler` (in process, and the calculator example's
 * `--transport http`) over HTTP/1.1 (unary, server and client streaming)
 * and over HTTP/2 without TLS (bidi too): results, errors with their
 * InvalidOperation details, a deadline and a cancellation mid-stream, and
 * the `x-request-tag` echo on every call.
 *
 * Needs `node`, `npm` (the peers are installed once, outside the tree) and
 * `protoc`.
 */

import assert from "node:assert/strict";
import { startServer } from "../_connect_streams.ts";
import { nodePeerJson } from "./_node.ts";
import { startCalculator } from "./_process.ts";
import { testNeeding } from "../_needs.ts";

const test = testNeeding("protoc");

const streamClient = (url: string, ...flags: string[]) =>
  nodePeerJson("connect_stream_client.mjs", url, ...flags);

const overflow = (message: string) => ({
  code: "InvalidArgument",
  message,
  details: [{ whatOp: 1, why: message }],
  echo: true,
});

// What connect-es makes of the calculator's answers over HTTP/1.1.
const CONTRACT = {
  add: { result: 3, echo: true },
  addOverflow: overflow("overflow"),
  range: { result: ["2147483647", "2147483648", "2147483649"], echo: true },
  rangeInvalid: overflow("invalid count"),
  total: { result: "9223372036854775807", echo: true },
  totalOverflow: overflow("overflow"),
  leftEarly: { result: ["1", "2"], echo: false }, // left before the trailers came
};

function assertContract(out: Record<string, { code?: string }>) {
  const { deadline, ...rest } = out;
  const expected = Object.fromEntries(Object.keys(rest).map((key) => [key, rest[key]]));
  assert.deepEqual(
    Object.fromEntries(Object.keys(CONTRACT).map((key) => [key, expected[key]])),
    CONTRACT,
  );
  // The server's end-of-stream or connect-es's own timer: DeadlineExceeded either way.
  assert.equal(deadline?.code, "DeadlineExceeded");
}

for (const format of ["proto", "json"]) {
  test(`connect-node (${format}, HTTP/1.1) streams with connectHandler: Range, Total, errors, deadlines, metadata`, async () => {
    await using server = startServer().server;
    assertContract(await streamClient(server.url, "--format", format));
  });
}

test("connect-node over HTTP/2 (h2c) streams with connectHandler, bidi Running included", async () => {
  await using server = startServer().server;
  const out = await streamClient(server.url, "--http2");
  assertContract(out);
  assert.deepEqual(out.running, { result: ["1", "3", "6"], echo: true });
  assert.deepEqual(out.runningOverflow, {
    ...overflow("overflow"),
    before: ["9223372036854775807"],
  });
});

test("the calculator example streams over Connect to connect-node, HTTP/1.1 and HTTP/2", async () => {
  await using calculator = await startCalculator("--codec", "protobuf", "--transport", "http");
  assertContract(await streamClient(calculator.url));
  const out = await streamClient(calculator.url, "--http2", "--format", "json");
  assertContract(out);
  assert.deepEqual(out.running.result, ["1", "3", "6"]);
});
