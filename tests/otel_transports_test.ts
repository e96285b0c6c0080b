/**
 * One trace across a real socket, client span and server span, for
 * JSON-RPC over TCP, HTTP POST, WebSocket and NATS: the trace context
 * travels in the call's metadata (the `meta` member on streams, headers on
 * HTTP, the handshake, NATS headers). NATS runs a real nats-server, and is
 * ignored, saying so, where there is none.
 */

import assert from "node:assert/strict";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { callSpans, exporter } from "./_otel.ts";
import { testNeeding } from "./_needs.ts";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { RpcError } from "../rpc/errors.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import type { Interceptor } from "../rpc/interceptors.ts";
import { tracing } from "../rpc/otel/mod.ts";
import type { RpcClient } from "../rpc/client.ts";
import { connectHttp, serveHttp } from "../rpc/transports/http.ts";
import { connectNats, natsClient, serveNats } from "../rpc/transports/nats.ts";
import { connectTcp, serveTcp } from "../rpc/transports/tcp.ts";
import { connectWebSocket } from "../rpc/transports/websocket.ts";
import { startNatsServer } from "../testing/nats_server.ts";

const service = {
  add: (a: number, b: number) => a + b,
  fail: () => {
    throw new RpcError(42, "Refused");
  },
};

interface Opened extends AsyncDisposable {
  readonly client: RpcClient;
}

/** Starts a server with `server` interceptors, and a client with `client`'s. */
type Open = (server: Interceptor[], client: Interceptor[]) => Promise<Opened>;

const TRANSPORTS: Record<string, Open> = {
  "TCP JSON-RPC": async (server, client) => {
    const listening = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
      codec: jsonRpc(),
      framing: newline(),
      service,
      interceptors: server,
    });
    const peer = await connectTcp(listening.address, {
      codec: jsonRpc(),
      framing: newline(),
      interceptors: client,
    });
    return {
      client: peer,
      [Symbol.asyncDispose]: async () => {
        await peer.close();
        await listening[Symbol.asyncDispose]();
      },
    };
  },
  "HTTP POST": (server, client) =>
    overHttp(server, (url) => connectHttp(url, { codec: jsonRpc(), interceptors: client })),
  "WebSocket": (server, client) =>
    overHttp(
      server,
      (url) =>
        connectWebSocket(url.replace("http", "ws"), { codec: jsonRpc(), interceptors: client }),
    ),
  "NATS": async (server, client) => {
    const nats = await startNatsServer();
    const nc = await connectNats(nats.url);
    const worker = serveNats({
      connection: nc,
      subject: "calc",
      codec: jsonRpc(),
      service,
      interceptors: server,
    });
    await worker.ready;
    const calc = natsClient({
      connection: nc,
      subject: "calc",
      codec: jsonRpc(),
      timeout: 5_000,
      interceptors: client,
    });
    return {
      client: calc,
      [Symbol.asyncDispose]: async () => {
        await worker.drain();
        await nc.drain();
        await nats[Symbol.asyncDispose]();
      },
    };
  },
};

async function overHttp(
  server: Interceptor[],
  connect: (url: string) => RpcClient | Promise<RpcClient>,
): Promise<Opened> {
  const http = serveHttp({
    routes: { "/rpc": { codec: jsonRpc(), service, interceptors: server, websocket: true } },
  });
  const client = await connect(`${http.url}/rpc`);
  return {
    client,
    [Symbol.asyncDispose]: async () => {
      await (client as Partial<AsyncDisposable>)[Symbol.asyncDispose]?.();
      await http[Symbol.asyncDispose]();
    },
  };
}

for (const [name, open] of Object.entries(TRANSPORTS)) {
  const test = name === "NATS" ? testNeeding("nats-server") : Deno.test;
  test({
    name: `tracing over ${name}: a client span and a server span in one trace, and an error span`,
    fn: async () => {
      exporter.reset();
      await using opened = await open([tracing({ service: "calc" })], [
        tracing({ service: "calc" }),
      ]);
      assert.equal(await opened.client.call("add", [1, 2]), 3);
      const { client, server } = callSpans("calc/add");
      assert.equal(client.kind, SpanKind.CLIENT);
      assert.equal(server.kind, SpanKind.SERVER);
      assert.equal(server.spanContext().traceId, client.spanContext().traceId);
      assert.equal(server.parentSpanContext?.spanId, client.spanContext().spanId);
      for (const span of [client, server]) {
        assert.equal(span.attributes["rpc.system"], "jsonrpc");
        assert.equal(span.attributes["rpc.jsonrpc.version"], "2.0");
        assert.equal(span.attributes["rpc.method"], "add");
      }
      assert.equal(typeof server.attributes["rpc.jsonrpc.request_id"], "string");

      exporter.reset();
      await assert.rejects(opened.client.call("fail", []), RpcError);
      const failed = callSpans("calc/fail");
      assert.equal(failed.server.parentSpanContext?.spanId, failed.client.spanContext().spanId);
      for (const span of [failed.client, failed.server]) {
        assert.equal(span.attributes["rpc.jsonrpc.error_code"], 42);
        assert.equal(span.attributes["rpc.jsonrpc.error_message"], "Refused");
        assert.equal(span.status.code, SpanStatusCode.ERROR);
      }
    },
  });
}
