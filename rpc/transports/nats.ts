/**
 * The NATS transport: one service, many worker processes on many machines,
 * behind NATS (nats.io). A worker subscribes to the service's subject in a
 * queue group, so NATS hands each call to one worker; a client calls by
 * request/reply; a notification is a plain publish. Any codec: one NATS
 * message per frame. Built on the official NATS client (`@nats-io/transport-node`).
 *
 * - Deadlines travel with each call (the `Parley-Deadline` header, epoch
 *   milliseconds): a worker does not start a call whose caller has already
 *   given up, and the handler's signal fires at the deadline.
 * - `drain()` (on SIGTERM, say) stops taking calls and finishes the ones it
 *   took; calls to a worker that dies fail at their deadline, never hang;
 *   methods marked idempotent are retried on another worker.
 * - "No responders" (nobody serves the subject), a lost connection to NATS
 *   and reconnection are reported clearly; the client library reconnects.
 *
 * @example A worker and a client on one NATS server
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectNats, natsClient, serveNats } from "./nats.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 *
 * // A nats-server of its own on a free port, stopped when the example ends (Debian: nats-server)
 * const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const { port } = probe.addr;
 * probe.close();
 * await using natsServer = new Deno.Command("nats-server", {
 *   args: ["-a", "127.0.0.1", "-p", `${port}`],
 *   stdout: "null",
 *   stderr: "null",
 * }).spawn();
 * // It may not listen yet: the first connection keeps trying.
 * const nc = await connectNats(`nats://127.0.0.1:${port}`, { waitOnFirstConnect: true });
 * const worker = serveNats({
 *   connection: nc,
 *   subject: "calculator",
 *   codec: jsonRpc(),
 *   service: { add: (a: number, b: number) => a + b },
 * });
 * await worker.ready;
 * const client = natsClient({ connection: nc, subject: "calculator", codec: jsonRpc() });
 * assert.equal(await client.call("add", [1, 2]), 3); // from whichever worker NATS chose
 * await worker.drain();
 * await nc.drain();
 * ```
 *
 * @module
 */

import { headers as natsHeaders } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { RpcError, TimeoutError } from "../errors.ts";
import type { RpcLimits } from "../limits.ts";
import { createResponder } from "../responder.ts";
import type { Service } from "../service.ts";
import type { Codec, Frame, RpcId, RpcParams } from "../types.ts";

/** A message as a NATS subscription delivers it (the part parley reads). */
export interface NatsMessage {
  /** The payload: one frame. */
  readonly data: Uint8Array;
  /** Where the reply goes; absent for a publish (a notification). */
  readonly reply?: string;
  /** The message's headers. */
  readonly headers?: { get(name: string): string };
  /** Sends the reply. */
  respond(data: Uint8Array): boolean;
}

/**
 * The part of a NATS connection parley uses: the `NatsConnection` of
 * `@nats-io/nats-core` (what {@linkcode connectNats} returns) fits.
 */
export interface NatsConnectionLike {
  /** Subscribes to a subject, in a queue group. */
  subscribe(
    subject: string,
    options?: { queue?: string },
  ): AsyncIterable<NatsMessage> & { drain(): Promise<void> };
  /** Request/reply. */
  request(
    subject: string,
    payload: Uint8Array,
    options: { timeout: number; headers?: unknown },
  ): Promise<{ readonly data: Uint8Array }>;
  /** Publishes a message. */
  publish(subject: string, payload: Uint8Array, options?: { headers?: unknown }): void;
  /** Resolves when the server has seen everything sent so far (subscriptions included). */
  flush(): Promise<void>;
  /** Finishes what is pending and closes. */
  drain(): Promise<void>;
}

