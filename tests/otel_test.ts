/**
 * Tracing and metrics interceptors with the OpenTelemetry SDK, over real
 * sockets: a client span and a server span in one trace (the server's the
 * child of the client's) on Connect and gRPC, the conventions' attributes,
 * error spans, a handler's own calls continuing the trace, and the
 * duration and in-flight metrics.
 */

import assert from "node:assert/strict";
import { metrics as otelMetrics, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  AlwaysOffSampler,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { callSpans, exporter, meterForTest } from "./_otel.ts";
import { schema, service } from "./_greeter.ts";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { connectClient, ConnectError, connectHandler } from "../protocols/connect.ts";
import { intercept, type Interceptor } from "../rpc/interceptors.ts";
import { metrics, tracing } from "../rpc/otel/mod.ts";
import { Peer } from "../rpc/peer.ts";
import { memoryPair } from "../rpc/testing.ts";
import { serveHttp } from "../rpc/transports/http.ts";
import { connectGrpc, serveGrpc } from "../rpc/transports/grpc.ts";
import type { RpcParams } from "../rpc/types.ts";

// What the handlers' own calls go to: a plain JSON-RPC peer in memory.
function backend():
  & { call: (method: string, params: RpcParams) => Promise<unknown> }
  & AsyncDisposable {
  const [a, b] = memoryPair();
  const server = new Peer(a, {
    codec: jsonRpc(),
    service: { shout: (s: string) => s.toUpperCase() },
  });
  const client = new Peer(b, { codec: jsonRpc(), interceptors: [tracing({ service: "backend" })] });
  return {
    call: (method, params) => client.call(method, params),
    [Symbol.asyncDispose]: async () => {
      await client.close();
      await server.closed;
    },
  };
}

interface Client extends AsyncDisposable {
  call(method: string, params: RpcParams): Promise<unknown>;
}

async function traced(system: string, client: Client, port: number): Promise<void> {
  exporter.reset();
  assert.deepEqual(await client.call("demo.Greeter/Greet", { name: "ada" }), {
    name: "Hello, ada",
  });
  const { client: sent, server: served } = callSpans("demo.Greeter/Greet");
  // One trace, the server's span the child of the client's.
  assert.equal(served.spanContext().traceId, sent.spanContext().traceId);
  assert.equal(served.parentSpanContext?.spanId, sent.spanContext().spanId);
  assert.equal(sent.kind, SpanKind.CLIENT);
  assert.equal(served.kind, SpanKind.SERVER);
  for (const span of [sent, served]) {
    assert.equal(span.attributes["rpc.system"], system);
    assert.equal(span.attributes["rpc.service"], "demo.Greeter");
    assert.equal(span.attributes["rpc.method"], "Greet");
    assert.equal(span.attributes["rpc.grpc.status_code"], 0);
    assert.equal(span.status.code, SpanStatusCode.UNSET);
  }
  assert.equal(sent.attributes["server.address"], "127.0.0.1");
  assert.equal(sent.attributes["server.port"], port);

  // permission_denied: the caller's error, the server's span not in error.
  exporter.reset();
  await assert.rejects(client.call("demo.Greeter/Admin", { name: "x" }), ConnectError);
  const denied = callSpans("demo.Greeter/Admin");
  assert.equal(denied.client.attributes["rpc.grpc.status_code"], 7);
  assert.equal(denied.client.status.code, SpanStatusCode.ERROR);
  assert.equal(denied.client.events[0]?.name, "exception");
  assert.equal(denied.server.attributes["rpc.grpc.status_code"], 7);
  assert.equal(denied.server.status.code, SpanStatusCode.UNSET);

  // A handler's bug: an error at both ends, with the exception recorded.
  exporter.reset();
  await assert.rejects(client.call("demo.Greeter/Crash", { name: "x" }), ConnectError);
  const crashed = callSpans("demo.Greeter/Crash");
  for (const span of [crashed.client, crashed.server]) {
    assert.equal(span.attributes["rpc.grpc.status_code"], 13);
    assert.equal(span.attributes["error.type"], "13");
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.events[0]?.name, "exception");
  }
  assert.equal(crashed.server.events[0]?.attributes?.["exception.message"], "handler bug");

  // The handler's own call, made inside the server's span, continues the trace.
  exporter.reset();
  assert.deepEqual(await client.call("demo.Greeter/Relay", { name: "bo" }), { name: "BO" });
  const relayed = callSpans("demo.Greeter/Relay");
  const [nested] = exporter.getFinishedSpans().filter((s) => s.name === "backend/shout");
  assert.ok(nested);
  assert.equal(nested.kind, SpanKind.CLIENT);
  assert.equal(nested.spanContext().traceId, relayed.client.spanContext().traceId);
  assert.equal(nested.parentSpanContext?.spanId, relayed.server.spanContext().spanId);
  assert.equal(nested.attributes["rpc.jsonrpc.version"], "2.0");
}

