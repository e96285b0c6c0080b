/**
 * The codecs parley ships, in one table: the command line (`--codec`), the
 * calculator of the interop contract, the defaults of framing by name and the
 * browser bundles read it, so that a new codec is its folder, one line here
 * and one line in deno.json's `exports`.
 *
 * Codecs load lazily (`load()` is a dynamic import), so that a program that
 * speaks JSON-RPC does not load protobufjs.
 *
 * @example Make the codec of a command-line name
 * ```ts
 * import { codecEntry } from "./registry.ts";
 * const entry = codecEntry("jsonrpc")!;
 * const create = await entry.load();
 * const { codec } = create({});
 * console.assert(codec.name === "jsonrpc");
 * console.assert(entry.framing.stream === "newline");
 * ```
 *
 * @module
 */

import type { Codec } from "../rpc/types.ts";
import type { ProtoSchema } from "./protobuf.ts";
import type { ThriftSchema } from "./thrift.ts";

/** What a command line says about the codec it wants. */
export interface CodecSetup {
  /** Doubles decode as `Float`s (JSON-RPC, msgpack-rpc), so that `2.0` prints as 2.0. */
  readonly keepFloats?: boolean | undefined;
  /** The IDL files an entry with {@linkcode CodecEntry.idl} needs, read already: name → text. */
  readonly idl?: Readonly<Record<string, string>> | undefined;
  /** Thrift's protocol (`binary` when absent). */
  readonly protocol?: "binary" | "compact" | undefined;
  /** Thrift's service (`Service:method` names are multiplexed). */
  readonly service?: string | undefined;
}

/** A codec made by an entry's factory, with the schema it was made from, if any. */
export interface MadeCodec {
  /** The codec. */
  readonly codec: Codec;
  /** protobuf's schema, which the Connect client and `list` read. */
  readonly protoSchema?: ProtoSchema;
  /** Thrift's schema, which `list` and the params' conversion read. */
  readonly thriftSchema?: ThriftSchema;
}

/** Makes a codec from a command line's setup. */
export type CodecFactory = (setup: CodecSetup) => MadeCodec;

/** The ways a server describes its methods, asked in an entry's order. */
export type Introspection = "rpc.discover" | "nvim_get_api_info" | "system.listMethods";

/** One codec: its names, where it lives, its defaults and how to make it. */
export interface CodecEntry {
  /** Its name on command lines (`--codec`); its `Codec.name` may differ (`msgpack-rpc`). */
  readonly name: string;
  /** Its path in deno.json's `exports`, such as `"./json-rpc"`. */
  readonly exportPath: string;
  /** Its module, relative to this folder (what `exportPath` names). */
  readonly module: string;
  /** Whether it runs in a browser (no Node-only packages). */
  readonly browser: boolean;
  /** Its framing on byte streams when none is asked for: sockets, and a child's stdio. */
  readonly framing: { readonly stream: string; readonly stdio: string };
  /** Its conventional path on HTTP (`/` for Connect, whose paths are the methods). */
  readonly httpPath: string;
  /** HTTP: a body per call with the codec (`post`), or the Connect protocol. */
  readonly http: "post" | "connect";
  /**
   * The IDL it cannot work without: the command-line flag that reads it and
   * what to say when it is missing. Codecs without one can be served from a
   * plain module (`parley serve`).
   */
  readonly idl?: { readonly flag: "proto" | "thrift"; readonly missing: string };
  /** How servers of this codec describe themselves, in the order `list` asks. */
  readonly introspection: readonly Introspection[];
  /** Loads the codec's module and returns its factory. */
  readonly load: () => Promise<CodecFactory>;
}

/**
 * Every codec, the command line's default (`jsonrpc`) first. A new codec
 * adds its line here (and its export to deno.json); the command line, the
 * calculator and the browser bundles find it from here.
 *
 * @example What the command line's `--codec` accepts
 * ```ts
 * import { CODEC_REGISTRY } from "./registry.ts";
 * const needIdl = CODEC_REGISTRY.filter((entry) => entry.idl !== undefined);
 * console.assert(needIdl.map((entry) => entry.name).join() === "protobuf,thrift");
 * ```
 */