/**
 * The header that carries a call's deadline, in milliseconds since the epoch.
 *
 * @example A worker without parley reads it
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectNats, DEADLINE_HEADER, natsClient } from "./nats.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 *
 * // A nats-server of its own on a free port, stopped when the example ends (Debian: nats-server)
 * const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const { port } = probe.addr;
 * probe.close();
 * await using natsServer = new Deno.Command("nats-server", {
 *   args: ["-a", "127.0.0.1", "-p", `${port}`],
 *   stdout: "null",
 *   stderr: "null",
 * }).spawn();
 * // It may not listen yet: the first connection keeps trying.
 * const nc = await connectNats(`nats://127.0.0.1:${port}`, { waitOnFirstConnect: true });
 * const requests = nc.subscribe("calculator");
 * await nc.flush();
 * const client = natsClient({ connection: nc, subject: "calculator", codec: jsonRpc() });
 * const sent = Date.now();
 * const call = client.call("add", [1, 2], { timeout: 5_000 });
 * for await (const message of requests) {
 *   assert.ok(Number(message.headers?.get(DEADLINE_HEADER)) >= sent + 5_000);
 *   const { id, params: [a, b] } = JSON.parse(new TextDecoder().decode(message.data));
 *   message.respond(new TextEncoder().encode(JSON.stringify({ jsonrpc: "2.0", id, result: a + b })));
 *   break;
 * }
 * assert.equal(await call, 3);
 * await nc.drain();
 * ```
 */
export const DEADLINE_HEADER = "Parley-Deadline";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function bytesOf(frame: Frame): Uint8Array {
  return typeof frame === "string" ? encoder.encode(frame) : frame;
}

/**
 * No worker serves the subject: NATS answered "no responders".
 *
 * @example A call before any worker has started
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectNats, natsClient, NoRespondersError } from "./nats.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 *
 * // A nats-server of its own on a free port, stopped when the example ends (Debian: nats-server)
 * const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const { port } = probe.addr;
 * probe.close();
 * await using natsServer = new Deno.Command("nats-server", {
 *   args: ["-a", "127.0.0.1", "-p", `${port}`],
 *   stdout: "null",
 *   stderr: "null",
 * }).spawn();
 * // It may not listen yet: the first connection keeps trying.
 * const nc = await connectNats(`nats://127.0.0.1:${port}`, { waitOnFirstConnect: true });
 * const client = natsClient({ connection: nc, subject: "calculator", codec: jsonRpc() });
 * await assert.rejects(
 *   client.call("add", [1, 2]),
 *   (error) => error instanceof NoRespondersError && error.subject === "calculator",
 * );
 * await nc.drain();
 * ```
 */
export class NoRespondersError extends Error {
  /** The subject nobody serves. */
  readonly subject: string;
  /** Creates the error. */
  constructor(subject: string, options?: ErrorOptions) {
    super(
      `No worker serves "${subject}" on NATS (no responders): start one, or check the subject`,
      options,
    );
    this.name = "NoRespondersError";
    this.subject = subject;
  }
}

/**
 * Options of {@linkcode connectNats}: any option of the NATS client
 * (`name`, `user`/`pass`, `token`, `authenticator`, `tls`, reconnection
 * settings), and `onStatus`.
 */
export interface ConnectNatsOptions {
  /** Told about disconnections, reconnections and errors of the connection to NATS. */
  readonly onStatus?: (status: { type: string; data?: unknown }) => void;
  /** The connection's name, as NATS monitoring shows it. */
  readonly name?: string;
  /** Any other option of the NATS client, passed through. */
  readonly [option: string]: unknown;
}

/**
 * Connects to NATS (one server, or several of a cluster): reconnects for
 * ever by default, and reports what happens to `onStatus`. For production,
 * pass credentials (`authenticator`, `user`/`pass`, `token`) and `tls`
 * options as the NATS client takes them.
 *
 * @param servers `nats://host:port`, or several
 * @param options the NATS client's options, and `onStatus`
 * @returns the connection
 *
 * @example A worker's connection and a client's, as two processes would have
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectNats, natsClient, serveNats } from "./nats.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 *
 * const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const { port } = probe.addr;
 * probe.close();
 * await using natsServer = new Deno.Command("nats-server", {
 *   args: ["-a", "127.0.0.1", "-p", `${port}`],
 *   stdout: "null",
 *   stderr: "null",
 * }).spawn();
 * const workerSide = await connectNats(`nats://127.0.0.1:${port}`, {
 *   name: "calculator worker", // as NATS monitoring shows it
 *   onStatus: (status) => console.warn(`NATS: ${status.type}`), // disconnected, reconnected…
 *   waitOnFirstConnect: true, // a NATS client option: nats-server may not listen yet
 * });
 * const clientSide = await connectNats(`nats://127.0.0.1:${port}`);
 * const worker = serveNats({
 *   connection: workerSide,
 *   subject: "calculator",
 *   codec: jsonRpc(),
 *   service: { add: (a: number, b: number) => a + b },
 * });
 * await worker.ready;
 * const client = natsClient({ connection: clientSide, subject: "calculator", codec: jsonRpc() });
 * assert.equal(await client.call("add", [40, 2]), 42);
 * await worker.drain();
 * await Promise.all([workerSide.drain(), clientSide.drain()]);
 * ```
 */
