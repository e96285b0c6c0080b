/**
 * Every call through interceptors, beyond the shared suite: streaming calls
 * (the client's chain gets the stream; the server's sees the call until the
 * stream has ended), busy refusals, a ReconnectingClient's chain run once,
 * and call metadata: JSON-RPC's `"meta"` member (its bounds, and other
 * JSON-RPC peers that ignore it: Python, vscode-jsonrpc, jayson), headers
 * without interceptors, an HTTP handler's reply headers, a WebSocket
 * handshake's headers.
 */

import assert from "node:assert/strict";
import * as net from "node:net";
import {
  createMessageConnection,
  SocketMessageReader,
  SocketMessageWriter,
} from "vscode-jsonrpc/node.js";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { loadProto, protobufRpc } from "../codecs/protobuf.ts";
import { callMetadata } from "../rpc/call_metadata.ts";
import { ErrorCode, RpcError } from "../rpc/errors.ts";
import { contentLength } from "../rpc/framing/content_length.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
import type { InterceptedCall, Interceptor } from "../rpc/interceptors.ts";
import { ObjectSession } from "../rpc/objects/session.ts";
import { Peer } from "../rpc/peer.ts";
import { peerStreams } from "../rpc/peer/streams.ts";
import { memoryPair } from "../rpc/testing.ts";
import { type CallContext, withContext } from "../rpc/service.ts";
import { serveHttp } from "../rpc/transports/http.ts";
import { connectTcp, reconnectTcp, serveTcp } from "../rpc/transports/tcp.ts";
import { connectWebSocket } from "../rpc/transports/websocket.ts";
import { nodePeers } from "./interop/_node.ts";
import { testNeeding } from "./_needs.ts";

const TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/** Outcomes a chain saw, by method, after each call ended. */
function recorder(): { seen: [string, unknown][]; interceptor: Interceptor } {
  const seen: [string, unknown][] = [];
  return {
    seen,
    interceptor: (next) => (call) =>
      next(call).then(
        (result) => (seen.push([call.method, result]), result),
        (error) => {
          seen.push([call.method, error]);
          throw error;
        },
      ),
  };
}

const schema = loadProto(`
  syntax = "proto3";
  package demo;
  message N { int32 n = 1; }
  service Counter { rpc Up(N) returns (stream N); }
`);

Deno.test("openStream: the client's chain sees the call and gives the stream; the server's sees it until the stream ends", async () => {
  let sent = 0;
  let ended = false;
  const server = recorder();
  const atEnd: [number, boolean][] = [];
  const timing: Interceptor = (next) => async (call) => {
    const result = await next(call);
    atEnd.push([sent, ended]);
    return result;
  };
  await using listening = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    codec: protobufRpc({ schema }),
    framing: lengthPrefix(),
    streams: peerStreams,
    interceptors: [server.interceptor, timing],
    service: {
      "demo.Counter/Up": withContext(async function* (_ctx: CallContext, { n }: { n: number }) {
        try {
          for (let i = 1; i <= n; i++) {
            sent++;
            yield { n: i };
          }
        } finally {
          ended = true;
        }
      }),
    },
  });
  const client: InterceptedCall[] = [];
  await using peer = await connectTcp(listening.address, {
    codec: protobufRpc({ schema }),
    framing: lengthPrefix(),
    streams: peerStreams,
    interceptors: [(next) => (call) => (client.push(call), next(call))],
  });
  const stream = peer.openStream("demo.Counter/Up", { n: 5 });
  const read = [];
  for await (const message of stream.messages) read.push((message as { n: number }).n);
  assert.equal(await stream.result, null);
  assert.deepEqual(read, [1, 2, 3, 4, 5]);
  assert.deepEqual(client.map((c) => [c.side, c.kind, c.method]), [
    ["client", "call", "demo.Counter/Up"],
  ]);
  // The server's chain returned after every message went out and the generator finished.
  assert.deepEqual(atEnd, [[5, true]]);
  assert.deepEqual(server.seen, [["demo.Counter/Up", null]]);
});

Deno.test("a busy refusal goes through the server's chain as its RpcError", async () => {
  const release = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  const server = recorder();
  await using listening = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    codec: jsonRpc(),
    framing: newline(),
    limits: { maxInFlight: 1 },
    interceptors: [server.interceptor],
    service: {
      wait: async () => {
        started.resolve();
        await release.promise;
        return "done";
      },
    },
  });
  await using peer = await connectTcp(listening.address, { codec: jsonRpc(), framing: newline() });
  const first = peer.call("wait", []);
  await started.promise;
  await assert.rejects(
    peer.call("wait", []),
    (e: unknown) => e instanceof RpcError && e.code === ErrorCode.ServerBusy,
  );
  release.resolve();
  assert.equal(await first, "done");
  assert.equal(server.seen.length, 2);
  const [method, refusal] = server.seen[0]!;
  assert.equal(method, "wait");
  assert.ok(refusal instanceof RpcError && refusal.code === ErrorCode.ServerBusy);
  assert.deepEqual(server.seen[1], ["wait", "done"]);
});

