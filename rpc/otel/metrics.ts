/**
 * Metrics as an interceptor: how long calls take and how many are in
 * flight, through `@opentelemetry/api` only.
 *
 * @module
 */

import {
  type Attributes,
  createNoopMeter,
  type Histogram,
  type Meter,
  metrics as api,
  type UpDownCounter,
} from "@opentelemetry/api";
import type { CallHandler, InterceptedCall, Interceptor } from "../interceptors.ts";
import {
  callAttributes,
  type CallNames,
  type MeterProviderLike,
  namesOf,
  outcomeOf,
  type RpcTelemetryOptions,
} from "./_attributes.ts";
import { INSTRUMENTATION, VERSION } from "./_scope.ts";

/** What {@linkcode metrics} takes. */
export interface MetricsOptions extends RpcTelemetryOptions {
  /** Where measurements go; the global provider (`metrics.getMeterProvider()`) by default. */
  readonly meterProvider?: MeterProviderLike;
  /**
   * Which duration histograms to record: `"ms"`, the conventions'
   * `rpc.server.duration` / `rpc.client.duration` in milliseconds (the
   * default, what most dashboards read); `"s"`, the newer
   * `rpc.server.call.duration` / `rpc.client.call.duration` in seconds;
   * `"both"` while moving from one to the other.
   */
  readonly durations?: "ms" | "s" | "both";
}

// The conventions' advice for rpc.*.duration, in ms.
const MS_BUCKETS = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];
const S_BUCKETS = MS_BUCKETS.map((ms) => ms / 1000);

/**
 * An interceptor that measures every call: a histogram of durations
 * (`rpc.server.duration` or `rpc.client.duration`, in ms, by the side it
 * runs on; see {@linkcode MetricsOptions.durations} for the newer ones in
 * seconds) with `rpc.system`, `rpc.service`, `rpc.method` and the
 * outcome's code (`rpc.grpc.status_code`, `rpc.jsonrpc.error_code`,
 * `error.type`) as attributes, and an UpDownCounter of the calls in flight
 * (`rpc.server.active_requests` / `rpc.client.active_requests`: parley's
 * names, after HTTP's `http.server.active_requests`; the RPC conventions
 * have none). With no provider registered it measures nothing (not even
 * the time); a provider registered later is used from then on.
 *
 * @param options the system, the provider, which durations
 * @returns the interceptor, for a client's or a server's `interceptors`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intercept } from "../interceptors.ts";
 * import { metrics } from "./metrics.ts";
 *
 * const result = await intercept([metrics()], async () => 3, {
 *   method: "add",
 *   params: [1, 2],
 *   kind: "call",
 *   side: "server",
 *   signal: new AbortController().signal,
 *   metadata: new Headers(),
 * });
 * assert.equal(result, 3);
 * ```
 */
export function metrics(options: MetricsOptions = {}): Interceptor {
  const durations = options.durations ?? "ms";
  // The api has no proxy for meters: the provider is looked up per call, so
  // that one registered after this interceptor was made is used, and the
  // instruments are made again when it changes.
  let provider: MeterProviderLike | undefined;
  let sides: Sides | undefined;
  const current = () => {
    const now = options.meterProvider ?? api.getMeterProvider();
    if (now !== provider) {
      provider = now;
      const meter = now.getMeter(INSTRUMENTATION, VERSION) as Meter;
      sides = meter.constructor === NOOP_METER.constructor ? undefined : {
        client: instruments(meter, "client", durations),
        server: instruments(meter, "server", durations),
      };
    }
    return sides;
  };

  const interceptor = (next: CallHandler): CallHandler => (call) => {
    const instruments = current();
    // No provider: nothing to measure, not even the time.
    if (instruments === undefined) return next(call);
    return measured(instruments[call.side], namesOf(call, options), options, next, call);
  };
  // Idle, a chain of nothing else takes the path of no interceptors.
  return Object.assign(interceptor, { idle: () => current() === undefined });
}

async function measured(
  { ms, s, active }: Instruments,
  names: CallNames,
  options: MetricsOptions,
  next: CallHandler,
  call: InterceptedCall,
): Promise<unknown> {
  const attributes = callAttributes(names, options);
  active.add(1, attributes);
  const started = performance.now();
  // A throw of `undefined` is still a failure: the flag, not the value, says so.
  let error: unknown;
  let failed = false;
  try {
    return await next(call);
  } catch (thrown) {
    [error, failed] = [thrown, true];
    throw thrown;
  } finally {
    const elapsed = performance.now() - started;
    active.add(-1, attributes);
    const outcome: Attributes = {
      ...attributes,
      ...outcomeOf(names.system, call.side, failed ? error ?? null : undefined).attributes,
    };
    ms?.record(elapsed, outcome);
    s?.record(elapsed / 1000, outcome);
  }
}

const NOOP_METER = createNoopMeter();

interface Instruments {
  readonly ms: Histogram | undefined;
  readonly s: Histogram | undefined;
  readonly active: UpDownCounter;
}
type Sides = Readonly<Record<"client" | "server", Instruments>>;

function instruments(
  meter: Meter,
  side: "client" | "server",
  durations: "ms" | "s" | "both",
): Instruments {
  const description = `Duration of ${side === "server" ? "inbound" : "outbound"} RPCs`;
  return {
    ms: durations === "s" ? undefined : meter.createHistogram(`rpc.${side}.duration`, {
      unit: "ms",
      description,
      advice: { explicitBucketBoundaries: MS_BUCKETS },
    }),
    s: durations === "ms" ? undefined : meter.createHistogram(`rpc.${side}.call.duration`, {
      unit: "s",
      description,
      advice: { explicitBucketBoundaries: S_BUCKETS },
    }),
    active: meter.createUpDownCounter(`rpc.${side}.active_requests`, {
      unit: "{request}",
      description: "RPCs in flight",
    }),
  };
}