export const CODEC_REGISTRY: readonly CodecEntry[] = [
  {
    name: "jsonrpc",
    exportPath: "./json-rpc",
    module: "./json_rpc.ts",
    browser: true,
    // On a child's stdio JSON-RPC speaks LSP's headers.
    framing: { stream: "newline", stdio: "content-length" },
    httpPath: "/rpc",
    http: "post",
    introspection: ["rpc.discover", "system.listMethods"],
    load: async () => {
      const { jsonRpc } = await import("./json_rpc.ts");
      return (setup) => ({ codec: jsonRpc(setup.keepFloats ? { keepFloats: true } : {}) });
    },
  },
  {
    name: "xmlrpc",
    exportPath: "./xml-rpc",
    module: "./xml_rpc.ts",
    browser: true,
    framing: { stream: "length-prefix", stdio: "length-prefix" },
    httpPath: "/RPC2",
    http: "post",
    introspection: ["system.listMethods"],
    load: async () => {
      const { xmlRpc } = await import("./xml_rpc.ts");
      return () => ({ codec: xmlRpc() });
    },
  },
  {
    name: "msgpack",
    exportPath: "./msgpack-rpc",
    module: "./msgpack_rpc.ts",
    browser: true,
    framing: { stream: "self-delimiting", stdio: "self-delimiting" },
    httpPath: "/rpc",
    http: "post",
    introspection: ["rpc.discover", "nvim_get_api_info", "system.listMethods"],
    load: async () => {
      const { msgpackRpc } = await import("./msgpack_rpc.ts");
      return (setup) => ({ codec: msgpackRpc(setup.keepFloats ? { keepFloats: true } : {}) });
    },
  },
  {
    name: "protobuf",
    exportPath: "./protobuf",
    module: "./protobuf.ts",
    browser: true,
    framing: { stream: "length-prefix", stdio: "length-prefix" },
    httpPath: "/",
    http: "connect",
    idl: { flag: "proto", missing: "needs the service's .proto file: --proto FILE" },
    introspection: [],
    load: async () => {
      const { loadProto, protobufRpc } = await import("./protobuf.ts");
      return (setup) => {
        const protoSchema = loadProto(setup.idl ?? {});
        return { codec: protobufRpc({ schema: protoSchema }), protoSchema };
      };
    },
  },
  {
    name: "thrift",
    exportPath: "./thrift",
    module: "./thrift.ts",
    browser: false, // the thrift package needs Node
    framing: { stream: "framed", stdio: "framed" },
    httpPath: "/thrift",
    http: "post",
    idl: { flag: "thrift", missing: "needs the service's IDL: --thrift FILE" },
    introspection: [],
    load: async () => {
      const { loadThrift, thriftRpc } = await import("./thrift.ts");
      return (setup) => {
        const thriftSchema = loadThrift(setup.idl ?? {});
        // `Service:method` names, or an IDL of several services, are multiplexed.
        const multiplexed = setup.service?.includes(":") === true ||
          (setup.service === undefined && thriftSchema.services.size > 1);
        const codec = thriftRpc({
          schema: thriftSchema,
          protocol: setup.protocol ?? "binary",
          ...(setup.service === undefined ? {} : { service: setup.service }),
          multiplexed,
        });
        return { codec, thriftSchema };
      };
    },
  },
];

/**
 * The command-line names of the codecs, in {@linkcode CODEC_REGISTRY}'s order.
 *
 * @example
 * ```ts
 * import { CODEC_NAMES } from "./registry.ts";
 * console.assert(CODEC_NAMES.join(", ") === "jsonrpc, xmlrpc, msgpack, protobuf, thrift");
 * ```
 */
export const CODEC_NAMES: readonly string[] = CODEC_REGISTRY.map((entry) => entry.name);

/**
 * The entry of a command-line name.
 *
 * @example
 * ```ts
 * import { codecEntry } from "./registry.ts";
 * console.assert(codecEntry("xmlrpc")?.httpPath === "/RPC2");
 * console.assert(codecEntry("soap") === undefined);
 * ```
 *
 * @param name such as `"msgpack"`
 * @returns its entry, or `undefined` for a name no codec has
 */
export function codecEntry(name: string): CodecEntry | undefined {
  return CODEC_REGISTRY.find((entry) => entry.name === name);
}

/**
 * The codecs that run in a browser, each with its module: what the browser
 * bundles are built from.
 *
 * @example
 * ```ts
 * import { browserCodecs } from "./registry.ts";
 * const modules = browserCodecs().map((entry) => entry.module);
 * console.assert(modules.includes("./json_rpc.ts"));
 * console.assert(!modules.includes("./thrift.ts"));
 * ```
 *
 * @returns the browser-capable entries
 */
export function browserCodecs(): CodecEntry[] {
  return CODEC_REGISTRY.filter((entry) => entry.browser);
}
