// A Connect streaming client on Node (connect-es's @connectrpc/connect-node)
// calling a Calculator over the Connect protocol.
//
//   node connect_stream_client.mjs BASE_URL [--http2] [--format proto|json] [--proto-dir DIR]
//
// HTTP/1.1 by default: unary Add, server-streaming Range, client-streaming
// Total, their errors with InvalidOperation details, a deadline and a
// cancellation mid-stream, and the x-request-tag echo (header and trailer,
// failing calls included). With --http2 (h2c to an http:// URL): the same,
// and bidi Running. Prints one JSON line of what came back (64-bit integers
// as strings). The descriptors come from calculator.proto by protoc at run
// time. The whole run is bounded (30 s).

import process from "node:process";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { loadRegistry } from "./_generated.mjs";
import { argv, idlDir, option } from "./_args.mjs";

const VALUED = new Set(["--format", "--proto-dir"]);
const positional = argv.filter((a, i) => !a.startsWith("--") && !VALUED.has(argv[i - 1]));
if (positional.length !== 1) {
  process.stderr.write(
    "usage: node connect_stream_client.mjs BASE_URL [--http2] [--format proto|json] [--proto-dir DIR]\n",
  );
  process.exit(2);
}
setTimeout(() => {
  process.stderr.write("connect_stream_client.mjs: still running after 30 s\n");
  process.exit(1);
}, 30_000).unref();

const http2 = argv.includes("--http2");
const registry = loadRegistry(idlDir(import.meta.url, "--proto-dir"));
const Calculator = registry.getService("interop.Calculator");
const InvalidOperation = registry.getMessage("interop.InvalidOperation");
const transport = createConnectTransport({
  baseUrl: positional[0],
  httpVersion: http2 ? "2" : "1.1",
  useBinaryFormat: option("--format", "proto") === "proto",
});
const client = createClient(Calculator, transport);

// A call's outcome as plain JSON: its result or its error (code name,
// message, InvalidOperation details), and the x-request-tag echo it got.
async function outcome(call) {
  const seen = { header: null, trailer: null };
  const options = {
    headers: { "x-request-tag": `js-${Math.random().toString(36).slice(2, 8)}` },
    onHeader: (headers) => seen.header = headers.get("x-request-tag"),
    onTrailer: (trailers) => seen.trailer = trailers.get("x-request-tag-end"),
  };
  const sent = options.headers["x-request-tag"];
  const echo = () => seen.header === sent && seen.trailer === sent;
  try {
    return { result: await call(options), echo: echo() };
  } catch (error) {
    if (!(error instanceof ConnectError)) throw error;
    const details = error.findDetails(InvalidOperation).map(({ whatOp, why }) => ({ whatOp, why }));
    // A failed call's headers and trailers are the error's metadata.
    seen.header ??= error.metadata.get("x-request-tag");
    seen.trailer ??= error.metadata.get("x-request-tag-end");
    return { code: Code[error.code], message: error.rawMessage, details, echo: echo() };
  }
}

async function collect(messages, take = Infinity) {
  const out = [];
  for await (const message of messages) {
    out.push(message);
    if (out.length >= take) break;
  }
  return out;
}

async function* numbers(...values) {
  for (const value of values) yield { value };
}

const I64_MAX = 2n ** 63n - 1n;
const out = {
  add: await outcome(async (o) => (await client.add({ num1: 1, num2: 2 }, o)).sum),
  addOverflow: await outcome((o) => client.add({ num1: 2 ** 31 - 1, num2: 1 }, o)),
  range: await outcome(async (o) =>
    (await collect(client.range({ start: 2 ** 31 - 1, count: 3 }, o))).map((n) => String(n.value))
  ),
  rangeInvalid: await outcome((o) => collect(client.range({ count: -1 }, o))),
  total: await outcome(async (o) =>
    String((await client.total(numbers(I64_MAX, 1n, -1n), o)).total)
  ),
  totalOverflow: await outcome((o) => client.total(numbers(I64_MAX, 1n), o)),
  // The server's deadline (sent as Connect-Timeout-Ms) or connect-es's own: DeadlineExceeded.
  deadline: await outcome((o) =>
    collect(client.range({ count: 5, delayMs: 1000 }, { ...o, timeoutMs: 300 }))
  ),
  // Two numbers, then the loop is left: connect-es cancels the call.
  leftEarly: await outcome(async (o) =>
    (await collect(client.range({ start: 1, count: 1000, delayMs: 5 }, o), 2)).map((n) =>
      String(n.value)
    )
  ),
};
if (http2) {
  out.running = await outcome(async (o) =>
    (await collect(client.running(numbers(1n, 2n, 3n), o))).map((r) => String(r.total))
  );
  // The first total arrives, then the error.
  const before = [];
  out.runningOverflow = await outcome(async (o) => {
    for await (const { total } of client.running(numbers(I64_MAX, 1n), o)) {
      before.push(String(total));
    }
  });
  out.runningOverflow.before = before;
}
process.stdout.write(`${JSON.stringify(out)}\n`);
