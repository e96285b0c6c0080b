/**
 * What the Connect streaming tests share: the calculator served by
 * `connectHandler` (as `--codec protobuf --transport http` serves it, with
 * the contract's `x-request-tag` echo), a small streaming service whose
 * handlers report what happened to them, and a raw client that writes and
 * reads envelopes itself.
 *
 * @module
 */

import { loadProto, protoService } from "../codecs/protobuf.ts";
import { connectHandler, type ConnectHandlerOptions } from "../protocols/connect.ts";
import { envelope } from "../protocols/connect/_envelope.ts";
import { concat } from "../testing/framing_helpers.ts";
import { serveHttp } from "../rpc/transports/http.ts";
import type { CallContext } from "../rpc/service.ts";
import { RpcError } from "../rpc/errors.ts";
import {
  calculatorSchema,
  ERROR_DETAILS,
  protobufCalculator,
} from "../examples/calculator/protobuf.ts";
import { echoRequestTag } from "../examples/calculator/grpc.ts";

export { envelope };

/** The calculator's schema. */
export const schema = calculatorSchema();

/** A streaming service whose handlers say what happened to them. */
export const probeSchema = loadProto(`
  syntax = "proto3";
  package probe;
  message N { int64 n = 1; bytes pad = 2; }
  message Why { string why = 1; }
  service Streams {
    rpc Fail(N) returns (stream N);     // n messages, then an error with a Why detail
    rpc Forever(N) returns (stream N);  // n, n+1, … until stopped; pad bytes of padding each
    rpc Hold(stream N) returns (N);     // reads a message, then waits for the gate; then the rest
    rpc Wait(N) returns (stream N);     // the request back, then waits for its signal
  }
`);

/** What the probe's handlers saw. */
export interface Probe {
  /** Messages `Forever` has made. */
  produced: number;
  /** Messages `Hold` has read. */
  read: number;
  /** Resolves with the handler's signal's reason when it aborts. */
  readonly aborted: Promise<unknown>;
  /** Resolves when a generator's `finally` ran. */
  readonly finished: Promise<void>;
  /** Lets `Hold` read on. */
  release(): void;
  /** What `Hold` threw, when it did. */
  readonly failed: Promise<unknown>;
}

/** The probe's service, and what it saw. */
export function probeService(): { service: Record<string, unknown>; probe: Probe } {
  const aborted = Promise.withResolvers<unknown>();
  const finished = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  const failed = Promise.withResolvers<unknown>();
  const probe: Probe = {
    produced: 0,
    read: 0,
    aborted: aborted.promise,
    finished: finished.promise,
    release: () => gate.resolve(),
    failed: failed.promise,
  };

  const watch = (ctx: CallContext) => {
    ctx.signal.addEventListener("abort", () => aborted.resolve(ctx.signal.reason), { once: true });
    return new Promise<void>((resolve) =>
      ctx.signal.addEventListener("abort", () => resolve(), { once: true })
    );
  };
  const service = protoService(probeSchema, "probe.Streams", {
    Forever: async function* ({ n, pad }: { n: bigint; pad: Uint8Array }, ctx: CallContext) {
      watch(ctx);
      try {
        for (let i = n;; i++) {
          probe.produced++;
          yield { n: i, pad: new Uint8Array(pad.length) };
        }
      } finally {
        finished.resolve();
      }
    },
    Hold: async (numbers: AsyncIterable<{ n: bigint }>, ctx: CallContext) => {
      watch(ctx);
      try {
        for await (const _ of numbers) {
          probe.read++;
          await gate.promise;
        }
      } catch (error) {
        failed.resolve(error);
        throw error;
      }
      return { n: BigInt(probe.read) };
    },
    Fail: async function* ({ n }: { n: bigint }) {
      for (let i = 0n; i < n; i++) yield { n: i };
      throw new RpcError(7, "enough", { why: `after ${n}` });
    },
    Wait: async function* ({ n, pad }: { n: bigint; pad: Uint8Array }, ctx: CallContext) {
      const stopped = watch(ctx);
      try {
        yield { n, pad };
        await stopped;
      } finally {
        finished.resolve();
      }
    },
  });
  return { service, probe };
}

/**
 * The calculator at `/` and the probe at `/probe/`, on `serveHttp`.
 *
 * @param options more options of both handlers (limits, sizes)
 */
export function startServer(
  options: Partial<ConnectHandlerOptions> & { readonly tls?: { cert: string; key: string } } = {},
) {
  const { tls, ...handlerOptions } = options;
  const { service, probe } = probeService();
  const errors: unknown[] = [];
  const server = serveHttp({
    ...tls,
    routes: {},
    handlers: {
      "/": connectHandler({
        schema,
        service: protobufCalculator(schema),
        errorDetails: ERROR_DETAILS,
        errorCode: () => "invalid_argument", // InvalidOperation
        onCall: echoRequestTag,
        onError: (error) => errors.push(error),
        ...handlerOptions,
      }),
      "/probe/": connectHandler({
        schema: probeSchema,
        service,
        errorDetails: "probe.Why",
        errorCode: () => "failed_precondition",
        onError: (error) => errors.push(error),
        ...handlerOptions,
      }),
    },
  });
  return { server, probe, errors };
}

/** One envelope of a reply, its end-of-stream message parsed. */
export interface ReadEnvelope {
  readonly flags: number;
  readonly data: Uint8Array;
  /** The end-of-stream message, for flag 0x02. */
  readonly end?: {
    error?: { code: string; message: string; details?: unknown[] };
    metadata?: Record<string, string[]>;
  };
}

/** Every envelope of a body. */
export async function envelopesOf(response: Response): Promise<ReadEnvelope[]> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  const out: ReadEnvelope[] = [];
  for (let at = 0; at < bytes.length;) {
    const flags = bytes[at]!;
    const length = new DataView(bytes.buffer, at + 1, 4).getUint32(0);
    const data = bytes.subarray(at + 5, at + 5 + length);
    out.push(
      (flags & 2) !== 0
        ? { flags, data, end: JSON.parse(new TextDecoder().decode(data)) }
        : { flags, data },
    );
    at += 5 + length;
  }
  return out;
}

/** Posts a Connect streaming request with a body made by hand. */
export function post(
  url: string,
  body: BodyInit,
  headers: Record<string, string> = {},
  format: "proto" | "json" = "proto",
): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": `application/connect+${format}`, ...headers },
    body,
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
}

/** Envelopes joined into one body. */
export function joined(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return concat(parts) as Uint8Array<ArrayBuffer>;
}

/**
 * Waits until `count()` stops growing: the same value `settled` times in a
 * row, `every` ms apart, at most `rounds` rounds. Its last value.
 */
export async function settledCount(
  count: () => number,
  { every = 50, settled = 6, rounds = 200 } = {},
): Promise<number> {
  let last = -1;
  let same = 0;
  for (let round = 0; round < rounds && same < settled; round++) {
    await new Promise((resolve) => setTimeout(resolve, every));
    const now = count();
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return last;
}
