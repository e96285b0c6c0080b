/**
 * Tracing with Deno's built-in OpenTelemetry: a child `deno run` with
 * `OTEL_DENO=true` (Deno then registers its own provider, context manager
 * and W3C propagator as `@opentelemetry/api`'s globals) makes Connect
 * calls to itself, and exports OTLP/HTTP JSON to a small receiver here,
 * which checks a client and a server span in one trace with the RPC
 * conventions' attributes.
 */

import assert from "node:assert/strict";

interface OtlpValue {
  readonly stringValue?: string;
  readonly intValue?: string | number;
  readonly doubleValue?: number;
}
interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: { key: string; value: OtlpValue }[];
  readonly events: { name: string }[];
  readonly status: { code: number };
}
interface OtlpTraces {
  readonly resourceSpans: {
    scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[];
  }[];
}

// OTLP's SpanKind and StatusCode numbers.
const SERVER = 2;
const CLIENT = 3;
const STATUS_ERROR = 2;

const CHILD = new URL("./fixtures/otel_deno_child.ts", import.meta.url);

function attribute(span: OtlpSpan, key: string): string | number | undefined {
  const value = span.attributes.find((a) => a.key === key)?.value;
  if (value === undefined) return undefined;
  return value.stringValue ?? (value.intValue === undefined ? value.doubleValue : +value.intValue);
}

Deno.test("tracing with Deno's OTel (OTEL_DENO=true): client and server spans in one trace, sent over OTLP/HTTP", async () => {
  const spans: OtlpSpan[] = [];
  const all = new Map<string, OtlpSpan>();
  const paths = new Set<string>();
  await using receiver = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      paths.add(path);
      if (path === "/v1/traces") {
        const body = (await req.json()) as OtlpTraces;
        for (const resource of body.resourceSpans) {
          for (const scope of resource.scopeSpans) {
            for (const span of scope.spans) all.set(span.spanId, span);
            if (scope.scope.name === "@parley/rpc") spans.push(...scope.spans);
          }
        }
      } else {
        await req.body?.cancel();
      }
      return Response.json({});
    },
  );

  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", "--allow-read", "--allow-env", CHILD.pathname],
    env: {
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.addr.port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "parley-otel-test",
    },
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.equal(new TextDecoder().decode(stdout).trim(), "done");
  // Deno flushes on exit, before the process ends: everything has arrived.
  assert.ok(paths.has("/v1/traces"));

  const named = (name: string, kind: number) => {
    const found = spans.filter((s) => s.name === name && s.kind === kind);
    assert.equal(found.length, 1, `one ${name} of kind ${kind}`);
    return found[0]!;
  };
  const client = named("demo.Greeter/Greet", CLIENT);
  const server = named("demo.Greeter/Greet", SERVER);
  assert.equal(server.traceId, client.traceId);
  assert.match(client.traceId, /^[0-9a-f]{32}$/);
  for (const span of [client, server]) {
    assert.equal(attribute(span, "rpc.system"), "connect_rpc");
    assert.equal(attribute(span, "rpc.service"), "demo.Greeter");
    assert.equal(attribute(span, "rpc.method"), "Greet");
    assert.equal(attribute(span, "rpc.grpc.status_code"), 0);
  }
  // The server's span descends from the client's: directly, or through
  // Deno's own fetch and Deno.serve spans (which are not parley's scope).
  const ancestors: string[] = [];
  for (let id = server.parentSpanId; id !== "" && ancestors.length < 10;) {
    ancestors.push(id);
    id = all.get(id)?.parentSpanId ?? "";
  }
  assert.ok(ancestors.includes(client.spanId), "the server's span descends from the client's");

  const failedClient = named("demo.Greeter/Crash", CLIENT);
  const failedServer = named("demo.Greeter/Crash", SERVER);
  assert.equal(failedServer.traceId, failedClient.traceId);
  assert.notEqual(failedClient.traceId, client.traceId);
  for (const span of [failedClient, failedServer]) {
    assert.equal(attribute(span, "rpc.grpc.status_code"), 13);
    assert.equal(span.status.code, STATUS_ERROR);
    assert.equal(span.events[0]?.name, "exception");
  }
});
