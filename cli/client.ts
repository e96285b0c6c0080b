// Opening a client for an endpoint with the chosen codec and framing.

import { connectClient } from "../protocols/connect.ts";
import { framingByName } from "../rpc/framing/by_name.ts";
import { connectHttp } from "../rpc/transports/http.ts";
import { spawnStdio } from "../rpc/transports/stdio.ts";
import { connectTcp } from "../rpc/transports/tcp.ts";
import { tlsClient } from "../rpc/transports/tls.ts";
import { connectWebSocket } from "../rpc/transports/websocket.ts";
import type { RpcParams } from "../rpc/types.ts";
import type { ProtoSchema } from "../codecs/protobuf.ts";
import type { ThriftSchema } from "../codecs/thrift.ts";
import { CODEC_NAMES, type CodecEntry, codecEntry, type MadeCodec } from "../codecs/registry.ts";
import { type Endpoint, UsageError } from "./endpoint.ts";
import { openGrpcClient } from "./grpc.ts";

/**
 * The codecs the CLI speaks: every codec of the registry, the default first.
 *
 * @example
 * ```ts
 * import { CODECS } from "./client.ts";
 * console.assert(CODECS[0] === "jsonrpc" && CODECS.includes("thrift"));
 * ```
 */
export const CODECS: readonly string[] = CODEC_NAMES;
/** One of {@linkcode CODECS}. */
export type CodecName = string;

/** What a command says about the connection. */
export interface ClientOptions {
  readonly codec: CodecName;
  readonly framing?: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeout?: number | undefined;
  /** `.proto` files (protobuf) and `.thrift` files (thrift), read already: name → text. */
  readonly proto?: Readonly<Record<string, string>> | undefined;
  readonly thrift?: Readonly<Record<string, string>> | undefined;
  readonly protocol?: "binary" | "compact" | undefined;
  readonly service?: string | undefined;
  /** CA certificates (PEM text) to trust for tls://, https:// and wss://. */
  readonly caCerts?: readonly string[] | undefined;
}

/** What the commands use. */
export interface OpenClient {
  call(method: string, params: RpcParams | undefined): Promise<unknown>;
  notify(method: string, params: RpcParams | undefined): Promise<void>;
  close(): Promise<void>;
  readonly protoSchema?: ProtoSchema;
  readonly thriftSchema?: ThriftSchema;
  /** Server-streaming calls (gRPC): the messages as they come. */
  stream?(method: string, params: RpcParams | undefined): AsyncIterable<unknown>;
  /** The services a gRPC server listed through reflection (their schema is `protoSchema`). */
  readonly reflected?: readonly string[];
}

/**
 * The default framing of a codec on a byte stream (stdio: LSP's headers for JSON-RPC).
 *
 * @example
 * ```ts
 * import { defaultFraming } from "./client.ts";
 * console.assert(defaultFraming("jsonrpc", true) === "content-length");
 * console.assert(defaultFraming("thrift", false) === "framed");
 * ```
 *
 * @param codec the codec's name
 * @param stdio over a child's pipes rather than a socket
 * @returns the framing's name, for `framingByName`
 * @throws {UsageError} for a name no codec has
 */
export function defaultFraming(codec: CodecName, stdio: boolean): string {
  return entryOf(codec).framing[stdio ? "stdio" : "stream"];
}

/**
 * The registry's entry of a codec name.
 *
 * @example
 * ```ts
 * import { entryOf } from "./client.ts";
 * console.assert(entryOf("protobuf").idl?.flag === "proto");
 * ```
 *
 * @param codec the name `--codec` was given
 * @returns its entry
 * @throws {UsageError} for a name no codec has, listing the names there are
 */
export function entryOf(codec: CodecName): CodecEntry {
  return codecEntry(codec) ??
    (() => {
      throw new UsageError(`Unknown codec "${codec}": use ${CODECS.join(", ")}`);
    })();
}

async function makeCodec(options: ClientOptions): Promise<MadeCodec> {
  const entry = entryOf(options.codec);
  const idl = entry.idl === undefined ? undefined : options[entry.idl.flag];
  if (entry.idl !== undefined && idl === undefined) {
    throw new UsageError(`--codec ${entry.name} ${entry.idl.missing}`);
  }
  const create = await entry.load();
  // Doubles decode as Floats, so that `2.0` (and Neovim's 1.0) prints as 2.0.
  return create({
    keepFloats: true,
    idl,
    protocol: options.protocol,
    service: options.service,
  });
}

