/**
 * The calculator as a gRPC server with reflection and health would serve
 * it: one schema of calculator.proto, health.proto and the reflection
 * protos, and the three services combined; and a reflection conversation
 * for tests (every request sent, every response read, in order).
 *
 * @module
 */

import { loadProto, type ProtoMessage, type ProtoSchema } from "../codecs/protobuf.ts";
import { combineServices } from "../rpc/dispatch.ts";
import type { Service } from "../rpc/service.ts";
import type { RpcStream, StreamCallOptions } from "../rpc/types.ts";
import descriptor from "protobufjs/ext/descriptor.js";
import { protobufRpc } from "../codecs/protobuf.ts";
import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
import type { Peer } from "../rpc/peer.ts";
import { peerStreams } from "../rpc/peer/streams.ts";
import { connectTcp, serveTcp } from "../rpc/transports/tcp.ts";
import {
  HEALTH_PROTO,
  HEALTH_PROTO_FILE,
  type HealthService,
  healthService,
  REFLECTION_PROTOS,
  reflectionService,
} from "../rpc/transports/grpc.ts";
import { protobufCalculator } from "../examples/calculator/protobuf.ts";
import assert from "node:assert/strict";
import { formatOutput, run } from "./interop/_process.ts";

/** The calculator's `.proto` text, read from the example's copy. */
export const CALCULATOR_PROTO: string = Deno.readTextFileSync(
  new URL("../examples/calculator/calculator.proto", import.meta.url),
);

/** The served schema: calculator.proto, health.proto and both reflection protos. */
export function reflectedSchema(): ProtoSchema {
  return loadProto({
    "calculator.proto": CALCULATOR_PROTO,
    [HEALTH_PROTO_FILE]: HEALTH_PROTO,
    ...REFLECTION_PROTOS,
  });
}

/** The calculator, health and reflection, served from one schema. */
export function reflectedCalculator(schema: ProtoSchema = reflectedSchema()): {
  schema: ProtoSchema;
  service: Service;
  health: HealthService;
} {
  const health = healthService(schema);
  const service = combineServices(
    protobufCalculator(schema),
    health.service,
    reflectionService(schema),
  );
  return { schema, service, health };
}

/** A client that opens streams: a Peer with the envelope, or a gRPC client. */
export interface StreamOpener {
  openStream(method: string, params?: undefined, options?: StreamCallOptions): RpcStream;
}

/** The reflection service's wire name, v1 or v1alpha. */
export const reflectionMethod = (version = "v1"): string =>
  `grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`;

/**
 * Sends `requests` on one reflection stream and collects every response.
 *
 * @param caller the client
 * @param requests the ServerReflectionRequests, plain
 * @param version `v1` or `v1alpha`
 * @returns the responses, in order
 */
export async function converse(
  caller: StreamOpener,
  requests: readonly ProtoMessage[],
  version = "v1",
): Promise<Record<string, unknown>[]> {
  async function* input() {
    yield* requests;
  }
  const stream = caller.openStream(reflectionMethod(version), undefined, {
    input: input(),
    timeout: 30_000,
  });
  stream.result.catch(() => {});
  const out: Record<string, unknown>[] = [];
  for await (const message of stream.messages) out.push(message as Record<string, unknown>);
  return out;
}

/**
 * Runs a peer program to completion (at most a minute) and reads the one
 * JSON object it printed; its exit status must be 0.
 *
 * @param command the program (`node`, Debian's python3)
 * @param args its arguments
 * @returns the parsed JSON
 */
// deno-lint-ignore no-explicit-any -- a peer's JSON, read field by field by each test
export async function peerJson(command: string, ...args: string[]): Promise<any> {
  const result = await run(command, { args, timeout: 60_000 });
  assert.equal(result.code, 0, formatOutput(result));
  return JSON.parse(result.stdout);
}

/**
 * A server of `service` over the protobuf envelope on TCP (streams carried),
 * and a client peer of `clientSchema`; `await using` closes both.
 *
 * @param schema the server's schema
 * @param service what it serves
 * @param clientSchema the client's schema (the server's by default)
 * @returns the client peer, and the pair's disposal
 */
export async function envelopePair(
  schema: ProtoSchema,
  service: Service,
  clientSchema: ProtoSchema = schema,
): Promise<{ peer: Peer } & AsyncDisposable> {
  const server = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    codec: protobufRpc({ schema }),
    streams: peerStreams,
    framing: lengthPrefix(),
    service,
  });
  const peer = await connectTcp(server.address, {
    codec: protobufRpc({ schema: clientSchema }),
    streams: peerStreams,
    framing: lengthPrefix(),
  });
  return {
    peer,
    async [Symbol.asyncDispose]() {
      await peer.close();
      await server[Symbol.asyncDispose]();
    },
  };
}

/** Every file a list of reflection responses carried, in order. */
export const filesOf = (replies: readonly Record<string, unknown>[]): Uint8Array[] =>
  replies.flatMap((reply) =>
    (reply.fileDescriptorResponse as { fileDescriptorProto: Uint8Array[] }).fileDescriptorProto
  );

/** The names of the files one reflection response carried. */
export const fileNames = (reply: Record<string, unknown>): string[] =>
  (reply.fileDescriptorResponse as { fileDescriptorProto: Uint8Array[] }).fileDescriptorProto
    .map((bytes) =>
      (descriptor.FileDescriptorProto.decode(bytes) as unknown as { name: string }).name
    );

/** Two proto2 files, one extending the other's message (at the top, and inside a message). */
export const EXTENDED_PROTOS: Readonly<Record<string, string>> = {
  "base.proto": `syntax = "proto2"; package ext;
    message Base { optional int32 a = 1; extensions 100 to 200; }`,
  "more.proto": `syntax = "proto2"; package ext.more; import "base.proto";
    extend ext.Base { optional int32 extra = 100; }
    message Holder { extend ext.Base { optional string note = 101; } optional int32 x = 1; }
    service Ext { rpc Get(ext.Base) returns (Holder); }`,
  ...REFLECTION_PROTOS,
};
