// The CLI's gRPC client (grpc:// and grpcs://): the schema from the
// `--proto` files given, or else asked of the server through reflection
// (no `.proto` on hand); unary calls, and server-streaming calls whose
// messages the caller prints as they come. Its connections close as any
// client's do: GOAWAY, then the socket.

import { loadProto, type ProtoSchema } from "../codecs/protobuf.ts";
import type { RpcParams } from "../rpc/types.ts";
import { connectGrpc, REFLECTION_PROTOS, reflectSchema } from "../rpc/transports/grpc.ts";
import { ConnectError } from "../protocols/connect.ts";
import { RpcError } from "../rpc/errors.ts";
import { UsageError } from "./endpoint.ts";

/** What `list` and `call` need of a gRPC server. */
export interface GrpcCliClient {
  /** The schema: the `--proto` files', or the server's own through reflection. */
  readonly protoSchema: ProtoSchema;
  /** The services the server listed (reflection), or undefined with `--proto`. */
  readonly reflected?: readonly string[];
  /** A unary call. */
  call(method: string, params: RpcParams | undefined): Promise<unknown>;
  /** A server-streaming call's messages. */
  stream(method: string, params: RpcParams | undefined): AsyncIterable<unknown>;
  /** Closes the connection. */
  close(): Promise<void>;
}

/** How the command line connects to a gRPC server. */
export interface GrpcCliOptions {
  /** `--proto` files, read already (name → text); without them, reflection. */
  readonly proto?: Readonly<Record<string, string>> | undefined;
  /** `--header` metadata. */
  readonly headers: Readonly<Record<string, string>>;
  /** `--timeout`, for each call and for reflection. */
  readonly timeout?: number | undefined;
  /** `--ca` certificates (PEM) for grpcs://. */
  readonly caCerts?: readonly string[] | undefined;
}

/**
 * Connects to the gRPC server at `url`; without `--proto`, asks it for its
 * schema through reflection first (on a connection of its own).
 *
 * @throws {UsageError} for `--proto` files that do not load
 * @throws {Error} the server's error when reflection fails (12: it has none)
 */
export async function openGrpcClient(url: string, options: GrpcCliOptions): Promise<GrpcCliClient> {
  const connection = (schema: ProtoSchema) =>
    connectGrpc(url, {
      schema,
      headers: options.headers,
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      ...(options.caCerts === undefined ? {} : { caCerts: options.caCerts }),
    });
  let schema: ProtoSchema;
  let reflected: readonly string[] | undefined;
  if (options.proto !== undefined) {
    try {
      schema = loadProto(options.proto);
    } catch (error) {
      throw new UsageError(`--proto: ${(error as Error).message}`);
    }
  } else {
    await using asking = connection(loadProto(REFLECTION_PROTOS));
    const answer = await reflectSchema(
      asking,
      options.timeout === undefined ? {} : { timeout: options.timeout },
    ).catch((error: unknown) => {
      if (error instanceof RpcError && error.code === 12) {
        throw new ConnectError(
          "unimplemented",
          `The server has no reflection service (${error.message}): give --proto FILE`,
          [],
          { cause: error },
        );
      }
      throw error;
    });
    schema = answer.schema;
    reflected = answer.services;
  }
  const client = connection(schema);
  return {
    protoSchema: schema,
    ...(reflected === undefined ? {} : { reflected }),
    call: (method, params) => client.call(method, params),
    stream: (method, params) => {
      const stream = client.openStream(method, params);
      stream.result.catch(() => {}); // its error ends the messages' loop
      return stream.messages;
    },
    close: () => client.close(),
  };
}