export async function connectNats(
  servers: string | string[],
  options: ConnectNatsOptions = {},
): Promise<NatsConnectionLike> {
  const { onStatus, ...rest } = options;
  const nc = await connect({ maxReconnectAttempts: -1, reconnectTimeWait: 250, ...rest, servers });
  if (onStatus !== undefined) {
    (async () => {
      for await (const status of nc.status()) {
        onStatus({ type: status.type, data: (status as { data?: unknown }).data });
      }
    })().catch(() => {});
  }
  return nc as unknown as NatsConnectionLike;
}

/** Options of {@linkcode serveNats}. */
export interface ServeNatsOptions {
  /** The connection to NATS. */
  readonly connection: NatsConnectionLike;
  /** The service's subject, such as `"calculator"`. */
  readonly subject: string;
  /** The queue group every worker of the service joins; the subject by default. */
  readonly queue?: string;
  /** How frames become messages. */
  readonly codec: Codec;
  /** What is served. */
  readonly service: Service;
  /** Limits; `maxInFlight` bounds the calls this worker runs at once. */
  readonly limits?: Partial<RpcLimits>;
  /** Send the message and stack of unexpected handler errors (development only). */
  readonly exposeErrors?: boolean;
  /** Told about handler errors, bad frames, and calls dropped past their deadline. */
  readonly onError?: (error: unknown) => void;
}

/** A worker serving a subject. */
export interface NatsWorker {
  /** Resolves once the NATS server has the worker's subscription: calls may come. */
  readonly ready: Promise<void>;
  /** Calls this worker is running now. */
  readonly inFlight: number;
  /** Calls this worker has answered. */
  readonly served: number;
  /**
   * Stops taking calls (other workers get them) and resolves when the ones
   * it took are finished.
   */
  drain(): Promise<void>;
}

/**
 * Serves a service on a NATS subject, in a queue group: run it in as many
 * processes as needed; NATS spreads the calls.
 *
 * @param options the connection, the subject, the codec and the service
 * @returns the worker
 *
 * @example Two workers in one queue group share the calls
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectNats, natsClient, serveNats } from "./nats.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 *
 * // A nats-server of its own on a free port, stopped when the example ends (Debian: nats-server)
 * const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const { port } = probe.addr;
 * probe.close();
 * await using natsServer = new Deno.Command("nats-server", {
 *   args: ["-a", "127.0.0.1", "-p", `${port}`],
 *   stdout: "null",
 *   stderr: "null",
 * }).spawn();
 * // It may not listen yet: the first connection keeps trying.
 * const nc = await connectNats(`nats://127.0.0.1:${port}`, { waitOnFirstConnect: true });
 * const workers = [1, 2].map((n) =>
 *   serveNats({ connection: nc, subject: "calculator", codec: jsonRpc(), service: { who: () => n } })
 * );
 * await Promise.all(workers.map((worker) => worker.ready));
 * const client = natsClient({ connection: nc, subject: "calculator", codec: jsonRpc() });
 * const answers = await Promise.all(Array.from({ length: 10 }, () => client.call("who")));
 * assert.ok(answers.every((n) => n === 1 || n === 2)); // each call to one of them
 * assert.equal(workers[0]!.served + workers[1]!.served, 10);
 * for (const worker of workers) await worker.drain(); // finishes what it took
 * await nc.drain();
 * ```
 */