Deno.test("a ReconnectingClient runs its interceptors once per call, and their metadata travels", async () => {
  const traces: (string | null | undefined)[] = [];
  await using listening = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    codec: jsonRpc(),
    framing: newline(),
    service: {
      add: withContext((ctx, a: number, b: number) => {
        traces.push(callMetadata(ctx)?.request.get("traceparent"));
        return a + b;
      }),
    },
  });
  let runs = 0;
  await using client = await reconnectTcp(listening.address, {
    codec: jsonRpc(),
    framing: newline(),
    interceptors: [(next) => (call) => {
      runs++;
      call.metadata.set("traceparent", TRACE);
      return next(call);
    }],
  });
  assert.equal(await client.call("add", [1, 2]), 3);
  const outcomes = await client.batch([{ method: "add", params: [2, 2] }]);
  assert.deepEqual(outcomes, [{ status: "fulfilled", value: 4 }]);
  assert.equal(runs, 2);
  assert.deepEqual(traces, [TRACE, TRACE]);
});

Deno.test('JSON-RPC "meta": a call\'s headers arrive without interceptors; over the bounds, -32600', async () => {
  const metas: (Record<string, string> | undefined)[] = [];
  await using listening = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    codec: jsonRpc(),
    framing: newline(),
    service: {
      echo: withContext((ctx) => {
        const request = callMetadata(ctx)?.request;
        metas.push(request === undefined ? undefined : Object.fromEntries(request));
        return "ok";
      }),
    },
  });
  await using peer = await connectTcp(listening.address, { codec: jsonRpc(), framing: newline() });
  assert.equal(await peer.call("echo", [], { headers: { TraceParent: TRACE } }), "ok");
  assert.equal(await peer.call("echo", []), "ok");
  assert.deepEqual(metas, [{ traceparent: TRACE }, undefined]);
  // Over the bounds: this end refuses to send it…
  const tooMany = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]));
  await assert.rejects(peer.call("echo", [], { headers: tooMany }), RangeError);
  // …and the other end answers a raw one with invalid request, then serves on.
  const conn = await Deno.connect({ port: listening.address.port, hostname: "127.0.0.1" });
  const lines = conn.readable.pipeThrough(new TextDecoderStream()).getReader();
  const send = (o: unknown) => conn.write(new TextEncoder().encode(JSON.stringify(o) + "\n"));
  await send({ jsonrpc: "2.0", id: 1, method: "echo", meta: tooMany });
  await send({ jsonrpc: "2.0", id: 2, method: "echo", meta: { big: "x".repeat(9000) } });
  await send({ jsonrpc: "2.0", id: 3, method: "echo", meta: { "x-tag": "t" } });
  let text = "";
  while (text.split("\n").length < 4) text += (await lines.read()).value ?? "";
  const replies = text.trim().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(replies.map((r) => [r.id, r.error?.code ?? r.result]), [
    [1, -32600],
    [2, -32600],
    [3, "ok"],
  ]);
  assert.deepEqual(metas.at(-1), { "x-tag": "t" });
  // Cancelling the reading side closes the connection.
  await lines.cancel();
});

// A JSON-RPC server in plain Python (json and socketserver): it answers
// `add` and ignores members it does not know.
const PYTHON_SERVER = `
import json, socketserver, sys
class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            request = json.loads(line)
            reply = {"jsonrpc": "2.0", "id": request["id"], "result": sum(request["params"])}
            self.wfile.write((json.dumps(reply) + "\\n").encode())
            self.wfile.flush()
with socketserver.TCPServer(("127.0.0.1", 0), Handler) as server:
    print(server.server_address[1], flush=True)
    server.handle_request()
`;

