/**
 * OpenTelemetry for parley, as interceptors: {@linkcode tracing} (a span
 * per call, W3C trace context carried in the call's metadata) and
 * {@linkcode metrics} (durations, calls in flight). They use
 * `@opentelemetry/api` only: register a provider (the SDK's, or run with
 * `OTEL_DENO=true` for Deno's own) and they record; register none and
 * they cost next to nothing. See docs/telemetry.md.
 *
 * @example Both, on a server's peer
 * ```ts
 * import assert from "node:assert/strict";
 * import { metrics, tracing } from "./mod.ts";
 * import { Peer } from "../peer.ts";
 * import { memoryPair } from "../testing.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 *
 * const [a, b] = memoryPair();
 * const server = new Peer(a, {
 *   codec: jsonRpc(),
 *   service: { add: (x: number, y: number) => x + y },
 *   interceptors: [tracing(), metrics()],
 * });
 * const client = new Peer(b, { codec: jsonRpc(), interceptors: [tracing(), metrics()] });
 * assert.equal(await client.call("add", [2, 3]), 5);
 * await client.close();
 * await server.closed;
 * ```
 *
 * @module
 */

export { tracing, type TracingOptions } from "./tracing.ts";
export { metrics, type MetricsOptions } from "./metrics.ts";
export type {
  MeterProviderLike,
  PropagatorLike,
  RpcTelemetryOptions,
  TelemetryAttributes,
  TracerProviderLike,
} from "./_attributes.ts";