export function serveNats(options: ServeNatsOptions): NatsWorker {
  const onError = options.onError ?? (() => {});
  const respond = createResponder({
    codec: options.codec,
    service: options.service,
    onError,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.exposeErrors === undefined ? {} : { exposeErrors: options.exposeErrors }),
  });
  const subscription = options.connection.subscribe(options.subject, {
    queue: options.queue ?? options.subject,
  });
  const running = new Set<Promise<void>>();
  let served = 0;

  const handle = async (msg: NatsMessage): Promise<void> => {
    const deadline = Number(msg.headers?.get(DEADLINE_HEADER) ?? NaN);
    const left = deadline - Date.now();
    if (left <= 0) {
      // The caller has given up already: the work would be wasted.
      onError(new TimeoutError(options.subject, 0));
      return;
    }
    let frame: Frame = msg.data;
    if (options.codec.text === true) {
      try {
        frame = decoder.decode(msg.data);
      } catch {
        onError(new RpcError(-32700, "A message that is not UTF-8 text"));
        return;
      }
    }
    const signal = Number.isFinite(left) ? () => AbortSignal.timeout(left) : undefined;
    let reply: Frame | undefined;
    try {
      reply = await respond(frame, signal);
    } catch (error) {
      onError(error);
      return;
    }
    served++;
    if (reply !== undefined && msg.reply !== undefined) msg.respond(bytesOf(reply));
  };

  const loop = (async () => {
    for await (const msg of subscription) {
      const task = handle(msg).catch(onError);
      running.add(task);
      task.finally(() => running.delete(task));
    }
  })();

  const ready = options.connection.flush();
  ready.catch(onError);
  return {
    ready,
    get inFlight() {
      return running.size;
    },
    get served() {
      return served;
    },
    async drain() {
      // No new calls from NATS; the ones delivered already are still handled.
      await subscription.drain();
      await loop;
      await Promise.all(running);
    },
  };
}

/** Options of {@linkcode natsClient}. */
export interface NatsClientOptions {
  /** The connection to NATS. */
  readonly connection: NatsConnectionLike;
  /** The service's subject. */
  readonly subject: string;
  /** How calls become frames. */
  readonly codec: Codec;
  /** Milliseconds before a call gives up (its deadline); 30 s by default. */
  readonly timeout?: number;
  /**
   * Methods safe to run twice, retried on another worker when a worker does
   * not answer in its share of the deadline (it died, say) or nobody serves
   * the subject yet.
   */
  readonly idempotent?: readonly string[] | ((method: string) => boolean);
  /** How many times an idempotent call is tried in all; 3 by default. */
  readonly attempts?: number;
}

/** Per-call options. */
export interface NatsCallOptions {
  /** Milliseconds before this call gives up. */
  readonly timeout?: number;
  /** Aborts the call (it still reaches a worker if it was sent). */
  readonly signal?: AbortSignal;
}

/** A client of a service on NATS. */
export interface NatsClient {
  /**
   * Calls a method: request/reply through NATS to one worker.
   *
   * @throws {RpcError} the worker's error
   * @throws {TimeoutError} when no answer came before the deadline
   * @throws {NoRespondersError} when no worker serves the subject
   */
  call<T = unknown>(method: string, params?: RpcParams, options?: NatsCallOptions): Promise<T>;
  /** Sends a notification: a publish, taken by one worker. */
  notify(method: string, params?: RpcParams): Promise<void>;
}

