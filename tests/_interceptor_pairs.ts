/**
 * The codec × transport pairs the interceptor suite (tests/_interceptor_suite.ts)
 * runs over: JSON-RPC, msgpack-rpc, the protobuf envelope, XML-RPC and
 * Thrift, each over TCP, TLS, a Unix socket, a child's stdio, HTTP POST, a
 * WebSocket and NATS. A pair knows how to serve a service with server
 * interceptors and connect a client with its own, and whether call
 * metadata travels over it.
 *
 * @module
 */

import { jsonRpc } from "../codecs/json_rpc.ts";
import { msgpackRpc } from "../codecs/msgpack_rpc.ts";
import { loadProto, protobufRpc } from "../codecs/protobuf.ts";
import { loadThrift, thriftRpc } from "../codecs/thrift.ts";
import { xmlRpc } from "../codecs/xml_rpc.ts";
import type { RpcClient } from "../rpc/client.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
import type { ContextFunction } from "../rpc/connection.ts";
import type { Interceptor } from "../rpc/interceptors.ts";
import type { Service } from "../rpc/service.ts";
import { connectHttp, serveHttp } from "../rpc/transports/http.ts";
import { connectNats, natsClient, serveNats } from "../rpc/transports/nats.ts";
import { spawnStdio } from "../rpc/transports/stdio.ts";
import { connectTcp, serveTcp } from "../rpc/transports/tcp.ts";
import { connectWebSocket } from "../rpc/transports/websocket.ts";
import type { Codec, Framing, RpcParams } from "../rpc/types.ts";
import { startNatsServer } from "../testing/nats_server.ts";
import { makeCertificates } from "./_certificates.ts";
import { needs } from "./_needs.ts";

const proto = loadProto(`
  syntax = "proto3";
  package demo;
  message AddRequest { int32 a = 1; int32 b = 2; }
  message AddReply { int32 sum = 1; }
  message LogRequest { string text = 1; }
  message Empty {}
  service Demo {
    rpc Add(AddRequest) returns (AddReply);
    rpc Fail(Empty) returns (Empty);
    rpc Log(LogRequest) returns (Empty);
  }
`);

const thrift = loadThrift(`
  struct AddReply { 1: i32 sum }
  service Demo {
    AddReply add(1: i32 a, 2: i32 b),
    void fail(),
    oneway void log(1: string text)
  }
`);

/** The suite's three methods, as a codec names them. */
export interface Methods {
  readonly add: string;
  readonly fail: string;
  readonly log: string;
}

/** A codec as the suite uses it. */
export interface CodecCase {
  readonly name: string;
  readonly codec: () => Codec;
  /** On byte streams. */
  readonly framing: () => Framing;
  readonly methods: Methods;
  /** The params of a call whose arguments are `arg`'s values, in order. */
  readonly wrap: (arg: Record<string, unknown>) => RpcParams;
  /** Calls without a reply exist. */
  readonly notifications: boolean;
  /** A client can call a method the codec's schema does not know. */
  readonly unknownMethods: boolean;
  /** An RpcError's code reaches the caller as it was thrown. */
  readonly exactErrors: boolean;
  /** The codec has a place for call metadata of its own (JSON-RPC's `"meta"`). */
  readonly meta: boolean;
}

const NAMED = { add: "demo.Demo/Add", fail: "demo.Demo/Fail", log: "demo.Demo/Log" };
const positional = (arg: Record<string, unknown>): RpcParams => Object.values(arg);

