/**
 * Serving one service of a Thrift schema under TMultiplexedProtocol's
 * names (`Calculator:add`), so that several services share one port.
 *
 * @module
 */

import { listMethods, prefixService } from "../../rpc/dispatch.ts";
import type { Service } from "../../rpc/service.ts";
import type { ThriftSchema } from "./schema.ts";

/**
 * Makes the object a peer serves for one Thrift service behind
 * TMultiplexedProtocol: `impl`'s methods, named as in the IDL (`add`),
 * become callable as `Service:method`. Combine several with
 * `combineServices` (or spread them) to serve several services on one port.
 *
 * @param schema the schema that declares the service
 * @param service the service's name, such as `"Calculator"`
 * @param impl the service, of any kind (plain object, class instance, zod
 * definition), its methods named as the IDL's functions
 * @returns the service to serve under multiplexed names
 * @throws {TypeError} when `impl` has a method the service does not declare
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadThrift } from "./schema.ts";
 * import { thriftService } from "./service.ts";
 * import { listMethods } from "../../rpc/dispatch.ts";
 *
 * const schema = loadThrift("service Echo { string echo(1: string text) }");
 * const served = thriftService(schema, "Echo", { echo: (text: string) => text });
 * assert.deepEqual(listMethods(served), ["Echo:echo"]);
 * ```
 */
export function thriftService(
  schema: ThriftSchema,
  service: string,
  impl: Service,
): Service {
  const functions = schema.service(service).functions;
  for (const name of listMethods(impl)) {
    if (!functions.has(name)) {
      throw new TypeError(
        `${service} has no function "${name}" (it has: ${[...functions.keys()].join(", ")})`,
      );
    }
  }
  return prefixService(`${service}:`, impl);
}
