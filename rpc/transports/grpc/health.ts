/**
 * The standard gRPC health service, `grpc.health.v1.Health`, for
 * {@linkcode serveGrpc}: load balancers, Kubernetes probes and
 * `grpc_health_probe` ask it whether the server, or one of its services, is
 * serving.
 *
 * @module
 */

import { loadProto, type ProtoSchema, protoService } from "../../../codecs/protobuf.ts";
import { ConnectError } from "../../../protocols/connect/errors.ts";
import type { CallContext, Service } from "../../service.ts";

/**
 * The official `grpc/health/v1/health.proto` (comments and options left
 * out): give it to `loadProto` beside the application's own `.proto` files,
 * under this file name, so that one schema holds both services.
 *
 * @example Loaded alone
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto } from "../../../codecs/protobuf.ts";
 * import { HEALTH_PROTO } from "./health.ts";
 *
 * const schema = loadProto(HEALTH_PROTO);
 * assert.ok(schema.method("grpc.health.v1.Health/Check"));
 * ```
 */
export const HEALTH_PROTO = `syntax = "proto3";
package grpc.health.v1;
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse {
  enum ServingStatus {
    UNKNOWN = 0;
    SERVING = 1;
    NOT_SERVING = 2;
    SERVICE_UNKNOWN = 3;
  }
  ServingStatus status = 1;
}
service Health {
  rpc Check(HealthCheckRequest) returns (HealthCheckResponse);
  rpc Watch(HealthCheckRequest) returns (stream HealthCheckResponse);
}
`;

/**
 * The file name {@linkcode HEALTH_PROTO} is known by, as in grpc's own tree:
 * its key when `loadProto` reads it beside your own `.proto` files.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto } from "../../../codecs/protobuf.ts";
 * import { HEALTH_PROTO, HEALTH_PROTO_FILE } from "./health.ts";
 *
 * const schema = loadProto({ [HEALTH_PROTO_FILE]: HEALTH_PROTO });
 * assert.ok(schema.message("grpc.health.v1.HealthCheckRequest"));
 * ```
 */
export const HEALTH_PROTO_FILE = "grpc/health/v1/health.proto";

/** A status that {@linkcode HealthService.setStatus} sets. */
export type HealthStatus = "SERVING" | "NOT_SERVING";

// The ServingStatus enum's numbers: messages are encoded from numbers.
const SERVING_STATUS: Readonly<Record<HealthStatus, number>> = { SERVING: 1, NOT_SERVING: 2 };
// What Watch sends for a name never set (Check answers 5 NOT_FOUND).
const SERVICE_UNKNOWN = 3;

/** The health service's state and what serves it: from {@linkcode healthService}. */
export interface HealthService {
  /** `grpc.health.v1.Health` (Check, Watch), for `serveGrpc`'s `service` (with `combineServices`). */
  readonly service: Service;
  /**
   * Sets the status of the service `name` (its full name, such as
   * `"interop.Calculator"`; `""` is the whole server), adding it when new;
   * the callers watching it are sent the new status.
   */
  setStatus(name: string, status: HealthStatus): void;
  /** The status of `name`, or `undefined` when it is not known (Check: 5 NOT_FOUND). */
  status(name: string): HealthStatus | undefined;
  /** How many `Watch` calls are open (they end when their callers cancel). */
  readonly watchers: number;
}

// One Watch call: the latest status not sent yet (one slot, not a queue, so
// a caller that does not read costs one number), and its wake-up.
interface Watcher {
  latest: number | undefined;
  wake: (() => void) | undefined;
}

