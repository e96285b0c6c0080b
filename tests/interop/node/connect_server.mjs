// A Connect server on Node (connect-es) implementing the Calculator contract
// of /work/shared/interop/README.md, for parley's Connect client to call.
//
//   node connect_server.mjs [--proto-dir DIR]
//
// Binds 127.0.0.1 on an ephemeral port, prints exactly one line
// `listening http://127.0.0.1:PORT/` to stdout when ready (logs go to
// stderr), and exits 0 on SIGTERM or SIGINT after closing. There is no
// generated code: the service descriptor is built at run time from
// calculator.proto by protoc (`--proto-dir`, by default examples/calculator of the repository
// next to this script's real location).
//
// Two deviations of connect-es 2.3.0 from the contract are corrected here:
// - an unknown path gets a bare 404 with an empty body; the contract wants
//   `unimplemented` as a Connect JSON error body, so a fallback writes one;
// - an application/proto body that does not decode is answered `internal`
//   (HTTP 500, "parse binary: ..."); the contract wants `invalid_argument`
//   (HTTP 400), so that one response is rewritten (see withBadBodyAsInvalid).

import { Buffer } from "node:buffer";
import { createServer } from "node:http";
import process from "node:process";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { loadRegistry } from "./_generated.mjs";
import { idlDir } from "./_args.mjs";

// --- arguments and descriptors ---------------------------------------------

const protoDir = idlDir(import.meta.url, "--proto-dir");

const registry = loadRegistry(protoDir);
const Calculator = registry.getService("interop.Calculator");
const InvalidOperationDesc = registry.getMessage("interop.InvalidOperation");
if (!Calculator || !InvalidOperationDesc) {
  throw new Error(`interop.Calculator not found in ${protoDir}/calculator.proto`);
}

// --- the Calculator ----------------------------------------------------------

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const [ADD, SUBTRACT, MULTIPLY, DIVIDE] = [1, 2, 3, 4];

/** The contract's InvalidOperation: invalid_argument, message why, one detail. */
function invalidOperation(whatOp, why) {
  return new ConnectError(why, Code.InvalidArgument, undefined, [
    { desc: InvalidOperationDesc, value: { whatOp, why } },
  ]);
}

/** Returns `value` if it is an i32, else throws InvalidOperation(op, "overflow"). */
function i32(value, op) {
  if (value < I32_MIN || value > I32_MAX) throw invalidOperation(op, "overflow");
  return value;
}

const calculator = {
  ping: () => ({}),
  add: ({ num1, num2 }) => ({ sum: i32(num1 + num2, 1) }),
  calculate: ({ w }) => {
    // An absent Work is the default one: op 0, which is not an operation.
    const { num1 = 0, num2 = 0, op = 0 } = w ?? {};
    switch (op) {
      case ADD:
        return { value: i32(num1 + num2, op) };
      case SUBTRACT:
        return { value: i32(num1 - num2, op) };
      case MULTIPLY:
        // Exact in bigint: a product of two i32 can exceed 2^53.
        return { value: Number(i32(BigInt(num1) * BigInt(num2), op)) };
      case DIVIDE:
        if (num2 === 0) throw invalidOperation(op, "Cannot divide by 0");
        return { value: i32(Math.trunc(num1 / num2), op) }; // -2^31 / -1 overflows
      default:
        throw invalidOperation(op, "Invalid operation");
    }
  },
  echo: ({ text }) => ({ text }),
  echoBinary: ({ data }) => ({ data }),
  echoShape: ({ name, coords, tags, blob, flag }) => ({ name, coords, tags, blob, flag }),
  sum: ({ values }) => {
    // Exact: only the final total is range-checked, so [i64max, 1, -1] is fine.
    const total = values.reduce((a, b) => a + b, 0n);
    if (total < I64_MIN || total > I64_MAX) throw invalidOperation(1, "overflow");
    return { total };
  },
  zip: () => ({}),
};

// --- HTTP ----------------------------------------------------------------

/** Writes a Connect unary error (a JSON body) with the given HTTP status. */
function writeConnectError(res, status, code, message) {
  const body = JSON.stringify({ code, message });
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

/** Unknown paths: `unimplemented` as a Connect error body, HTTP 404. */
function fallback(req, res) {
  const path = (req.url ?? "").split("?", 1)[0];
  writeConnectError(res, 404, "unimplemented", `${path} is not implemented`);
}

/**
 * Wraps a connect-es universal handler so that a binary request body that
 * does not decode (connect-es: `internal`, "parse binary: ...", HTTP 500)
 * becomes `invalid_argument`, HTTP 400, as the contract says. Any other
 * response passes through untouched.
 */
function withBadBodyAsInvalid(handler) {
  const wrapped = async (req) => {
    const res = await handler(req);
    const header = new Headers(res.header);
    if (res.status !== 500 || header.has("content-encoding") || !res.body) return res;
    const chunks = [];
    for await (const chunk of res.body) chunks.push(chunk);
    const bytes = Buffer.concat(chunks);
    let error;
    try {
      error = JSON.parse(bytes.toString("utf8"));
    } catch {
      error = undefined;
    }
    const badBody = error?.code === "internal" && error.message?.startsWith("parse binary:");
    const body = badBody
      ? new TextEncoder().encode(JSON.stringify({ ...error, code: "invalid_argument" }))
      : bytes;
    header.set("content-length", String(body.byteLength));
    return {
      ...res,
      status: badBody ? 400 : res.status,
      header,
      body: (async function* () {
        yield body;
      })(),
    };
  };
  // Keep the handler's own properties (requestPath, method, service, ...).
  return Object.assign(wrapped, handler);
}

const handler = connectNodeAdapter({
  fallback,
  routes(router) {
    router.service(Calculator, calculator);
    router.handlers.forEach((h, i) => router.handlers[i] = withBadBodyAsInvalid(h));
  },
});

const server = createServer(handler);
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  process.stdout.write(`listening http://127.0.0.1:${port}/\n`);
});

// SIGTERM / SIGINT: stop accepting, let calls in flight finish (idle
// keep-alive connections are closed by close() itself since Node 19), exit 0.
// Anything still open after 5 s is cut.
function shutdown(signal) {
  process.stderr.write(`connect_server: ${signal}, closing\n`);
  server.close(() => process.exit(0));
  setTimeout(() => {
    server.closeAllConnections();
    process.exit(0);
  }, 5_000).unref();
}
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
