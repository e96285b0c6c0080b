// What `list` shows: the methods a server describes, from whichever
// self-description it has (OpenRPC's rpc.discover, XML-RPC's system.*
// methods, gRPC reflection) or from the IDL given (protobuf, Thrift).

import type { ThriftType } from "../codecs/thrift.ts";
import type { OpenRpcDocument } from "../rpc/openrpc.ts";
import { entryOf, type OpenClient } from "./client.ts";

/** One method as `list` prints it. */
export interface MethodDescription {
  /** Its name as it is called. */
  readonly name: string;
  /** Its params, `name: type` each. */
  readonly params: readonly string[];
  /** Its result's type. */
  readonly result: string;
  /** What it does, when the server says. */
  readonly description?: string;
}

/** What `list` found and where. */
export interface Description {
  /**
   * Where it came from: `rpc.discover`, `system.listMethods`, `gRPC reflection`,
   * `.proto`, `.thrift`.
   */
  readonly source: string;
  /** The methods, sorted by name. */
  readonly methods: readonly MethodDescription[];
  /** The raw document, for `--json` (OpenRPC's, or one built from the others). */
  readonly document: unknown;
}

function schemaType(schema: Record<string, unknown>): string {
  if (Array.isArray(schema.anyOf)) {
    return (schema.anyOf as Record<string, unknown>[]).map(schemaType).join(" | ");
  }
  if (schema.type === "array") {
    if (Array.isArray(schema.prefixItems)) {
      return `[${(schema.prefixItems as Record<string, unknown>[]).map(schemaType).join(", ")}]`;
    }
    return `${schemaType((schema.items ?? {}) as Record<string, unknown>)}[]`;
  }
  if (schema.type === "object" && typeof schema.properties === "object") {
    const props = Object.entries(schema.properties as Record<string, Record<string, unknown>>)
      .map(([k, v]) => `${k}: ${schemaType(v)}`);
    return `{ ${props.join(", ")} }`;
  }
  if (typeof schema.type === "string") return schema.type;
  if (Array.isArray(schema.type)) return schema.type.join(" | ");
  if ("const" in schema) return JSON.stringify(schema.const);
  return "any";
}

function thriftTypeName(type: ThriftType): string {
  switch (type.kind) {
    case "list":
    case "set":
      return `${type.kind}<${thriftTypeName(type.element)}>`;
    case "map":
      return `map<${thriftTypeName(type.key)}, ${thriftTypeName(type.value)}>`;
    case "enum":
    case "struct":
      return type.name;
    default:
      return type.kind;
  }
}

/** Asks the server (or reads the IDL) what it serves. */
export async function describe(client: OpenClient, codec: string): Promise<Description> {
  if (client.protoSchema !== undefined) {
    // Through reflection: the services the server listed (their files may declare others).
    const listed = client.reflected === undefined ? undefined : new Set(client.reflected);
    const methods = [...client.protoSchema.methods.values()]
      .filter((m) => listed === undefined || listed.has(m.service))
      .map((m) => ({
        name: m.name,
        params: [
          m.clientStreaming ? `requests: stream ${m.request.name}` : `request: ${m.request.name}`,
        ],
        result: `${m.serverStreaming ? "stream " : ""}${m.response.name}`,
        kind: m.clientStreaming
          ? m.serverStreaming ? "bidi streaming" : "client streaming"
          : m.serverStreaming
          ? "server streaming"
          : "unary",
      }));
    const source = listed === undefined ? ".proto" : "gRPC reflection";
    const document = listed === undefined ? { methods } : { services: client.reflected, methods };
    return { source, methods: sorted(methods), document };
  }
  if (client.thriftSchema !== undefined) {
    const methods = [...client.thriftSchema.services.values()].flatMap((service) =>
      [...service.functions.values()].map((fn) => ({
        name: client.thriftSchema!.services.size > 1 ? `${service.name}:${fn.name}` : fn.name,
        params: fn.args.fields.map((f) => `${f.name}: ${thriftTypeName(f.type)}`),
        result: fn.oneway
          ? "oneway"
          : fn.returns === undefined
          ? "void"
          : thriftTypeName(fn.returns),
      }))
    );
    return { source: ".thrift", methods: sorted(methods), document: { methods } };
  }
  // Each way the codec's servers describe themselves, in the registry's order.
  const asks = entryOf(codec).introspection;
  if (asks.includes("rpc.discover")) {
    try {
      const document = await client.call("rpc.discover", undefined) as OpenRpcDocument;
      const methods = document.methods.map((m) => ({
        name: m.name,
        params: m.params.map((p) =>
          `${p.name}${p.required === false ? "?" : ""}: ${schemaType(p.schema)}`
        ),
        result: schemaType(m.result.schema),
        ...(m.description === undefined ? {} : { description: m.description }),
      }));
      return { source: "rpc.discover", methods: sorted(methods), document };
    } catch {
      // No OpenRPC: try XML-RPC's introspection, which some JSON-RPC servers have too.
    }
  }
  const neovimToo = asks.includes("nvim_get_api_info");
  if (neovimToo) {
    const neovim = await neovimApi(client);
    if (neovim !== undefined) return neovim;
  }
  const names = await client.call("system.listMethods", []).catch((error: unknown) => {
    throw new Error(
      `The server describes itself through none of OpenRPC's rpc.discover, ${
        neovimToo ? "Neovim's nvim_get_api_info, " : ""
      }XML-RPC's system.listMethods (${(error as Error).message})${
        neovimToo ? ": msgpack-rpc itself has no way to list methods" : ""
      }`,
      { cause: error },
    );
  }) as string[];
  const methods = await Promise.all(names.map(async (name) => {
    const signatures = await client.call("system.methodSignature", [name]).catch(() => undefined);
    const help = await client.call("system.methodHelp", [name]).catch(() => "");
    const first = firstSignature(signatures);
    return {
      name,
      params: first === undefined ? ["..."] : first.slice(1),
      result: first?.[0] ?? "any",
      ...(typeof help === "string" && help !== "" ? { description: help } : {}),
    };
  }));
  return { source: "system.listMethods", methods: sorted(methods), document: { methods } };
}

// Neovim's API metadata: each function with its typed parameters.
async function neovimApi(client: OpenClient): Promise<Description | undefined> {
  let info: unknown;
  try {
    info = await client.call("nvim_get_api_info", []);
  } catch {
    return undefined;
  }
  const functions = Array.isArray(info) ? (info[1] as { functions?: unknown })?.functions : [];
  if (!Array.isArray(functions)) return undefined;
  const methods = functions.filter((fn) => fn?.deprecated_since === undefined).map((fn) => ({
    name: String(fn.name),
    params: (Array.isArray(fn.parameters) ? fn.parameters as [string, string][] : []).map((
      [type, name],
    ) => `${name}: ${type}`),
    result: String(fn.return_type ?? "any"),
  }));
  return { source: "nvim_get_api_info", methods: sorted(methods), document: info };
}

// The first signature system.methodSignature answers: the introspection
// specification's list of lists (["int", "int", "int"] in a list), or one
// signature as a flat list of type names, which supervisord (and other
// servers) answer; anything else ("undef", "signatures not supported") is none.
function firstSignature(answer: unknown): string[] | undefined {
  const signature = Array.isArray(answer) && Array.isArray(answer[0]) ? answer[0] : answer;
  return Array.isArray(signature) && signature.length > 0 &&
      signature.every((type) => typeof type === "string")
    ? signature
    : undefined;
}

function sorted(methods: MethodDescription[]): MethodDescription[] {
  return methods.sort((a, b) => a.name.localeCompare(b.name));
}
