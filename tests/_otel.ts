/**
 * The OpenTelemetry SDK set up once for a test process, as an application
 * would: a tracer provider whose spans land in an in-memory exporter, an
 * AsyncLocalStorage context manager (so `context.with` carries across
 * awaits in Deno), and the W3C trace-context propagator, all global.
 */

import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";

/** Every span ended in this process, since the last `reset()`. */
export const exporter = new InMemorySpanExporter();

trace.setGlobalTracerProvider(
  new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }),
);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());

/** The ended spans whose name is `name`, of `kind`. */
export function spansNamed(name: string, kind?: SpanKind): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((span) =>
    span.name === name && (kind === undefined || span.kind === kind)
  );
}

/** The one client span and the one server span of a call named `name`. */
export function callSpans(name: string): { client: ReadableSpan; server: ReadableSpan } {
  const [client, ...moreClients] = spansNamed(name, SpanKind.CLIENT);
  const [server, ...moreServers] = spansNamed(name, SpanKind.SERVER);
  if (client === undefined || server === undefined) {
    throw new Error(`no client and server span named ${name}`);
  }
  if (moreClients.length + moreServers.length > 0) throw new Error(`more spans named ${name}`);
  return { client, server };
}

// A reader with no timer (a periodic one would leak its interval into the test).
class OnDemandReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** A meter provider whose measurements `collect()` reads (cumulative, on demand). */
export function meterForTest(): {
  provider: MeterProvider;
  collect: () => Promise<Map<string, { value: unknown; attributes: Record<string, unknown> }[]>>;
} {
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ readers: [reader] });
  return {
    provider,
    collect: async () => {
      const { resourceMetrics } = await reader.collect();
      const points = new Map<string, { value: unknown; attributes: Record<string, unknown> }[]>();
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          points.set(
            metric.descriptor.name,
            metric.dataPoints.map((p) => ({
              value: p.value,
              attributes: { ...p.attributes, unit: metric.descriptor.unit },
            })),
          );
        }
      }
      return points;
    },
  };
}
