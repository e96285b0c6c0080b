/**
 * Self-description with OpenRPC (open-rpc.org): the document of a service's
 * methods, their params and results as JSON Schema (derived from zod
 * schemas where the service has them), served at `rpc.discover`.
 *
 * @module
 */

import { createDispatcher, listMethods } from "./dispatch.ts";
import { combineServices } from "./dispatch.ts";
import type { Service } from "./service.ts";

/** What the document says about the service itself. */
export interface OpenRpcInfo {
  /** The service's name; "parley service" by default. */
  readonly title?: string;
  /** Its version; "0.0.0" by default. */
  readonly version?: string;
  /** A line for humans. */
  readonly description?: string;
}

/** One parameter or result: its name and JSON Schema. */
export interface OpenRpcContentDescriptor {
  /** The name. */
  readonly name: string;
  /** The JSON Schema of its values (`{}` when anything goes). */
  readonly schema: Record<string, unknown>;
  /** Whether it must be given. */
  readonly required?: boolean;
}

/** One method of the document. */
export interface OpenRpcMethod {
  /** The method's name. */
  readonly name: string;
  /** What it does, when the service says. */
  readonly description?: string;
  /** Its params, in order. */
  readonly params: readonly OpenRpcContentDescriptor[];
  /** Its result. */
  readonly result: OpenRpcContentDescriptor;
  /** `by-position`, or `either` when params also have names. */
  readonly paramStructure: "by-position" | "either";
}

/** An OpenRPC document. */
export interface OpenRpcDocument {
  /** The OpenRPC version. */
  readonly openrpc: "1.3.2";
  /** The service. */
  readonly info: {
    readonly title: string;
    readonly version: string;
    readonly description?: string;
  };
  /** Its methods, sorted by name. */
  readonly methods: readonly OpenRpcMethod[];
}

// What a zod 4 schema offers to describe itself (`z.toJSONSchema(schema)`
// as a method): asking the schema, rather than importing zod, keeps zod out
// of every module (and browser bundle) that merely might describe a service.
interface DescribesItself {
  toJSONSchema(params: { unrepresentable: "any"; io: "input" }): Record<string, unknown>;
}

function jsonSchema(schema: unknown): Record<string, unknown> {
  const describes = (schema as Partial<DescribesItself> | undefined)?.toJSONSchema;
  if (typeof describes !== "function") return {};
  try {
    const { $schema: _, ...rest } = describes.call(schema, { unrepresentable: "any", io: "input" });
    return rest;
  } catch {
    return {};
  }
}

/**
 * The OpenRPC document of a service: zod-defined methods with their schemas
 * and names, plain functions with their arity.
 *
 * @param service any service
 * @param info the title, version and description
 * @returns the document
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { defineService, method } from "./service.ts";
 * import { openRpcDocument } from "./openrpc.ts";
 *
 * const doc = openRpcDocument(defineService({
 *   add: method({
 *     params: z.tuple([z.number(), z.number()]),
 *     names: ["a", "b"],
 *     result: z.number(),
 *     description: "Adds",
 *     handler: (a, b) => a + b,
 *   }),
 * }));
 * assert.deepEqual(doc.methods[0]!.params.map((p) => p.name), ["a", "b"]);
 * assert.deepEqual(doc.methods[0]!.result.schema, { type: "number" });
 * ```
 */
export function openRpcDocument(service: Service, info: OpenRpcInfo = {}): OpenRpcDocument {
  const dispatch = createDispatcher(service);
  const methods: OpenRpcMethod[] = [];
  for (const name of listMethods(service)) {
    if (name === "rpc.discover") continue;
    const resolved = dispatch(name);
    const definition = resolved?.definition;
    if (definition !== undefined) {
      const items = definition.params.def.items;
      const names = definition.names;
      methods.push({
        name,
        ...(definition.description === undefined ? {} : { description: definition.description }),
        params: items.map((item, i) => ({
          name: names?.[i] ?? `arg${i}`,
          schema: jsonSchema(item),
          required: !((item as { _zod?: { optin?: string } })._zod?.optin === "optional"),
        })),
        result: { name: "result", schema: jsonSchema(definition.result) },
        paramStructure: names === undefined ? "by-position" : "either",
      });
      continue;
    }
    // A plain function: its arity, nothing more is known.
    const fn = (service as Record<string, unknown>)[name];
    const arity = typeof fn === "function" ? fn.length : 0;
    methods.push({
      name,
      params: Array.from({ length: arity }, (_, i) => ({ name: `arg${i}`, schema: {} })),
      result: { name: "result", schema: {} },
      paramStructure: "by-position",
    });
  }
  return {
    openrpc: "1.3.2",
    info: {
      title: info.title ?? "parley service",
      version: info.version ?? "0.0.0",
      ...(info.description === undefined ? {} : { description: info.description }),
    },
    methods,
  };
}

/**
 * A service that also answers `rpc.discover` with its OpenRPC document (the
 * OpenRPC specification's discovery method).
 *
 * @param service any service
 * @param info the title, version and description
 * @returns the service with `rpc.discover`
 *
 * @example A client discovers what a server offers
 * ```ts
 * import assert from "node:assert/strict";
 * import { type OpenRpcDocument, withOpenRpc } from "./openrpc.ts";
 * import { Peer } from "./peer.ts";
 * import { memoryPair } from "./testing.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const calculator = { add: (a: number, b: number) => a + b };
 * const service = withOpenRpc(calculator, { title: "Calculator", version: "1.0.0" });
 * const [a, b] = memoryPair();
 * const server = new Peer(a, { codec: jsonRpc(), service });
 * const client = new Peer(b, { codec: jsonRpc() });
 * const document = await client.call("rpc.discover") as OpenRpcDocument;
 * assert.deepEqual(document.info, { title: "Calculator", version: "1.0.0" });
 * assert.deepEqual(document.methods.map((m) => [m.name, m.params.length]), [["add", 2]]);
 * assert.equal(await client.call("add", [1, 2]), 3);
 * await client.close();
 * await server.closed;
 * ```
 */
export function withOpenRpc(service: Service, info: OpenRpcInfo = {}): Service {
  let document: OpenRpcDocument | undefined;
  return combineServices(service, {
    "rpc.discover": () => document ??= openRpcDocument(service, info),
  });
}
