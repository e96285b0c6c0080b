// A gRPC-Web client on Node: connect-es's own browser transport
// (@connectrpc/connect-web's createGrpcWebTransport, on Node's fetch),
// calling a Calculator served over gRPC-Web.
//
//   node grpc_web_client.mjs BASE_URL [--slow] [--proto-dir DIR]
//
// Prints one JSON line of what came back: Add's result, the overflow error
// (code, message, InvalidOperation details), an Echo, a server-streaming
// Range and its invalid-count error; with `--slow`, also
// an Echo of "slow" with a 100 ms timeout (a server whose Echo waits for its
// deadline on "slow"). The descriptors come from calculator.proto by protoc
// at run time. The whole run is bounded (30 s).

import process from "node:process";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { loadRegistry } from "./_generated.mjs";
import { argv, idlDir } from "./_args.mjs";

const positional = argv.filter((a, i) => !a.startsWith("--") && !argv[i - 1]?.startsWith("--"));
if (positional.length !== 1) {
  process.stderr.write("usage: node grpc_web_client.mjs BASE_URL [--slow] [--proto-dir DIR]\n");
  process.exit(2);
}
setTimeout(() => {
  process.stderr.write("grpc_web_client.mjs: still running after 30 s\n");
  process.exit(1);
}, 30_000).unref();

const registry = loadRegistry(idlDir(import.meta.url, "--proto-dir"));
const Calculator = registry.getService("interop.Calculator");
const InvalidOperation = registry.getMessage("interop.InvalidOperation");
const transport = createGrpcWebTransport({ baseUrl: positional[0], useBinaryFormat: true });
const client = createClient(Calculator, transport);

// An error as plain JSON: its gRPC code number, message and details.
const errorOf = async (promise) => {
  try {
    return { result: await promise };
  } catch (error) {
    if (!(error instanceof ConnectError)) throw error;
    const details = error.findDetails(InvalidOperation)
      .map(({ whatOp, why }) => ({ whatOp, why }));
    return { code: error.code, message: error.rawMessage, details };
  }
};

// A server stream's numbers, as strings (they are 64-bit).
const range = async (request) => {
  const values = [];
  for await (const { value } of client.range(request)) values.push(String(value));
  return values;
};

const out = {
  add: await client.add({ num1: 1, num2: 2 }).then((reply) => reply.sum),
  overflow: await errorOf(client.add({ num1: 2 ** 31 - 1, num2: 1 })),
  echo: await client.echo({ text: "héllo, gRPC-Web" }).then((reply) => reply.text),
  range: await range({ start: 2 ** 31 - 1, count: 3 }),
  rangeInvalid: await errorOf(range({ count: -1 })),
};
if (argv.includes("--slow")) {
  out.slow = await errorOf(client.echo({ text: "slow" }, { timeoutMs: 100 }));
}
process.stdout.write(`${JSON.stringify(out)}\n`);
