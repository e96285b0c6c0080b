/**
 * The benchmark's server process: `raw` echoes bytes on a bare socket;
 * `jsonrpc-minimal` is the least a JSON-RPC server can do, with no framework
 * (`jsonrpc-minimal-length` the same with 4-byte length prefixes);
 * `stream-echo` echoes length-prefixed frames through parley's framed streams;
 * `jsonrpc-newline` and `jsonrpc-length` serve a small service over JSON-RPC
 * on TCP, `msgpack` over msgpack-rpc, and print `listening PORT` when ready; `xmlrpc-http` serves it over
 * XML-RPC at `/RPC2` and prints `listening URL`; `http-canned` answers every
 * POST with the same reply (the HTTP ceiling); `ws` serves it over WebSocket,
 * JSON-RPC at `/rpc` and msgpack-rpc at `/msgpack`, and prints `listening PORT`;
 * `ws-echo` echoes every WebSocket message on a bare `Deno.upgradeWebSocket`
 * (the WebSocket ceiling); `protobuf` serves the calculator's Add in the
 * protobuf envelope on TCP (length prefix) and `connect` over the Connect
 * protocol on HTTP, `grpc` over gRPC (h2c, `serveGrpc`, with a Range that
 * streams `count` Numbers), printing
 * `listening PORT`; `thrift` serves the calculator's
 * add over Thrift (framed, binary); `objects` serves remote objects (a
 * chain of `Step`s, a stream of items and the same items as an array) over
 * JSON-RPC. Exits on SIGTERM.
 *
 * @module
 */

import { jsonRpc } from "../../codecs/json_rpc.ts";
import { msgpackRpc } from "../../codecs/msgpack_rpc.ts";
import { xmlRpc } from "../../codecs/xml_rpc.ts";
import { selfDelimiting } from "../../rpc/framing/self_delimiting.ts";
import { withSystemMethods } from "../../rpc/system_methods.ts";
import { serveHttp } from "../../rpc/transports/http.ts";
import { framedStream } from "../../rpc/framed.ts";
import { newline } from "../../rpc/framing/delimiter.ts";
import { lengthPrefix } from "../../rpc/framing/length_prefix.ts";
import { connByteStream, serveTcp } from "../../rpc/transports/tcp.ts";
import { loadProto, protobufRpc, protoService } from "../../codecs/protobuf.ts";
import { connectHandler } from "../../protocols/connect.ts";
import { serveGrpc } from "../../rpc/transports/grpc.ts";
import { loadThrift, thriftRpc } from "../../codecs/thrift.ts";
import { expose, serveObjects } from "../../rpc/objects/mod.ts";
import { lengthPrefixed, readLengthPrefixed } from "./_minimal.ts";

const mode = Deno.args[0];
// SIGTERM ends every mode through exit(), so that `--cpu-prof` writes its profile.
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
const service = { add: (a: number, b: number) => a + b, echo: (s: string) => s };

