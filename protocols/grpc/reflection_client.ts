/**
 * The client side of gRPC server reflection: a server's services and the
 * schema of their messages, asked of the server itself, so that it can be
 * called with no `.proto` file on hand (what `parley list grpc://…` and
 * `parley call grpc://…` do).
 *
 * @module
 */

import protobuf from "protobufjs";
import descriptor, { type IFileDescriptorProto } from "protobufjs/ext/descriptor.js";
import { loadProto, type ProtoMessage, type ProtoSchema } from "../../codecs/protobuf.ts";
import type { CallOptions, RpcParams, RpcStream, StreamCallOptions } from "../../rpc/types.ts";
import { ErrorCode, RpcError } from "../../rpc/errors.ts";
import { ConnectError } from "../connect/errors.ts";
import { REFLECTION_SERVICES } from "./reflection.ts";
import { grpcError } from "./_status.ts";

/**
 * What {@linkcode reflectSchema} calls through: a client whose schema holds
 * `REFLECTION_PROTOS` and that opens bidirectional streams (`connectGrpc`'s
 * client, a `Peer` with the protobuf envelope and `peerStreams`).
 */
export interface ReflectionCaller {
  /** Opens a streaming call by wire name. */
  openStream(method: string, params?: RpcParams, options?: StreamCallOptions): RpcStream;
}

/** What a server said of itself through reflection. */
export interface ReflectedSchema {
  /** The services `list_services` named, as it ordered them. */
  readonly services: readonly string[];
  /** The schema of their files and every file they import, from their descriptors. */
  readonly schema: ProtoSchema;
  /** The reflection service that answered (`grpc.reflection.v1.ServerReflection`, or v1alpha). */
  readonly via: string;
}

// One reflection conversation: a request written, its response read, in turn.
class Conversation {
  readonly #requests: ProtoMessage[] = [];
  #wake: (() => void) | undefined;
  #done = false;
  readonly #replies: AsyncIterator<unknown>;
  readonly #stream: RpcStream;

  constructor(caller: ReflectionCaller, service: string, options: CallOptions) {
    this.#stream = caller.openStream(`${service}/ServerReflectionInfo`, undefined, {
      ...options,
      input: this.#input(),
    });
    this.#stream.result.catch(() => {}); // its error ends the replies' loop
    this.#replies = this.#stream.messages[Symbol.asyncIterator]();
  }

  // The requests, each sent once asked; the stream ends when the conversation does.
  async *#input(): AsyncGenerator<ProtoMessage> {
    while (!this.#done) {
      const next = this.#requests.shift();
      if (next !== undefined) yield next;
      else await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  async ask(request: ProtoMessage): Promise<ProtoMessage> {
    this.#requests.push(request);
    this.#wake?.();
    const reply = await this.#replies.next();
    if (reply.done) throw new ConnectError("internal", "The reflection stream ended early");
    return reply.value as ProtoMessage;
  }

  async close(): Promise<void> {
    this.#done = true;
    this.#wake?.();
    await this.#replies.return?.();
  }
}

// A response's files, or its error as a ConnectError.
function filesOf(reply: ProtoMessage, asked: string): Uint8Array[] {
  const error = reply.errorResponse as { errorCode: number; errorMessage: string } | undefined;
  if (error !== undefined) {
    throw grpcError(error.errorCode, `${asked}: ${error.errorMessage}`);
  }
  const files = reply.fileDescriptorResponse as { fileDescriptorProto: Uint8Array[] } | undefined;
  if (files === undefined) throw new ConnectError("internal", `${asked}: not a file reply`);
  return files.fileDescriptorProto;
}