/**
 * Connects to `endpoint`.
 *
 * @throws {UsageError} for a codec or framing that does not fit
 * @throws {Error} the transport's error when it cannot connect
 */
export async function openClient(endpoint: Endpoint, options: ClientOptions): Promise<OpenClient> {
  if (endpoint.kind === "rpyc") throw new UsageError("rpyc:// is Python's RPyC: see cli/rpyc.ts");
  if (endpoint.kind === "grpc") {
    // gRPC is protobuf's: --codec does not apply, the schema is --proto's or the server's.
    const client = await openGrpcClient(endpoint.url, {
      proto: options.proto,
      headers: options.headers,
      timeout: options.timeout,
      caCerts: options.caCerts,
    });
    return { ...client, notify: () => Promise.reject(new UsageError("gRPC has no notifications")) };
  }
  const entry = entryOf(options.codec);
  const { codec, protoSchema, thriftSchema } = await makeCodec(options);
  const schemas = {
    ...(protoSchema === undefined ? {} : { protoSchema }),
    ...(thriftSchema === undefined ? {} : { thriftSchema }),
  };
  const timeout = options.timeout === undefined ? {} : { timeout: options.timeout };
  if (endpoint.kind === "http" && endpoint.unixSocket === true) {
    if (options.caCerts !== undefined) {
      throw new UsageError("--ca does not apply to http+unix://: a Unix socket carries plain HTTP");
    }
    if (entry.http === "connect") {
      throw new UsageError(`Connect (--codec ${entry.name}) is not offered over http+unix://`);
    }
  }
  // A private CA for https:// and wss://: a client that trusts it.
  const tls = options.caCerts === undefined || endpoint.kind === "tcp"
    ? undefined
    : tlsClient({ caCerts: options.caCerts });
  switch (endpoint.kind) {
    case "http": {
      if (entry.http === "connect") {
        // protobuf over HTTP is the Connect protocol; the URL is its base.
        const client = connectClient(endpoint.url, {
          schema: protoSchema!,
          format: "proto",
          headers: options.headers,
          ...(tls === undefined ? {} : { fetch: tls.fetch }),
          ...timeout,
        });
        return {
          call: (method, params) => client.call(method, params),
          notify: () => Promise.reject(new UsageError("Connect has no notifications")),
          close: () => client.close(),
          ...schemas,
        };
      }
      const client = connectHttp(endpoint.url, {
        codec,
        headers: options.headers,
        ...(tls === undefined ? {} : { fetch: tls.fetch }),
        ...timeout,
      });
      return {
        call: (method, params) => client.call(method, params),
        notify: (method, params) => client.notify(method, params),
        close: () => client.close(),
        ...schemas,
      };
    }
    case "ws": {
      const peer = await connectWebSocket(endpoint.url, {
        codec,
        ...(tls === undefined ? {} : { WebSocket: tls.WebSocket }),
        ...timeout,
      });
      return { ...wrap(peer), ...schemas };
    }
    default: {
      const name = options.framing ?? defaultFraming(options.codec, endpoint.kind === "stdio");
      const framing = framingByName(name, codec);
      if (framing === undefined) {
        throw new UsageError(
          `Framing "${name}" does not fit codec ${options.codec}: try newline, length-prefix, varint, content-length or self-delimiting`,
        );
      }
      if (endpoint.kind === "stdio") {
        const [command, ...args] = endpoint.command;
        const child = spawnStdio(command!, { args, codec, framing, stderr: "inherit", ...timeout });
        return { ...wrap(child), ...schemas };
      }
      const address = endpoint.kind === "unix"
        ? { transport: "unix" as const, path: endpoint.path }
        : endpoint.tls
        ? {
          transport: "tls" as const,
          hostname: endpoint.hostname,
          port: endpoint.port,
          ...(options.caCerts === undefined ? {} : { caCerts: options.caCerts }),
        }
        : { hostname: endpoint.hostname, port: endpoint.port };
      const peer = await connectTcp(address, {
        codec,
        framing,
        connectTimeout: 10_000,
        ...timeout,
      });
      return { ...wrap(peer), ...schemas };
    }
  }
}

function wrap(peer: {
  call(method: string, params?: RpcParams): Promise<unknown>;
  notify(method: string, params?: RpcParams): Promise<void>;
  close(): Promise<void>;
}): Pick<OpenClient, "call" | "notify" | "close"> {
  return {
    call: (method, params) => peer.call(method, params),
    notify: (method, params) => peer.notify(method, params),
    close: () => peer.close(),
  };
}
