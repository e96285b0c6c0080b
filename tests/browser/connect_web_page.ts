/**
 * What a page runs in the Chromium test of gRPC-Web
 * (`tests/grpc_web_browser_test.ts`): connect-web's gRPC-Web transport, the
 * one browsers use, calling the calculator on another origin: unary Add,
 * server-streaming Range, errors with their InvalidOperation details, and
 * the `x-request-tag` echo. Bundled for the browser with `deno bundle`; the
 * service's descriptors come from calculator.proto by protoc, fetched by the
 * page.
 *
 * @module
 */

import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";

/** A call's outcome as plain JSON: its result, or its error; the echo it got. */
export interface Outcome {
  readonly result?: unknown;
  readonly code?: string;
  readonly message?: string;
  readonly details?: { whatOp: number; why: string }[];
  /** The `x-request-tag` sent came back as the header and the trailer `x-request-tag-end`. */
  readonly echo: boolean;
}

/**
 * Calls the calculator at `baseUrl` over gRPC-Web.
 *
 * @param baseUrl the server's origin
 * @param descriptors the URL of calculator.proto's `FileDescriptorSet`
 * @returns what came back, by call
 */
export async function run(baseUrl: string, descriptors: string): Promise<Record<string, Outcome>> {
  const bytes = new Uint8Array(await (await fetch(descriptors)).arrayBuffer());
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
  const Calculator = registry.getService("interop.Calculator")!;
  const InvalidOperation = registry.getMessage("interop.InvalidOperation")!;
  // The descriptors are read at run time: the methods are untyped.
  type Method = (request: unknown, options: unknown) => Promise<Record<string, unknown>>;
  type Messages = (request: unknown, options: unknown) => AsyncIterable<Record<string, unknown>>;
  const client = createClient(Calculator, createGrpcWebTransport({ baseUrl })) as unknown as {
    add: Method;
    range: Messages;
  };
  type Call = (options: Record<string, unknown>) => Promise<unknown>;
  let tags = 0;
  const outcome = async (call: Call): Promise<Outcome> => {
    const tag = `page-${++tags}`;
    let header: string | null = null;
    let trailer: string | null = null;
    const options = {
      headers: { "x-request-tag": tag },
      onHeader: (headers: Headers) => header = headers.get("x-request-tag"),
      onTrailer: (trailers: Headers) => trailer = trailers.get("x-request-tag-end"),
    };
    try {
      const result = await call(options);
      return { result, echo: header === tag && trailer === tag };
    } catch (error) {
      if (!(error instanceof ConnectError)) throw error;
      header ??= error.metadata.get("x-request-tag");
      trailer ??= error.metadata.get("x-request-tag-end");
      const details = error.findDetails(InvalidOperation)
        .map((d) => {
          const { whatOp, why } = d as unknown as { whatOp: number; why: string };
          return { whatOp, why };
        });
      return {
        code: Code[error.code],
        message: error.rawMessage,
        details,
        echo: header === tag && trailer === tag,
      };
    }
  };
  const range = async (request: Record<string, unknown>, options: Record<string, unknown>) => {
    const values: string[] = [];
    for await (const n of client.range(request, options)) values.push(String(n.value));
    return values;
  };
  return {
    add: await outcome(async (o) => (await client.add({ num1: 1, num2: 2 }, o)).sum),
    overflow: await outcome((o) => client.add({ num1: 2 ** 31 - 1, num2: 1 }, o)),
    range: await outcome((o) => range({ start: 2 ** 31 - 1, count: 3 }, o)),
    invalidCount: await outcome((o) => range({ count: -1 }, o)),
  };
}
