/**
 * XML-RPC's introspection and multicall (`system.listMethods`,
 * `system.methodHelp`, `system.methodSignature`, `system.multicall`,
 * `system.getCapabilities`), served next to any service. Signatures come from
 * the zod schemas of a {@linkcode defineService} service, so they are real
 * (Python's own server can only answer that signatures are not supported).
 *
 * @module
 */

import { combineServices, createDispatcher, listMethods, toErrorObject } from "./dispatch.ts";
import { ErrorCode, RpcError } from "./errors.ts";
import { type CallContext, type Service, withContext } from "./service.ts";

const MULTICALL = "system.multicall";

/** What a zod schema looks like from the inside, as far as signatures need. */
interface SchemaInternals {
  readonly def?: {
    readonly type?: string;
    readonly innerType?: unknown;
    readonly in?: unknown;
    readonly options?: readonly unknown[];
  };
  readonly isInt?: boolean;
  readonly minValue?: number | null;
  readonly maxValue?: number | null;
  readonly _zod?: { readonly bag?: { readonly Class?: unknown } };
}

// What the system methods say about themselves, as Python's server does.
const SYSTEM_DOCS = new Map<unknown, { help: string; signature: string[] }>([
  ["system.listMethods", {
    help: "Returns the names of the methods the server offers.",
    signature: ["array"],
  }],
  ["system.methodHelp", {
    help: "Returns the help text of a method.",
    signature: ["string", "string"],
  }],
  ["system.methodSignature", {
    help: "Returns the signatures of a method: arrays of its result type, then its params' types.",
    signature: ["array", "string"],
  }],
  ["system.getCapabilities", {
    help: "Returns the specifications the server implements.",
    signature: ["struct"],
  }],
  [MULTICALL, {
    help: "Runs several calls in one request; each result, or a fault struct, in its slot.",
    signature: ["array", "array"],
  }],
]);

/** One entry of `system.getCapabilities`: where a specification is and which version. */
interface Capability {
  readonly specUrl: string;
  readonly specVersion: number;
}

// The keys and URLs of the getCapabilities convention (Dan Libby's proposal,
// answered so by phpxmlrpc, Drupal and WordPress's IXR), so that clients
// testing for a key find it: "xmlrpc", "system.multicall", "introspection"
// (xmlrpc-c's specification, whose lists of signatures system.methodSignature
// answers), "faults_interop" (the -32xxx fault codes) and "nil" (the OntoSys
// page that phpxmlrpc, Apache XML-RPC and xmlrpc-c cite, version 1). No
// library has a key for 64-bit integers: "i8", with Apache XML-RPC's types
// page, where the type is specified (as <ex:i8>; xmlrpc-c and Python write it
// without the prefix, as parley does, and all of them read both).
const CAPABILITIES: Readonly<Record<string, Capability>> = {
  xmlrpc: { specUrl: "http://www.xmlrpc.com/spec", specVersion: 1 },
  "system.multicall": { specUrl: "http://www.xmlrpc.com/discuss/msgReader$1208", specVersion: 1 },
  introspection: { specUrl: "http://xmlrpc-c.sourceforge.net/introspection.html", specVersion: 1 },
  faults_interop: {
    specUrl: "http://xmlrpc-epi.sourceforge.net/specs/rfc.fault_codes.php",
    specVersion: 20010516,
  },
  nil: { specUrl: "http://www.ontosys.com/xml-rpc/extensions.php", specVersion: 1 },
  i8: { specUrl: "http://ws.apache.org/xmlrpc/types.html", specVersion: 1 },
};

/**
 * Serves `service` together with XML-RPC's `system.*` methods.
 *
 * @param service the service to describe and serve
 * @returns a service answering both
 *
 * @example Introspection and multicall next to a calculator
 * ```ts
 * import assert from "node:assert/strict";
 * import { withSystemMethods } from "./system_methods.ts";
 * import { Peer } from "./peer.ts";
 * import { memoryPair } from "./testing.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const calculator = { add: (a: number, b: number) => a + b };
 * const [a, b] = memoryPair();
 * const server = new Peer(a, { codec: jsonRpc(), service: withSystemMethods(calculator) });
 * const client = new Peer(b, { codec: jsonRpc() });
 * const names = await client.call("system.listMethods", []) as string[];
 * assert.ok(names.includes("add") && names.includes("system.multicall"));
 * const calls = [{ methodName: "add", params: [1, 2] }, { methodName: "nope", params: [] }];
 * const [sum, fault] = await client.call("system.multicall", [calls]) as unknown[];
 * assert.deepEqual(sum, [3]);
 * assert.equal((fault as { faultCode: number }).faultCode, -32601);
 * await client.close();
 * await server.closed;
 * ```
 */