/** Every codec the suite runs over. */
export const CODECS: readonly CodecCase[] = [
  {
    name: "JSON-RPC",
    codec: jsonRpc,
    framing: newline,
    methods: NAMED,
    wrap: (a) => a,
    notifications: true,
    unknownMethods: true,
    exactErrors: true,
    meta: true,
  },
  {
    name: "msgpack-rpc",
    codec: msgpackRpc,
    framing: lengthPrefix,
    methods: NAMED,
    wrap: (a) => [a],
    notifications: true,
    unknownMethods: true,
    exactErrors: true,
    meta: false,
  },
  {
    name: "protobuf envelope",
    codec: () => protobufRpc({ schema: proto }),
    framing: lengthPrefix,
    methods: NAMED,
    wrap: (a) => a,
    notifications: true,
    unknownMethods: false,
    exactErrors: true,
    meta: false,
  },
  {
    name: "XML-RPC",
    codec: xmlRpc,
    framing: lengthPrefix,
    methods: NAMED,
    wrap: (a) => [a],
    notifications: false,
    unknownMethods: true,
    exactErrors: true,
    meta: false,
  },
  {
    name: "Thrift",
    codec: () => thriftRpc({ schema: thrift }),
    framing: lengthPrefix,
    methods: { add: "add", fail: "fail", log: "log" },
    wrap: positional,
    notifications: true,
    unknownMethods: false,
    exactErrors: false,
    meta: false,
  },
];

/** Interceptors on each end, and the server's `context` option. */
export interface Chains {
  readonly server: readonly Interceptor[];
  readonly client: readonly Interceptor[];
  readonly context?: ContextFunction;
}

// The `context` option, where there is one.
const contextOf = (chains: Chains) =>
  chains.context === undefined ? {} : { context: chains.context };

/** A served service and a client connected to it. */
export interface Started extends AsyncDisposable {
  readonly client: RpcClient;
}

/** One transport as the suite uses it. */
export interface TransportCase {
  readonly name: string;
  /** Why its tests are ignored here (a peer program absent), or false. */
  readonly ignore: boolean;
  /** Call metadata travels whatever the codec (headers). */
  readonly headers: boolean;
  /**
   * What `connectionOf(ctx).transport` says on its server, and whether its
   * `context` is built once per connection or per request (a POST, a NATS
   * message); absent where the pair has no serving end that takes one.
   */
  readonly context?: { readonly transport: string; readonly per: "connection" | "request" };
  /** Serves `service` and connects a client, with the chains. */
  readonly start: (c: CodecCase, service: Service, chains: Chains) => Promise<Started>;
}

/** A codec over a transport. */
export interface Pair {
  readonly name: string;
  readonly codec: CodecCase;
  readonly transport: TransportCase;
  /** Whether a client's call metadata reaches the server's handler and chain. */
  readonly metadata: boolean;
}

// The interceptor applied only to calls of one side (for a peer that is both).
const onSide = (side: "client" | "server", interceptor: Interceptor): Interceptor => (next) => {
  const wrapped = interceptor(next);
  return (call) => call.side === side ? wrapped(call) : next(call);
};

async function socketPair(
  c: CodecCase,
  service: Service,
  chains: Chains,
  listen: Parameters<typeof serveTcp>[0],
  connect: (address: ReturnType<typeof serveTcp>["address"]) => Parameters<typeof connectTcp>[0],
): Promise<Started> {
  const server = serveTcp(listen, {
    codec: c.codec(),
    framing: c.framing(),
    service,
    interceptors: chains.server,
    ...contextOf(chains),
  });
  const client = await connectTcp(connect(server.address), {
    codec: c.codec(),
    framing: c.framing(),
    interceptors: chains.client,
  });
  return {
    client,
    async [Symbol.asyncDispose]() {
      await client.close();
      await server.shutdown();
    },
  };
}

let certificates: ReturnType<typeof makeCertificates> | undefined;
let certificatesDir: string | undefined;