/**
 * A client of the workers serving `subject`: it needs no address of any
 * worker, and more workers mean more capacity without any change here.
 *
 * @param options the connection, the subject, the codec, deadlines, retries
 * @returns the client
 *
 * @example Deadlines, retries of idempotent methods, and a worker's errors
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpcError } from "../errors.ts";
 * import { connectNats, natsClient, serveNats } from "./nats.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 *
 * // A nats-server of its own on a free port, stopped when the example ends (Debian: nats-server)
 * const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const { port } = probe.addr;
 * probe.close();
 * await using natsServer = new Deno.Command("nats-server", {
 *   args: ["-a", "127.0.0.1", "-p", `${port}`],
 *   stdout: "null",
 *   stderr: "null",
 * }).spawn();
 * // It may not listen yet: the first connection keeps trying.
 * const nc = await connectNats(`nats://127.0.0.1:${port}`, { waitOnFirstConnect: true });
 * const worker = serveNats({
 *   connection: nc,
 *   subject: "calculator",
 *   codec: jsonRpc(),
 *   service: {
 *     divide: (a: number, b: number) => {
 *       if (b === 0) throw new RpcError(1, "division by zero");
 *       return a / b;
 *     },
 *   },
 * });
 * await worker.ready;
 * const calculator = natsClient({
 *   connection: nc,
 *   subject: "calculator",
 *   codec: jsonRpc(),
 *   timeout: 5_000, // each call's deadline, unless the call says otherwise
 *   idempotent: ["divide"], // tried again on another worker if one does not answer
 * });
 * assert.equal(await calculator.call("divide", [6, 3], { timeout: 1_000 }), 2);
 * await assert.rejects(calculator.call("divide", [1, 0]), { name: "RpcError", code: 1 });
 * await worker.drain();
 * await nc.drain();
 * ```
 */
export function natsClient(options: NatsClientOptions): NatsClient {
  const timeout = options.timeout ?? 30_000;
  const attempts = Math.max(1, options.attempts ?? 3);
  const idempotent = typeof options.idempotent === "function"
    ? options.idempotent
    : ((names: ReadonlySet<string>) => (method: string) => names.has(method))(
      new Set(options.idempotent ?? []),
    );
  let nextId = 1;

  const exchange = async (
    frame: Uint8Array,
    deadline: number,
    wait: number,
    signal?: AbortSignal,
  ) => {
    const headers = natsHeaders();
    headers.set(DEADLINE_HEADER, String(deadline));
    const request = options.connection.request(options.subject, frame, {
      timeout: Math.max(1, Math.round(wait)),
      headers,
    });
    if (signal === undefined) return await request;
    // Aborting gives up on the reply at once (the worker may still run the call).
    const { promise: aborted, reject } = Promise.withResolvers<never>();
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await Promise.race([request, aborted]);
    } finally {
      signal.removeEventListener("abort", onAbort);
      request.catch(() => {});
    }
  };

  const call = async <T>(method: string, params?: RpcParams, callOptions: NatsCallOptions = {}) => {
    callOptions.signal?.throwIfAborted();
    const codec = options.codec.fork?.() ?? options.codec;
    const id: RpcId = nextId++;
    const frame = bytesOf(codec.encode({
      kind: "request",
      id,
      method,
      ...(params === undefined ? {} : { params }),
    }));
    const limit = callOptions.timeout ?? timeout;
    const deadline = Date.now() + limit;
    const tries = idempotent(method) ? attempts : 1;
    let last: unknown;
    for (let attempt = 1; attempt <= tries; attempt++) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      // Each try gets its share of what is left: a dead worker costs one share.
      const wait = left / (tries - attempt + 1);
      try {
        const reply = await exchange(frame, deadline, wait, callOptions.signal);
        let data: Frame = reply.data;
        if (codec.text === true) data = decoder.decode(reply.data);
        const decoded = codec.decode(data);
        if (decoded.kind === "result") return decoded.result as T;
        if (decoded.kind === "error") throw RpcError.from(decoded.error);
        throw new RpcError(-32603, `An unexpected ${decoded.kind} reply from a worker`);
      } catch (error) {
        if (error instanceof RpcError || callOptions.signal?.aborted) throw error;
        const text = String((error as Error)?.message ?? error);
        if (/no responders/i.test(text)) {
          last = new NoRespondersError(options.subject, { cause: error });
        } else if (/timeout/i.test(text)) last = new TimeoutError(method, limit);
        else throw error;
      }
    }
    throw last ?? new TimeoutError(method, limit);
  };

  return {
    call,
    notify(method, params) {
      const codec = options.codec.fork?.() ?? options.codec;
      const frame = bytesOf(codec.encode({
        kind: "notification",
        method,
        ...(params === undefined ? {} : { params }),
      }));
      const headers = natsHeaders();
      headers.set(DEADLINE_HEADER, String(Date.now() + timeout));
      options.connection.publish(options.subject, frame, { headers });
      return Promise.resolve();
    },
  };
}