if (mode === "raw") {
  // The ceiling: bytes echoed as they arrive (length-prefixed frames come
  // back intact), no streams, no framing objects, no RPC.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`listening ${(listener.addr as Deno.NetAddr).port}`);
  for await (const conn of listener) {
    (async () => {
      const buffer = new Uint8Array(256 * 1024);
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        let written = 0;
        while (written < n) written += await conn.write(buffer.subarray(written, n));
      }
    })().catch(() => {}).finally(() => conn.close());
  }
} else if (mode === "jsonrpc-minimal") {
  // The least a JSON-RPC server can do: newline-split reads, JSON.parse,
  // add, JSON.stringify, one write per read. No framework, no checks.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`listening ${(listener.addr as Deno.NetAddr).port}`);
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  for await (const conn of listener) {
    conn.setNoDelay(true);
    (async () => {
      const buffer = new Uint8Array(256 * 1024);
      let rest = "";
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        const lines = (rest + decoder.decode(buffer.subarray(0, n))).split("\n");
        rest = lines.pop()!;
        let out = "";
        for (const line of lines) {
          const { id, params } = JSON.parse(line);
          out += JSON.stringify({ jsonrpc: "2.0", result: params[0] + params[1], id }) + "\n";
        }
        const bytes = encoder.encode(out);
        let written = 0;
        while (written < bytes.length) written += await conn.write(bytes.subarray(written));
      }
    })().catch(() => {}).finally(() => conn.close());
  }
} else if (mode === "jsonrpc-minimal-length") {
  // The same, with frames behind 4-byte big-endian lengths.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`listening ${(listener.addr as Deno.NetAddr).port}`);
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  for await (const conn of listener) {
    conn.setNoDelay(true);
    let out: string[] = [];
    readLengthPrefixed(conn, new Uint8Array(256 * 1024), (frame) => {
      const { id, params } = JSON.parse(decoder.decode(frame));
      out.push(JSON.stringify({ jsonrpc: "2.0", result: params[0] + params[1], id }));
    }, async () => {
      const bytes = lengthPrefixed(encoder, out);
      out = [];
      let written = 0;
      while (written < bytes.length) written += await conn.write(bytes.subarray(written));
    }).catch(() => {}).finally(() => conn.close());
  }
} else if (mode === "stream-echo") {
  // parley's byte path without the RPC layer: framedStream + lengthPrefix.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`listening ${(listener.addr as Deno.NetAddr).port}`);
  for await (const conn of listener) {
    const stream = framedStream(connByteStream(conn), lengthPrefix());
    stream.readable.pipeTo(stream.writable).catch(() => {});
  }
} else if (mode === "http-canned") {
  // The HTTP ceiling: Deno.serve answering every POST with the same
  // XML-RPC reply, read but not parsed: no codec, no dispatch.
  const reply =
    '<?xml version="1.0"?><methodResponse><params><param><value><int>2</int></value></param></params></methodResponse>';
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (r) => {
    await r.bytes();
    return new Response(reply, { headers: { "content-type": "text/xml" } });
  });
  console.log(`listening http://127.0.0.1:${server.addr.port}/RPC2`);
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  await server.finished;
} else if (mode === "xmlrpc-http") {
  // What Python's SimpleXMLRPCServer offers: introspection and multicall included.
  const server = serveHttp({
    routes: { "/RPC2": { codec: xmlRpc(), service: withSystemMethods(service) } },
  });
  console.log(`listening ${server.url}/RPC2`);
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  await server.finished;
} else if (mode === "ws") {
  // serveHttp's WebSocket routes: one message per frame, text for JSON-RPC,
  // binary for msgpack-rpc.
  const server = serveHttp({
    routes: {
      "/rpc": { codec: jsonRpc(), service, websocket: true },
      "/msgpack": { codec: msgpackRpc(), service, websocket: true },
    },
  });
  console.log(`listening ${server.addr.port}`);
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  await server.finished;
} else if (mode === "protobuf" || mode === "connect" || mode === "grpc") {
  const schema = loadProto({
    "calculator.proto": Deno.readTextFileSync(
      new URL("../../examples/calculator/calculator.proto", import.meta.url),
    ),
  });
  const calculator = protoService(schema, "interop.Calculator", {
    Add: ({ num1, num2 }: { num1: number; num2: number }) => ({ sum: num1 + num2 }),
    // Server streaming (gRPC's benchmark): `count` Numbers, as grpc_bench.mjs's Range.
    Range: async function* ({ start, count }: { start: number; count: number }) {
      for (let i = 0; i < count; i++) yield { value: start + i };
    },
  });
  if (mode === "grpc") {
    const server = await serveGrpc({ schema, service: calculator });
    console.log(`listening ${server.addr.port}`);
    Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
    await server.finished;
  }
  const server = mode === "protobuf"
    ? serveTcp({ hostname: "127.0.0.1", port: 0 }, {
      codec: protobufRpc({ schema }),
      framing: lengthPrefix(),
      service: calculator,
    })
    : serveHttp({ routes: {}, handlers: { "/": connectHandler({ schema, service: calculator }) } });
  console.log(`listening ${(server.addr as Deno.NetAddr).port}`);
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  await server.finished;
} else if (mode === "thrift") {
  const schema = loadThrift(
    Deno.readTextFileSync(new URL("../../examples/calculator/calculator.thrift", import.meta.url)),
  );
  const server = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    codec: thriftRpc({ schema }),
    framing: lengthPrefix(),
    service,
  });
  console.log(`listening ${(server.addr as Deno.NetAddr).port}`);
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  await server.finished;
} else if (mode === "objects") {
  // A step of a chain: each call hands out the next one, by reference.
  class Step {
    constructor(readonly n: number) {}
    next(): Step {
      return new Step(this.n + 1);
    }
    value(): number {
      return this.n;
    }
  }
  expose(Step.prototype, ["next", "value"]);
  const server = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    codec: jsonRpc(),
    framing: newline(),
    service: serveObjects({
      start: () => new Step(0),
      // 100,000 small items streamed, against the same items as one array.
      items: async function* (count: number) {
        for (let i = 0; i < count; i++) yield { i };
      },
      array: (count: number) => Array.from({ length: count }, (_, i) => ({ i })),
    }),
  });
  console.log(`listening ${(server.addr as Deno.NetAddr).port}`);
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  await server.finished;
} else if (mode === "ws-echo") {
  // The WebSocket ceiling: each message sent back as it came, no codec, no RPC.
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    // Binary messages as ArrayBuffers, as parley's sockets take them (not Blobs).
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => socket.send(event.data);
    return response;
  });
  console.log(`listening ${server.addr.port}`);
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  await server.finished;
} else {
  const msgpack = msgpackRpc();
  const codec = mode === "msgpack" ? msgpack : jsonRpc();
  const framing = mode === "jsonrpc-newline"
    ? newline()
    : mode === "msgpack"
    ? selfDelimiting(msgpack.measure!.bind(msgpack))
    : lengthPrefix();
  const server = serveTcp({ hostname: "127.0.0.1", port: 0 }, { codec, framing, service });
  console.log(`listening ${(server.addr as Deno.NetAddr).port}`);
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  await server.finished;
}