Deno.test("tracing over Connect: a client and a server span in one trace, errors, nested calls", async () => {
  await using relay = backend();
  const handler = connectHandler({
    schema,
    service: service((name) => relay.call("shout", [name])),
    interceptors: [tracing()],
  });
  await using server = serveHttp({ routes: {}, handlers: { "/": handler } });
  const url = new URL(server.url);
  await using client = connectClient(server.url, {
    schema,
    interceptors: [
      tracing({ system: "connect_rpc", serverAddress: url.hostname, serverPort: +url.port }),
    ],
  });
  await traced("connect_rpc", client, +url.port);
});

Deno.test("tracing over gRPC: a client and a server span in one trace, errors, nested calls", async () => {
  await using relay = backend();
  await using server = await serveGrpc({
    schema,
    service: service((name) => relay.call("shout", [name])),
    hostname: "127.0.0.1",
    port: 0,
    interceptors: [tracing()],
  });
  const url = new URL(server.url);
  await using client = connectGrpc(server.url, {
    schema,
    interceptors: [tracing({ system: "grpc", serverAddress: url.hostname, serverPort: +url.port })],
  });
  await traced("grpc", client, +url.port);
});

Deno.test("tracing on a JSON-RPC peer: the request id, the error code, a child of the caller's active span", async () => {
  exporter.reset();
  const [a, b] = memoryPair();
  const server = new Peer(a, {
    codec: jsonRpc(),
    service: { add: (x: number, y: number) => x + y },
    interceptors: [tracing({ service: "calc" })],
  });
  const client = new Peer(b, { codec: jsonRpc(), interceptors: [tracing({ service: "calc" })] });
  const tracer = trace.getTracer("test");
  await tracer.startActiveSpan("outer", async (outer) => {
    assert.equal(await client.call("add", [1, 2]), 3);
    await assert.rejects(client.call("nope", []));
    outer.end();
  });
  const [outer] = exporter.getFinishedSpans().filter((s) => s.name === "outer");
  const { client: sent, server: served } = callSpans("calc/add");
  assert.equal(sent.parentSpanContext?.spanId, outer?.spanContext().spanId);
  assert.equal(served.attributes["rpc.jsonrpc.request_id"], "1");
  assert.equal(served.attributes["rpc.jsonrpc.version"], "2.0");
  assert.equal(served.attributes["rpc.service"], "calc");
  // An unknown method: the server's chain sees the refusal too, both spans in error.
  const missing = callSpans("calc/nope");
  assert.equal(missing.server.parentSpanContext?.spanId, missing.client.spanContext().spanId);
  for (const span of [missing.client, missing.server]) {
    assert.equal(span.attributes["rpc.jsonrpc.error_code"], -32601);
    assert.equal(span.status.code, SpanStatusCode.ERROR);
  }
  await client.close();
  await server.closed;
});