/** Every transport the suite runs over. */
export const TRANSPORTS: readonly TransportCase[] = [
  {
    name: "TCP",
    ignore: false,
    headers: false,
    context: { transport: "tcp", per: "connection" },
    start: (c, service, chains) =>
      socketPair(c, service, chains, { hostname: "127.0.0.1", port: 0 }, (a) => a),
  },
  {
    name: "TLS",
    ignore: false,
    headers: false,
    context: { transport: "tls", per: "connection" },
    start: async (c, service, chains) => {
      const certs = await (certificates ??= makeCertificates());
      certificatesDir = certs.dir;
      return socketPair(
        c,
        service,
        chains,
        { transport: "tls", hostname: "127.0.0.1", port: 0, cert: certs.cert, key: certs.key },
        (a) => ({ ...a, caCerts: [certs.ca] }) as Parameters<typeof connectTcp>[0],
      );
    },
  },
  {
    name: "Unix socket",
    ignore: false,
    headers: false,
    context: { transport: "unix", per: "connection" },
    start: async (c, service, chains) => {
      const dir = await Deno.makeTempDir();
      const started = await socketPair(
        c,
        service,
        chains,
        { transport: "unix", path: `${dir}/rpc.sock` },
        (a) => a,
      );
      return {
        client: started.client,
        async [Symbol.asyncDispose]() {
          await started[Symbol.asyncDispose]();
          await Deno.remove(dir, { recursive: true });
        },
      };
    },
  },
  {
    // A child's stdio: the peer's calls go through `cat`'s stdin and stdout
    // and come back to the same peer, which serves them (each chain on its side).
    name: "stdio (child process)",
    ignore: false,
    headers: false,
    start: (c, service, chains) => {
      const peer = spawnStdio("cat", {
        codec: c.codec(),
        framing: c.framing(),
        service,
        interceptors: [
          ...chains.client.map((i) => onSide("client", i)),
          ...chains.server.map((i) => onSide("server", i)),
        ],
      });
      return Promise.resolve({
        client: peer,
        async [Symbol.asyncDispose]() {
          await peer.close();
        },
      });
    },
  },
  {
    name: "HTTP POST",
    ignore: false,
    headers: true,
    context: { transport: "http", per: "request" },
    start: (c, service, chains) => {
      const server = serveHttp({
        routes: {
          "/rpc": { codec: c.codec(), service, interceptors: chains.server, ...contextOf(chains) },
        },
      });
      const client = connectHttp(`${server.url}/rpc`, {
        codec: c.codec(),
        interceptors: chains.client,
      });
      return Promise.resolve({
        client,
        async [Symbol.asyncDispose]() {
          await client.close();
          await server.shutdown();
        },
      });
    },
  },
  {
    name: "WebSocket",
    ignore: false,
    headers: false,
    context: { transport: "websocket", per: "connection" },
    start: async (c, service, chains) => {
      const server = serveHttp({
        routes: {
          "/rpc": {
            codec: c.codec(),
            service,
            interceptors: chains.server,
            websocket: true,
            ...contextOf(chains),
          },
        },
      });
      const client = await connectWebSocket(`${server.url.replace("http", "ws")}/rpc`, {
        codec: c.codec(),
        interceptors: chains.client,
      });
      return {
        client,
        async [Symbol.asyncDispose]() {
          await client.close();
          await server.shutdown();
        },
      };
    },
  },
  {
    name: "NATS",
    ignore: needs("nats-server") as boolean,
    headers: true,
    context: { transport: "nats", per: "request" },
    start: async (c, service, chains) => {
      const nats = await startNatsServer();
      const connection = await connectNats(nats.url);
      const worker = serveNats({
        connection,
        subject: "suite",
        codec: c.codec(),
        service,
        interceptors: chains.server,
        ...contextOf(chains),
      });
      await worker.ready;
      const client = natsClient({
        connection,
        subject: "suite",
        codec: c.codec(),
        timeout: 10_000,
        interceptors: chains.client,
      });
      return {
        client,
        async [Symbol.asyncDispose]() {
          await client.close();
          await worker.drain();
          await connection.drain();
          await nats[Symbol.asyncDispose]();
        },
      };
    },
  },
];

/** Every codec over every transport. */
export const PAIRS: readonly Pair[] = CODECS.flatMap((codec) =>
  TRANSPORTS.map((transport) => ({
    name: `${codec.name} × ${transport.name}`,
    codec,
    transport,
    metadata: transport.headers || (codec.meta && transport.name !== "HTTP POST"),
  }))
);

// The certificates of the TLS pairs, made once for the file and removed when it ends.
globalThis.addEventListener("unload", () => {
  if (certificatesDir !== undefined) Deno.removeSync(certificatesDir, { recursive: true });
});
