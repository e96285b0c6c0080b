/**
 * A port of the `SimpleXMLRPCServer` example of Python's documentation
 * (https://docs.python.org/3/library/xmlrpc.server.html#simplexmlrpcserver-example)
 * to parley: XML-RPC over HTTP at `POST /RPC2`, serving `pow`, an adder
 * function registered as `add`, and the methods of a class instance (`mul`),
 * with introspection (`system.listMethods`, `system.methodHelp`,
 * `system.methodSignature`) and `system.multicall`.
 *
 * Unlike Python's server, the methods are defined with zod schemas, so their
 * params are validated and `system.methodSignature` answers real signatures.
 *
 * ```sh
 * deno task example:xmlrpc-server [--port 8000] [--hostname 127.0.0.1]
 * ```
 *
 * Prints exactly one line, `listening http://HOST:PORT/RPC2`, to stdout when
 * ready; logs go to stderr. SIGINT or SIGTERM: stops accepting, finishes the
 * requests in flight, exits 0. `examples/xmlrpc_client.ts` is its client.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { z } from "zod";
import { xmlRpc } from "../codecs/xml_rpc.ts";
import {
  combineServices,
  defineService,
  method,
  RpcError,
  type Service,
  withSystemMethods,
} from "../mod.ts";
import { serveHttp } from "../rpc/transports/http.ts";

/** The path the server answers on, as `rpc_paths = ('/RPC2',)` in Python's example. */
export const RPC_PATH = "/RPC2";

const USAGE = `Usage: deno task example:xmlrpc-server [--port 8000] [--hostname 127.0.0.1]

Options:
  --port P       the port to listen on (default 8000; 0 picks a free one)
  --hostname H   the address to listen on (default 127.0.0.1)`;

/** Python's example registers an instance: all its public methods are published. */
export class MyFuncs {
  /**
   * Multiplies two numbers.
   *
   * @param x the first factor
   * @param y the second factor
   * @returns their product
   */
  mul(x: number, y: number): number {
    return x * y;
  }
}

// XML-RPC cannot carry Infinity or NaN; Python raises OverflowError instead.
function finite(name: string, value: number): number {
  if (!Number.isFinite(value)) throw new RpcError(1, `OverflowError: ${name} is out of range`);
  return value;
}

/** Python's example registers `adder_function` under the name `add`. */
function adderFunction(x: number, y: number): number {
  return x + y;
}

const number = z.number();

/**
 * The example's methods, with zod schemas and descriptions, and XML-RPC's
 * `system.*` methods next to them.
 *
 * @param funcs the instance whose methods are published (`register_instance`)
 * @returns the service to serve
 */
export function createExampleService(funcs: MyFuncs = new MyFuncs()): Service {
  // register_function(pow) and register_function(adder_function, "add").
  const functions = defineService({
    pow: method({
      params: z.tuple([number, number]),
      names: ["base", "exp"],
      result: number,
      description: "pow(base, exp): base to the power exp, as Python's pow(base, exp)",
      handler: (base, exp) => finite("pow()", base ** exp),
    }),
    add: method({
      params: z.tuple([number, number]),
      names: ["x", "y"],
      result: number,
      description: "add(x, y): the sum x + y (adder_function in Python's example)",
      handler: (x, y) => finite("add()", adderFunction(x, y)),
    }),
  });
  // register_instance(MyFuncs()): each of its methods, typed.
  const instance = defineService({
    mul: method({
      params: z.tuple([number, number]),
      names: ["x", "y"],
      result: number,
      description: "mul(x, y): the product x * y (a method of the MyFuncs instance)",
      handler: (x, y) => finite("mul()", funcs.mul(x, y)),
    }),
  });
  // register_introspection_functions() and register_multicall_functions().
  return withSystemMethods(combineServices(functions, instance));
}

function fail(message: string): never {
  console.error(`xmlrpc_server: ${message}\n\n${USAGE}`);
  Deno.exit(2);
}

function parseCommandLine(args: string[]): { port: number; hostname: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        port: { type: "string", default: "8000" },
        hostname: { type: "string", default: "127.0.0.1" },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) fail(`invalid port "${values.port}"`);
  return { port, hostname: values.hostname };
}

if (import.meta.main) {
  const { port, hostname } = parseCommandLine(Deno.args);
  const server = serveHttp({
    hostname,
    port,
    routes: { [RPC_PATH]: { codec: xmlRpc(), service: createExampleService() } },
    onError: (error) =>
      console.error("xmlrpc_server:", error instanceof Error ? error.message : error),
  });
  console.log(`listening ${server.url}${RPC_PATH}`);

  const stop = (): void => {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    console.error("xmlrpc_server: shutting down");
    void server.shutdown();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
}