Deno.test("metrics over Connect: durations by outcome at both ends, nothing left in flight", async () => {
  const meter = meterForTest();
  const handler = connectHandler({
    schema,
    service: service(() => Promise.resolve("")),
    interceptors: [metrics({ meterProvider: meter.provider, durations: "both" })],
  });
  await using server = serveHttp({ routes: {}, handlers: { "/": handler } });
  await using client = connectClient(server.url, {
    schema,
    interceptors: [metrics({ meterProvider: meter.provider, system: "connect_rpc" })],
  });
  await client.call("demo.Greeter/Greet", { name: "a" });
  await client.call("demo.Greeter/Greet", { name: "b" });
  await assert.rejects(client.call("demo.Greeter/Admin", { name: "c" }));
  const points = await meter.collect();

  const served = points.get("rpc.server.duration")!;
  const byMethod = (method: string) => served.find((p) => p.attributes["rpc.method"] === method)!;
  assert.equal((byMethod("Greet").value as { count: number }).count, 2);
  assert.deepEqual(byMethod("Greet").attributes, {
    "rpc.system": "connect_rpc",
    "rpc.service": "demo.Greeter",
    "rpc.method": "Greet",
    "rpc.grpc.status_code": 0,
    unit: "ms",
  });
  assert.equal(byMethod("Admin").attributes["rpc.grpc.status_code"], 7);
  // The newer histogram, in seconds, alongside.
  const seconds = points.get("rpc.server.call.duration")!;
  assert.equal(seconds[0]?.attributes.unit, "s");
  assert.equal(seconds.reduce((n, p) => n + (p.value as { count: number }).count, 0), 3);

  const sent = points.get("rpc.client.duration")!;
  assert.equal(sent.reduce((n, p) => n + (p.value as { count: number }).count, 0), 3);
  assert.equal(points.has("rpc.client.call.duration"), false);
  const failed = sent.find((p) => p.attributes["rpc.method"] === "Admin")!;
  assert.equal(failed.attributes["error.type"], "7");

  for (const side of ["server", "client"]) {
    const active = points.get(`rpc.${side}.active_requests`)!;
    assert.ok(active.length > 0);
    assert.ok(active.every((p) => p.value === 0), `${side}: nothing in flight`);
  }
  await meter.provider.shutdown();
});

Deno.test("tracing with its own provider and propagator: a sampled-out call records nothing and still passes its trace on", async () => {
  const sampled = new InMemorySpanExporter();
  const provider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter: sampled })],
    sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }),
  });
  const traced = tracing({ tracerProvider: provider, propagator: new W3CTraceContextPropagator() });
  const sent: string[] = [];
  const capture: Interceptor = (next) => (call) => {
    sent.push(call.metadata.get("traceparent") ?? "none");
    return next(call);
  };
  const call = (side: "client" | "server", metadata = new Headers()) => ({
    method: "add",
    params: [1, 2],
    kind: "call",
    side,
    signal: new AbortController().signal,
    metadata,
  } as const);
  // A client call, then a server call receiving what it sent, whose handler calls on.
  await intercept([traced, capture], () => Promise.resolve(3), call("client"));
  const nested = () => intercept([traced, capture], () => Promise.resolve(3), call("client"));
  await intercept([traced], nested, call("server", new Headers({ traceparent: sent[0]! })));
  const [first, second] = sent.map((header) => header.split("-"));
  assert.equal(first?.length, 4);
  assert.equal(first?.[3], "00"); // not sampled
  assert.equal(second?.[1], first?.[1]); // the same trace
  assert.notEqual(second?.[2], first?.[2]);
  assert.equal(sampled.getFinishedSpans().length, 0);
});

Deno.test("metrics follow a global provider registered after the interceptor was made", async () => {
  const interceptor = metrics();
  const run = () =>
    intercept([interceptor], () => Promise.resolve(1), {
      method: "demo.S/M",
      params: {},
      kind: "call",
      side: "server",
      signal: new AbortController().signal,
      metadata: new Headers({ "content-type": "application/grpc" }),
    });
  await run();
  const meter = meterForTest();
  otelMetrics.setGlobalMeterProvider(meter.provider);
  try {
    await run();
    const [point] = (await meter.collect()).get("rpc.server.duration")!;
    assert.equal((point?.value as { count: number }).count, 1);
    assert.equal(point?.attributes["rpc.system"], "grpc");
  } finally {
    otelMetrics.disable();
    await meter.provider.shutdown();
  }
});