export function withSystemMethods(service: Service): Service {
  const dispatchService = createDispatcher(service);
  const system = {
    "system.listMethods": (): string[] => [...listMethods(service), ...Object.keys(system)].sort(),
    "system.methodHelp": (name: string): string =>
      SYSTEM_DOCS.get(name)?.help ?? resolve(name).definition?.description ?? "",
    "system.methodSignature": (name: string): string[][] | string => {
      const own = SYSTEM_DOCS.get(name);
      if (own !== undefined) return [own.signature];
      const definition = resolve(name).definition;
      if (definition === undefined) return "undef";
      const items = (definition.params.def.items as readonly unknown[]).map(xmlRpcType);
      return [[xmlRpcType(definition.result), ...items]];
    },
    "system.getCapabilities": (): Record<string, Capability> => CAPABILITIES,
    [MULTICALL]: withContext((ctx: CallContext, calls: unknown) => multicall(dispatch, calls, ctx)),
  };
  const combined = combineServices(system, service);
  const dispatch = createDispatcher(combined);

  function resolve(name: unknown) {
    const resolved = typeof name === "string" ? dispatchService(name) : undefined;
    if (resolved === undefined) {
      throw new RpcError(ErrorCode.MethodNotFound, "Method not found", { method: name });
    }
    return resolved;
  }

  return combined;
}

// Each call's outcome in its slot: [result], or a fault struct, as Python's
// server answers; the calls run one after the other.
async function multicall(
  dispatch: ReturnType<typeof createDispatcher>,
  calls: unknown,
  ctx: CallContext,
): Promise<unknown[]> {
  if (!Array.isArray(calls)) {
    throw new RpcError(ErrorCode.InvalidParams, "system.multicall takes an array of calls");
  }
  const outcomes: unknown[] = [];
  for (const call of calls) {
    try {
      const { methodName, params } = (call ?? {}) as { methodName?: unknown; params?: unknown };
      if (typeof methodName !== "string" || (params !== undefined && !Array.isArray(params))) {
        throw new RpcError(
          ErrorCode.InvalidRequest,
          "Each call needs a methodName and params array",
        );
      }
      if (methodName === MULTICALL) {
        throw new RpcError(ErrorCode.InvalidRequest, "Recursive system.multicall is forbidden");
      }
      const resolved = dispatch(methodName);
      if (resolved === undefined) throw new RpcError(ErrorCode.MethodNotFound, "Method not found");
      outcomes.push([(await resolved.invoke(params ?? [], ctx)) ?? null]);
    } catch (error) {
      const { code, message } = toErrorObject(error, false);
      outcomes.push({ faultCode: code, faultString: message });
    }
  }
  return outcomes;
}

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

// The XML-RPC type a zod schema describes; "undef" when it has none.
function xmlRpcType(schema: unknown): string {
  const s = schema as SchemaInternals;
  const def = s.def ?? {};
  switch (def.type) {
    case "number":
      if (!s.isInt) return "double";
      return (s.minValue ?? -Infinity) >= I32_MIN && (s.maxValue ?? Infinity) <= I32_MAX
        ? "int"
        : "i8";
    case "bigint":
      return "i8";
    case "string":
      return "string";
    case "boolean":
      return "boolean";
    case "date":
      return "dateTime.iso8601";
    case "array":
    case "tuple":
      return "array";
    case "object":
    case "record":
      return "struct";
    case "null":
    case "void":
    case "undefined":
      return "nil";
    case "custom":
      return s._zod?.bag?.Class === Uint8Array ? "base64" : "undef";
    case "optional":
    case "nullable":
    case "default":
    case "readonly":
      return xmlRpcType(def.innerType);
    case "pipe":
      return xmlRpcType(def.in);
    case "union": {
      const types = new Set((def.options ?? []).map(xmlRpcType));
      if (types.size === 1) return [...types][0]!;
      if (types.has("base64")) return "base64"; // bytes: Uint8Array, or base64 text
      if (types.size === 2 && types.has("int") && types.has("i8")) return "i8";
      return "undef";
    }
    default:
      return "undef";
  }
}
