/**
 * The calculator over gRPC (`--transport grpc` and `grpcs`): the protobuf
 * service of `protobuf.ts` with every kind of call, InvalidOperation as
 * status 3 INVALID_ARGUMENT with its `google.rpc.Status` detail, the
 * contract's `x-request-tag` echo on every call, and the standard health
 * and reflection services beside it (so `parley list grpc://…` and grpcurl
 * need no `.proto`).
 *
 * @module
 */

import type { CallMetadata } from "../../rpc/call_metadata.ts";
import { combineServices } from "../../rpc/dispatch.ts";
import type { Interceptor } from "../../rpc/interceptors.ts";
import {
  type GrpcServer,
  HEALTH_PROTO,
  HEALTH_PROTO_FILE,
  healthService,
  REFLECTION_PROTOS,
  reflectionService,
  serveGrpc,
} from "../../rpc/transports/grpc.ts";
import { loadProto, type ProtoSchema } from "../../codecs/protobuf.ts";
import { ERROR_DETAILS, protobufCalculator } from "./protobuf.ts";

/**
 * The contract's metadata echo: a request header `x-request-tag` comes back
 * as the response header `x-request-tag` and the trailer
 * `x-request-tag-end`, on every call, failing ones included.
 *
 * @param metadata the call's metadata
 */
export function echoRequestTag({ request, headers, trailers }: CallMetadata): void {
  const tag = request.get("x-request-tag");
  if (tag === null) return;
  headers.set("x-request-tag", tag);
  trailers.set("x-request-tag-end", tag);
}

/** The calculator's schema with the health and reflection services' beside it. */
export function calculatorGrpcSchema(): ProtoSchema {
  return loadProto({
    "calculator.proto": Deno.readTextFileSync(new URL("./calculator.proto", import.meta.url)),
    [HEALTH_PROTO_FILE]: HEALTH_PROTO,
    ...REFLECTION_PROTOS,
  });
}

/** Where and how {@linkcode serveCalculatorGrpc} listens. */
export interface CalculatorGrpcOptions {
  /** The address to bind. */
  readonly hostname: string;
  /** The port; 0 picks a free one. */
  readonly port: number;
  /**
   * PEM certificate and key: TLS with ALPN h2 (grpcs); with `clientCa`,
   * mutual TLS (clients must present a certificate one of those CAs signed).
   */
  readonly tls?: {
    readonly cert: string;
    readonly key: string;
    readonly clientCa?: readonly string[];
  };
  /** Send handler error details (development only). */
  readonly exposeErrors: boolean;
  /** Told about handler errors and failed requests. */
  readonly onError: (error: unknown) => void;
  /** Run around every call (the example server's logging). */
  readonly interceptors?: readonly Interceptor[];
}

/**
 * Serves the calculator over gRPC.
 *
 * @param options where and how to listen
 * @returns the server, once it listens
 */
export function serveCalculatorGrpc(options: CalculatorGrpcOptions): Promise<GrpcServer> {
  const schema = calculatorGrpcSchema();
  const health = healthService(schema);
  health.setStatus("interop.Calculator", "SERVING");
  return serveGrpc({
    hostname: options.hostname,
    port: options.port,
    ...options.tls,
    schema,
    service: combineServices(
      protobufCalculator(schema),
      health.service,
      reflectionService(schema),
    ),
    errorDetails: ERROR_DETAILS,
    errorStatus: () => 3, // InvalidOperation → INVALID_ARGUMENT
    onCall: echoRequestTag,
    exposeErrors: options.exposeErrors,
    onError: options.onError,
    ...(options.interceptors === undefined ? {} : { interceptors: options.interceptors }),
  });
}