testNeeding("python3")(
  'JSON-RPC "meta": a plain Python JSON-RPC server ignores it and answers',
  async () => {
    const child = new Deno.Command("/usr/bin/python3", {
      args: ["-c", PYTHON_SERVER],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const port = Number((await out.read()).value);
    const peer = await connectTcp({ hostname: "127.0.0.1", port }, {
      codec: jsonRpc(),
      framing: newline(),
      interceptors: [(next) => (call) => (call.metadata.set("traceparent", TRACE), next(call))],
    });
    assert.equal(await peer.call("add", [1, 2, 3]), 6);
    await peer.close();
    await out.cancel();
    assert.equal((await child.status).success, true);
  },
);

Deno.test('JSON-RPC "meta": vscode-jsonrpc ignores it and answers', async () => {
  const answered = Promise.withResolvers<void>();
  const server = net.createServer((socket) => {
    const connection = createMessageConnection(
      new SocketMessageReader(socket),
      new SocketMessageWriter(socket),
    );
    connection.onRequest("add", (a: number, b: number) => {
      answered.resolve();
      return a + b;
    });
    connection.listen();
    socket.on("close", () => connection.dispose());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  const peer = await connectTcp({ hostname: "127.0.0.1", port }, {
    codec: jsonRpc(),
    framing: contentLength(),
  });
  assert.equal(await peer.call("add", [20, 22], { headers: { traceparent: TRACE } }), 42);
  await answered.promise;
  await peer.close();
  await new Promise((resolve) => server.close(resolve));
});

Deno.test('JSON-RPC "meta": jayson (on Node) ignores it and answers', async () => {
  const peers = await nodePeers();
  const child = new Deno.Command("node", {
    args: [`${peers}/jayson_server.mjs`],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const port = Number((await out.read()).value);
  const response = await fetch(`http://127.0.0.1:${port}/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: jsonRpc().encode({
      kind: "request",
      id: 1,
      method: "add",
      params: [1, 2],
      meta: { traceparent: TRACE },
    }) as string,
  });
  assert.deepEqual(await response.json(), { jsonrpc: "2.0", id: 1, result: 3 });
  await child.stdin.close();
  await out.cancel();
  assert.equal((await child.status).success, true);
});

Deno.test("HTTP POST: a handler reads the request's headers and adds reply headers", async () => {
  await using server = serveHttp({
    routes: {
      "/rpc": {
        codec: jsonRpc(),
        service: {
          whoami: withContext((ctx) => {
            const metadata = callMetadata(ctx)!;
            metadata.headers.set("x-served-by", "parley");
            // Headers about the body are the server's own.
            metadata.headers.set("content-encoding", "gzip");
            return metadata.request.get("x-user");
          }),
        },
      },
    },
  });
  const response = await fetch(`${server.url}/rpc`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-user": "ada" },
    body: '{"jsonrpc":"2.0","id":1,"method":"whoami"}',
  });
  assert.equal(response.headers.get("x-served-by"), "parley");
  assert.equal(response.headers.get("content-type"), "application/json");
  assert.deepEqual(await response.json(), { jsonrpc: "2.0", id: 1, result: "ada" });
});

Deno.test("WebSocket: the handshake's headers are each call's metadata, a call's own meta over them", async () => {
  const seen: [string | null, string | null][] = [];
  await using server = serveHttp({
    routes: {
      "/rpc": {
        codec: jsonRpc(),
        websocket: true,
        service: {
          look: withContext((ctx) => {
            const request = callMetadata(ctx)!.request;
            seen.push([request.get("x-client"), request.get("traceparent")]);
            return "ok";
          }),
        },
      },
    },
  });
  // Deno's WebSocket takes handshake headers.
  class WithHeaders extends WebSocket {
    constructor(url: string | URL, protocols?: ConstructorParameters<typeof WebSocket>[1]) {
      const given = typeof protocols === "string" || Array.isArray(protocols)
        ? { protocols }
        : protocols;
      super(url, { ...given, headers: { "x-client": "tests" } });
    }
  }
  await using client = await connectWebSocket(`${server.url.replace("http", "ws")}/rpc`, {
    codec: jsonRpc(),
    WebSocket: WithHeaders,
  });
  assert.equal(await client.call("look", []), "ok");
  assert.equal(await client.call("look", [], { headers: { traceparent: TRACE } }), "ok");
  assert.deepEqual(seen, [["tests", null], ["tests", TRACE]]);
});

Deno.test("remote objects' calls go through both chains as $/call", async () => {
  const seen: string[] = [];
  const look: Interceptor = (next) => (call) => {
    seen.push(`${call.side} ${call.method}`);
    return next(call);
  };
  const root = { greet: (name: string) => `hello ${name}` };
  const [a, b] = memoryPair();
  const served = new ObjectSession({ root });
  served.attach(new Peer(a, { codec: jsonRpc(), service: served.service, interceptors: [look] }));
  const used = new ObjectSession();
  const peer = new Peer(b, { codec: jsonRpc(), service: used.service, interceptors: [look] });
  used.attach(peer);
  assert.equal(await used.root<typeof root>().greet("ada"), "hello ada");
  assert.deepEqual(seen.filter((s) => s.endsWith("$/call")), ["client $/call", "server $/call"]);
  await peer.close();
});