/**
 * Asks a server for its services and their schema through gRPC reflection
 * (v1; v1alpha when the server has only that): `list_services`, then each
 * service's file and every file it imports. The schema calls the services
 * like one `loadProto` made of their `.proto` files.
 *
 * @param caller a streaming client whose schema holds `REFLECTION_PROTOS`
 * @param options the conversation's timeout and abort signal
 * @returns the services and their schema
 * @throws {ConnectError} the server's error (12 UNIMPLEMENTED: it has no
 * reflection), or a file it could not find
 *
 * @example Asking a parley peer over the protobuf envelope
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadProto, protobufRpc, protoService } from "../../codecs/protobuf.ts";
 * import { combineServices } from "../../rpc/dispatch.ts";
 * import { Peer } from "../../rpc/peer.ts";
 * import { peerStreams } from "../../rpc/peer/streams.ts";
 * import { memoryPair } from "../../rpc/testing.ts";
 * import { REFLECTION_PROTOS, reflectionService } from "./reflection.ts";
 * import { reflectSchema } from "./reflection_client.ts";
 *
 * const served = loadProto({
 *   "greeter.proto": `syntax = "proto3"; package demo; message Name { string name = 1; }
 *     service Greeter { rpc Greet(Name) returns (Name); }`,
 *   ...REFLECTION_PROTOS,
 * });
 * const greeter = protoService(served, "demo.Greeter", { Greet: (name: object) => name });
 * const [a, b] = memoryPair();
 * const server = new Peer(a, {
 *   codec: protobufRpc({ schema: served }),
 *   streams: peerStreams,
 *   service: combineServices(greeter, reflectionService(served)),
 * });
 * // The caller knows the reflection service only.
 * const peer = new Peer(b, {
 *   codec: protobufRpc({ schema: loadProto(REFLECTION_PROTOS) }),
 *   streams: peerStreams,
 * });
 * const { services, schema } = await reflectSchema(peer);
 * assert.ok(services.includes("demo.Greeter"));
 * assert.ok(schema.method("demo.Greeter/Greet"));
 * await peer.close();
 * await server.closed;
 * ```
 */
export async function reflectSchema(
  caller: ReflectionCaller,
  options: CallOptions = {},
): Promise<ReflectedSchema> {
  let via = REFLECTION_SERVICES[0]!;
  let talk = new Conversation(caller, via, options);
  try {
    let listed: ProtoMessage;
    try {
      listed = await talk.ask({ listServices: "" });
    } catch (error) {
      // No v1 here: 12 UNIMPLEMENTED over gRPC, "method not found" over the envelope.
      const unknown = error instanceof RpcError &&
        (error.code === 12 || error.code === ErrorCode.MethodNotFound);
      if (!unknown) throw error;
      await talk.close();
      via = REFLECTION_SERVICES[1]!;
      talk = new Conversation(caller, via, options); // an older server: v1alpha only
      listed = await talk.ask({ listServices: "" });
    }
    const list = listed.listServicesResponse as { service: { name: string }[] } | undefined;
    if (list === undefined) filesOf(listed, "list_services");
    const services = list!.service.map((s) => s.name);
    const files = new Map<string, FileProto>();
    const add = (encoded: Uint8Array[]) => {
      for (const bytes of encoded) {
        const file = descriptor.FileDescriptorProto.decode(bytes) as unknown as FileProto;
        if (!files.has(file.name)) files.set(file.name, file);
      }
    };
    for (const service of services) {
      add(filesOf(await talk.ask({ fileContainingSymbol: service }), service));
    }
    // A server may leave out files sent before on the stream (grpc-go does): ask for any missing.
    for (let missing = missingOf(files); missing !== undefined; missing = missingOf(files)) {
      add(filesOf(await talk.ask({ fileByFilename: missing }), missing));
      if (!files.has(missing)) {
        throw new ConnectError("internal", `${missing}: the server sent other files`);
      }
    }
    const root = protobuf.Root.fromDescriptor({
      file: [...files.values()] as unknown as IFileDescriptorProto[],
    });
    return { services, schema: loadProto(root.toJSON()), via };
  } finally {
    await talk.close();
  }
}

// What reflectSchema reads of a decoded FileDescriptorProto.
interface FileProto {
  readonly name: string;
  readonly dependency: string[];
}

function missingOf(files: ReadonlyMap<string, FileProto>): string | undefined {
  for (const file of files.values()) {
    const missing = file.dependency.find((name) => !files.has(name));
    if (missing !== undefined) return missing;
  }
  return undefined;
}
