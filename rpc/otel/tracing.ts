/**
 * Tracing as an interceptor: a span per call, through `@opentelemetry/api`
 * only, so that whatever provider the program registers (the SDK's, or
 * Deno's built-in one with `OTEL_DENO=true`) records it, and nothing does
 * when none is.
 *
 * @module
 */

import {
  type Context,
  context,
  INVALID_SPANID,
  propagation,
  ProxyTracerProvider,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import { RpcError } from "../errors.ts";
import type { CallHandler, Interceptor } from "../interceptors.ts";
import {
  callAttributes,
  type CallNames,
  namesOf,
  outcomeOf,
  type PropagatorLike,
  type RpcTelemetryOptions,
  type TracerProviderLike,
} from "./_attributes.ts";
import { INSTRUMENTATION, VERSION } from "./_scope.ts";

/** What {@linkcode tracing} takes. */
export interface TracingOptions extends RpcTelemetryOptions {
  /** Where spans go; the global provider (`trace.getTracerProvider()`) by default. */
  readonly tracerProvider?: TracerProviderLike;
  /**
   * How trace context travels in the call's metadata; the global
   * propagator by default (`propagation.setGlobalPropagator`: the SDK's
   * `W3CTraceContextPropagator`, or Deno's, which sends `traceparent`).
   */
  readonly propagator?: PropagatorLike;
}

// Metadata is a Headers object: the api's default accessors read plain objects.
const headersSetter: TextMapSetter<Headers> = {
  set: (carrier, key, value) => carrier.set(key, value),
};
const headersGetter: TextMapGetter<Headers> = {
  get: (carrier, key) => carrier.get(key) ?? undefined,
  keys: (carrier) => [...carrier.keys()],
};

/**
 * An interceptor that traces every call per the OpenTelemetry RPC
 * semantic conventions. On a client it starts a CLIENT span (a child of
 * the active span) and injects its context into the call's metadata
 * (`traceparent`); on a server it extracts the caller's context from the
 * metadata, starts a SERVER span as its child, and runs the handler in
 * that span's context, so that calls the handler makes continue the trace.
 * Spans are named `service/method` (the method alone when there is no
 * service) and carry `rpc.system`, `rpc.service`, `rpc.method`,
 * `rpc.jsonrpc.*` or `rpc.grpc.status_code`; a failure sets the status to
 * ERROR and records the exception. With no provider registered, the api's
 * spans record nothing and this does no more than start and end them.
 *
 * @param options the system, the server's address, the provider
 * @returns the interceptor, for a client's or a server's `interceptors`
 *
 * @example A client and a server, one trace (with no provider, the api's no-op)
 * ```ts
 * import assert from "node:assert/strict";
 * import { Peer } from "../peer.ts";
 * import { memoryPair } from "../testing.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { tracing } from "./tracing.ts";
 *
 * const [a, b] = memoryPair();
 * const server = new Peer(a, {
 *   codec: jsonRpc(),
 *   service: { add: (x: number, y: number) => x + y },
 *   interceptors: [tracing()],
 * });
 * const client = new Peer(b, { codec: jsonRpc(), interceptors: [tracing()] });
 * assert.equal(await client.call("add", [1, 2]), 3);
 * await client.close();
 * await server.closed;
 * ```
 */
export function tracing(options: TracingOptions = {}): Interceptor {
  // A ProxyTracer when global: it follows a provider registered later.
  const tracer = (options.tracerProvider ?? trace).getTracer(INSTRUMENTATION, VERSION) as Tracer;
  const propagator = options.propagator as TextMapPropagator<Headers> | undefined;
  const inject = propagator === undefined
    ? (ctx: Context, carrier: Headers) => propagation.inject(ctx, carrier, headersSetter)
    : (ctx: Context, carrier: Headers) => propagator.inject(ctx, carrier, headersSetter);
  const extract = propagator === undefined
    ? (ctx: Context, carrier: Headers) => propagation.extract(ctx, carrier, headersGetter)
    : (ctx: Context, carrier: Headers) => propagator.extract(ctx, carrier, headersGetter);

  // Nothing registered (the api alone): nothing to record and no context to carry.
  const idle = options.tracerProvider === undefined && propagator === undefined
    ? () => {
      // The api's registry, read first: with nothing registered in it (no
      // provider, no propagator: the common case) the call is idle without
      // asking the api. A provider registered later is found there.
      const registry = (globalThis as { [API]?: Record<string, unknown> })[API];
      if (
        registry === undefined || registry.trace === undefined && registry.propagation === undefined
      ) {
        return true;
      }
      const provider = trace.getTracerProvider();
      return provider instanceof ProxyTracerProvider && provider.getDelegate() === NOOP_PROVIDER &&
        propagation.fields().length === 0;
    }
    : () => false;

  const interceptor = (next: CallHandler): CallHandler => (call) => {
    if (idle()) return next(call);
    const client = call.side === "client";
    const parent = client ? context.active() : extract(context.active(), call.metadata);
    const kind = client ? SpanKind.CLIENT : SpanKind.SERVER;
    const span = tracer.startSpan(spanName(call.method, options.service), { kind }, parent);
    if (!span.isRecording()) {
      // No provider, or not sampled: nothing to record, only a context to pass on, if any.
      // (The tracer gives the invalid context or a valid one: no need to check its digits.)
      if (span.spanContext().spanId === INVALID_SPANID) return next(call);
      const active = trace.setSpan(parent, span);
      if (client) inject(active, call.metadata);
      return context.with(active, next, null, call);
    }
    const names = namesOf(call, options);
    span.setAttributes(callAttributes(names, options));
    if (names.system === "jsonrpc") {
      span.setAttribute("rpc.jsonrpc.version", "2.0");
      if (!client && call.context?.id !== undefined) {
        span.setAttribute("rpc.jsonrpc.request_id", String(call.context.id));
      }
    }
    const active = trace.setSpan(parent, span);
    if (client) inject(active, call.metadata);
    // In the span's context, the handler's own calls and the transport's
    // spans (Deno's fetch, say) are its children.
    return settle(span, names, call.side, context.with(active, next, null, call));
  };
  // Idle, a chain of nothing else takes the path of no interceptors.
  return Object.assign(interceptor, { idle });
}

// Where @opentelemetry/api 1.x keeps what is registered (its global-utils.ts).
const API = Symbol.for("opentelemetry.js.api.1");

// What a ProxyTracerProvider delegates to while no provider is registered.
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

// `service/method`, or the method alone when the call names no service.
function spanName(method: string, service: string | undefined): string {
  if (method.includes("/")) return method.startsWith("/") ? method.slice(1) : method;
  return service === undefined ? method : `${service}/${method}`;
}

async function settle(
  span: Span,
  names: CallNames,
  side: "client" | "server",
  outcome: Promise<unknown>,
): Promise<unknown> {
  try {
    const result = await outcome;
    span.setAttributes(outcomeOf(names.system, side, undefined).attributes);
    return result;
  } catch (error) {
    const { attributes, failed } = outcomeOf(names.system, side, error);
    span.setAttributes(attributes);
    if (error instanceof RpcError && names.system === "jsonrpc") {
      span.setAttribute("rpc.jsonrpc.error_message", error.message);
    }
    if (failed) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(error) });
      span.recordException(error instanceof Error ? error : messageOf(error));
    }
    throw error;
  } finally {
    span.end();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