/**
 * The gRPC health service: a status per service name, `""` (the whole
 * server) SERVING from the start. `Check` answers `{ status }`, or 5
 * NOT_FOUND for a name never set; `Watch` (server streaming) sends the
 * current status at once (3 SERVICE_UNKNOWN for a name never set, which is
 * not an error), then each change, until the caller cancels; a watcher that
 * does not read is sent only the latest status when it does. As the gRPC
 * health protocol says.
 *
 * @param schema a schema holding `grpc.health.v1.Health`: by default
 * {@linkcode HEALTH_PROTO} alone; to serve it beside an application's
 * services on one `serveGrpc`, the schema that `loadProto` made of both
 * @returns the service and its statuses
 *
 * @example Beside the application's service on one server
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protoClient, protoService } from "../../../codecs/protobuf.ts";
 * import { combineServices } from "../../dispatch.ts";
 * import { connectGrpc, HEALTH_PROTO, HEALTH_PROTO_FILE, healthService, serveGrpc } from "../grpc.ts";
 *
 * const schema = loadProto({
 *   "greeter.proto": `
 *     syntax = "proto3";
 *     package demo;
 *     message Name { string name = 1; }
 *     service Greeter { rpc Greet(Name) returns (Name); }`,
 *   [HEALTH_PROTO_FILE]: HEALTH_PROTO,
 * });
 * const health = healthService(schema);
 * health.setStatus("demo.Greeter", "SERVING");
 * const greeter = protoService(schema, "demo.Greeter", {
 *   Greet: ({ name }: { name: string }) => ({ name: `Hello, ${name}` }),
 * });
 * await using server = await serveGrpc({
 *   schema,
 *   service: combineServices(greeter, health.service),
 * });
 * await using client = connectGrpc(server.url, { schema });
 * type Health = { Check(request: { service: string }): Promise<{ status: number }> };
 * const check = protoClient<Health>(client, schema, "grpc.health.v1.Health");
 * assert.deepEqual(await check.Check({ service: "demo.Greeter" }), { status: 1 }); // SERVING
 * health.setStatus("demo.Greeter", "NOT_SERVING");
 * assert.deepEqual(await check.Check({ service: "demo.Greeter" }), { status: 2 });
 * ```
 *
 * @example Watching over the protobuf envelope
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protobufRpc, protoClient } from "../../../codecs/protobuf.ts";
 * import { Peer } from "../../peer.ts";
 * import { peerStreams } from "../../peer/streams.ts";
 * import { memoryPair } from "../../testing.ts";
 * import { HEALTH_PROTO, healthService } from "./health.ts";
 *
 * const schema = loadProto(HEALTH_PROTO);
 * const health = healthService(schema);
 * const [a, b] = memoryPair();
 * const server = new Peer(a, { codec: protobufRpc({ schema }), streams: peerStreams, service: health.service });
 * const peer = new Peer(b, { codec: protobufRpc({ schema }), streams: peerStreams });
 * type Health = { Watch(request: { service: string }): AsyncIterable<{ status: number }> };
 * const watch = protoClient<Health>(peer, schema, "grpc.health.v1.Health");
 * const seen = [];
 * for await (const { status } of watch.Watch({ service: "demo.Greeter" })) {
 *   seen.push(status);
 *   if (status === 3) health.setStatus("demo.Greeter", "SERVING"); // SERVICE_UNKNOWN at first
 *   else break; // leaving the loop cancels the call
 * }
 * assert.deepEqual(seen, [3, 1]);
 * await peer.close();
 * await server.closed;
 * ```
 */
export function healthService(schema: ProtoSchema = loadProto(HEALTH_PROTO)): HealthService {
  const statuses = new Map<string, HealthStatus>([["", "SERVING"]]);
  const watchers = new Map<string, Set<Watcher>>();
  const current = (name: string) => {
    const status = statuses.get(name);
    return status === undefined ? SERVICE_UNKNOWN : SERVING_STATUS[status];
  };
  const service = protoService(schema, "grpc.health.v1.Health", {
    Check: ({ service }: { service: string }) => {
      const status = statuses.get(service);
      if (status === undefined) {
        throw new ConnectError("not_found", `Unknown service: ${JSON.stringify(service)}`);
      }
      return { status: SERVING_STATUS[status] };
    },
    Watch: async function* ({ service }: { service: string }, ctx: CallContext) {
      const watcher: Watcher = { latest: undefined, wake: undefined };
      const aborted = () => watcher.wake?.();
      ctx.signal.addEventListener("abort", aborted);
      if (!watchers.has(service)) watchers.set(service, new Set());
      watchers.get(service)!.add(watcher);
      try {
        let sent = current(service);
        yield { status: sent };
        while (!ctx.signal.aborted) {
          if (watcher.latest === undefined || watcher.latest === sent) {
            watcher.latest = undefined;
            await new Promise<void>((resolve) => watcher.wake = resolve);
            watcher.wake = undefined;
            continue;
          }
          sent = watcher.latest;
          watcher.latest = undefined;
          yield { status: sent };
        }
      } finally {
        ctx.signal.removeEventListener("abort", aborted);
        const set = watchers.get(service);
        set?.delete(watcher);
        if (set?.size === 0) watchers.delete(service);
      }
    },
  });
  return {
    service,
    setStatus: (name, status) => {
      statuses.set(name, status);
      for (const watcher of watchers.get(name) ?? []) {
        watcher.latest = SERVING_STATUS[status];
        watcher.wake?.();
      }
    },
    status: (name) => statuses.get(name),
    get watchers() {
      let open = 0;
      for (const set of watchers.values()) open += set.size;
      return open;
    },
  };
}
