/**
 * A port of the XML-RPC client of Python's documentation (the
 * `xmlrpc.client.ServerProxy` and `MultiCall` examples that go with the
 * `SimpleXMLRPCServer` example) to parley: it lists the server's methods,
 * prints the help and signature of each, calls `pow(2, 3)`, `add(2, 3)` and
 * `mul(5, 2)`, then the same three in one `system.multicall`.
 *
 * ```sh
 * deno task example:xmlrpc-client [URL]   # default http://127.0.0.1:8000/RPC2
 * ```
 *
 * It talks to `examples/xmlrpc_server.ts` or to Python's own example server
 * alike (whose `system.methodSignature` answers "signatures not supported").
 * Exits 1 on any failure, with the reason on stderr.
 *
 * @module
 */

import { xmlRpc } from "../codecs/xml_rpc.ts";
import { RpcError } from "../mod.ts";
import { connectHttp } from "../rpc/transports/http.ts";

/** Where Python's example server listens. */
export const DEFAULT_URL = "http://127.0.0.1:8000/RPC2";

/** One call of the tour: a method and its params. */
interface Call {
  readonly methodName: string;
  readonly params: readonly number[];
}

const CALLS: readonly Call[] = [
  { methodName: "pow", params: [2, 3] },
  { methodName: "add", params: [2, 3] },
  { methodName: "mul", params: [5, 2] },
];

function show(call: Call): string {
  return `${call.methodName}(${call.params.join(", ")})`;
}

/**
 * A `system.methodSignature` answer as text: each signature as
 * `result name(param, ...)`, or the server's own words when it has none
 * (`"undef"`, Python's `"signatures not supported"`).
 *
 * @param name the method's name
 * @param signature what the server answered
 * @returns one line per signature
 */
export function formatSignature(name: string, signature: unknown): string {
  if (!Array.isArray(signature)) return String(signature);
  return signature
    .map((types: unknown) => {
      if (!Array.isArray(types) || types.length === 0) return JSON.stringify(types);
      const [result, ...params] = types;
      return `${result} ${name}(${params.join(", ")})`;
    })
    .join("; ");
}

/**
 * Unwraps `system.multicall`'s outcomes: `[value]` for a call that
 * succeeded, a fault struct for one that failed (thrown as an `RpcError`).
 *
 * @param outcomes what `system.multicall` answered
 * @returns each call's value, in order
 * @throws {RpcError} for the first call that failed
 */
export function unwrapMulticall(outcomes: unknown): unknown[] {
  if (!Array.isArray(outcomes)) {
    throw new TypeError(`system.multicall answered ${JSON.stringify(outcomes)}, not an array`);
  }
  return outcomes.map((outcome: unknown) => {
    if (Array.isArray(outcome) && outcome.length === 1) return outcome[0];
    const fault = outcome as { faultCode?: unknown; faultString?: unknown } | null;
    if (typeof fault?.faultCode === "number") {
      throw new RpcError(fault.faultCode, String(fault.faultString ?? ""));
    }
    throw new TypeError(`system.multicall answered ${JSON.stringify(outcome)} for a call`);
  });
}

// A fault as text; anything else is rethrown.
function describeFault(error: unknown): string {
  if (error instanceof RpcError) return `(fault ${error.code}: ${error.message})`;
  throw error;
}

function indent(text: string): string {
  return text.split("\n").map((line) => line === "" ? "" : `    ${line}`).join("\n");
}

/**
 * Runs the tour against the server at `url`, printing to stdout.
 *
 * @param url the server's URL, such as `http://127.0.0.1:8000/RPC2`
 */
export async function tour(url: string): Promise<void> {
  await using client = connectHttp(url, { codec: xmlRpc(), timeout: 10_000 });

  const methods = await client.call<string[]>("system.listMethods");
  console.log(`system.listMethods() = ${methods.join(", ")}`);
  for (const name of methods) {
    // A server may not describe every method it lists: its fault is shown, not fatal.
    const [help, signature] = await Promise.all([
      client.call<string>("system.methodHelp", [name]).catch(describeFault),
      client.call<unknown>("system.methodSignature", [name]).then(
        (signature) => formatSignature(name, signature),
        describeFault,
      ),
    ]);
    console.log(name);
    console.log(`  signature: ${signature}`);
    console.log(help.includes("\n") ? `  help:\n${indent(help)}` : `  help: ${help || "(none)"}`);
  }

  for (const call of CALLS) {
    console.log(`${show(call)} = ${await client.call(call.methodName, [...call.params])}`);
  }

  const results = unwrapMulticall(await client.call("system.multicall", [CALLS]));
  console.log(`system.multicall(${CALLS.map(show).join(", ")}) = [${results.join(", ")}]`);
}

if (import.meta.main) {
  const url = Deno.args[0] ?? DEFAULT_URL;
  try {
    await tour(url);
  } catch (error) {
    const why = error instanceof RpcError
      ? `fault ${error.code}: ${error.message}`
      : error instanceof Error
      ? error.message
      : String(error);
    console.error(`xmlrpc_client: ${url}: ${why}`);
    Deno.exit(1);
  }
}
