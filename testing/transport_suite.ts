/**
 * The conformance suite every transport runs, as named cases: a call and its
 * result, 200 calls in flight matched to their results, notifications, a
 * batch, calls from the server to the client, the frame size limit (a frame
 * of exactly the limit passes, one byte more is refused, never in silence),
 * the server going away (pending calls reject with `ConnectionClosedError`),
 * the client going away (the server's end is released) and an aborted call.
 *
 * A transport is given as a {@linkcode TransportHarness}: how to start a
 * server with a codec, a service and a frame size limit, and how to connect
 * clients to it. What a transport cannot do (HTTP has no calls from server
 * to client, NATS no connection to close) is said in its `cannot`, and those
 * cases are skipped with that reason.
 *
 * @example The suite over the in-memory pair
 * ```ts
 * import { transportSuite } from "./transport_suite.ts";
 * import { memoryHarness } from "./memory_harness.ts";
 *
 * const cases = transportSuite(memoryHarness());
 * // In a test file: testCases(cases) from "./cases.ts"; here, by hand:
 * for (const c of cases) if (c.skip === undefined) await c.fn();
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import { jsonRpc } from "../codecs/json_rpc.ts";
import type { BatchEntry, CallOptions } from "../rpc/client.ts";
import { ConnectionClosedError, RpcError } from "../rpc/errors.ts";
import { type Service, withContext } from "../rpc/service.ts";
import type { Codec, RpcParams } from "../rpc/types.ts";
import { collector, type SuiteCase } from "./cases.ts";

/** What the suite needs of a client: calls, notifications, closing; batches when it has them. */
export interface TransportClient {
  /** Calls a method and waits for its result. */
  call<T = unknown>(method: string, params?: RpcParams, options?: CallOptions): Promise<T>;
  /** Sends a notification. */
  notify(method: string, params?: RpcParams): Promise<void>;
  /** Sends several calls and notifications at once, when the client can. */
  batch?(entries: readonly BatchEntry[]): Promise<PromiseSettledResult<unknown>[]>;
  /** Closes the client and its connection. */
  close(): Promise<void>;
}

/** What a harness starts a server with. */
export interface TransportServerOptions {
  /** The codec of the server and of its clients. */
  readonly codec: Codec;
  /** What the server serves: one object for every connection. */
  readonly service: Service;
  /** The largest frame the server accepts, in bytes (the codec's frame, not the framing's). */
  readonly maxFrameSize: number;
}

/** A server a harness started, and how to reach it. */
export interface RunningTransport {
  /**
   * Connects a client.
   *
   * @param service what the client serves to the server, for calls back
   */
  connect(service?: Service): Promise<TransportClient>;
  /** The server's end of the connection made last: to call its client back. */
  serverEnd?(): TransportClient;
  /** Resolves when the server has released the connection made last. */
  released?(): Promise<void>;
  /**
   * Stops the server at once: its connections drop, calls in flight
   * included.
   */
  close(): Promise<void>;
}

/** The cases a transport rules out, each with the reason. */
export interface TransportCannot {
  /** The server cannot call its clients. */
  readonly serverCalls?: string;
  /** There is no connection for the server to drop or to release. */
  readonly connection?: string;
  /** There is no frame size limit to test. */
  readonly frameSize?: string;
  /** The client sends no batches. */
  readonly batch?: string;
}

/** A transport, as the suite drives it. */
export interface TransportHarness {
  /** The name its cases are reported under. */
  readonly name: string;
  /** Starts a server; the suite closes it. */
  start(options: TransportServerOptions): Promise<RunningTransport>;
  /** Cases that cannot apply to the transport, with the reason each is skipped. */
  readonly cannot?: TransportCannot;
}

/** Options of {@linkcode transportSuite}. */
export interface TransportSuiteOptions {
  /** The codec of server and clients; JSON-RPC by default. */
  readonly codec?: Codec;
  /** The server's frame size limit; 4096 by default. */
  readonly maxFrameSize?: number;
}

const PIPELINED = 200;

/**
 * The service the suite's servers run (a child process serving over stdio
 * runs it too): arithmetic, echo, a failure, notes taken by notifications
 * and a call that waits until it is cancelled or its connection drops.
 *
 * @returns a fresh service, with no notes
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { transportService } from "./transport_suite.ts";
 *
 * const service = transportService() as { add(a: number, b: number): number };
 * assert.equal(service.add(1, 2), 3);
 * ```
 */
export function transportService(): Service {
  const notes: unknown[] = [];
  return {
    add: (a: number, b: number) => a + b,
    echo: (value: unknown) => value,
    fail: () => {
      throw new RpcError(7, "refused on purpose");
    },
    note: (value: unknown) => void notes.push(value),
    notes: () => notes,
    wait: withContext((ctx) =>
      new Promise((_resolve, reject) => {
        ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
      })
    ),
  };
}

// The echo call whose frame is exactly `size` bytes: the first call of a
// fresh client has a one-digit id (every client counts from 0 or 1).
function echoOfFrameSize(codec: Codec, size: number): string {
  const frameSize = (text: string) => {
    const frame = codec.encode({ kind: "request", id: 1, method: "echo", params: [text] });
    return typeof frame === "string" ? new TextEncoder().encode(frame).length : frame.length;
  };
  const overhead = frameSize("");
  let text = "a".repeat(size - overhead);
  // Strings' own length headers grow with them (msgpack): shrink to fit.
  while (frameSize(text) > size) text = text.slice(1);
  assert.equal(frameSize(text), size, "no echo call frames to exactly the limit");
  return text;
}

// Fails a case that would hang: a safety net, not a timing assertion.
async function settles<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const net = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: never settled`)), 20_000);
  });
  try {
    return await Promise.race([promise, net]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The conformance cases of a transport.
 *
 * @param harness how to start the transport's server and connect to it
 * @param options the codec (JSON-RPC by default) and the frame size limit
 * @returns the cases, for {@linkcode testCases} or any runner
 *
 * @example
 * ```ts
 * import { transportSuite } from "./transport_suite.ts";
 * import { memoryHarness } from "./memory_harness.ts";
 * import { msgpackRpc } from "../codecs/msgpack_rpc.ts";
 *
 * const cases = transportSuite(memoryHarness(), { codec: msgpackRpc() });
 * await cases.find((c) => c.name.includes("in flight"))!.fn();
 * ```
 */
export function transportSuite(
  harness: TransportHarness,
  options: TransportSuiteOptions = {},
): SuiteCase[] {
  const { test, skip, cases } = collector();
  const codec = options.codec ?? jsonRpc();
  const maxFrameSize = options.maxFrameSize ?? 4096;
  const name = `${harness.name} (${codec.name})`;
  const cannot = harness.cannot ?? {};

  // Runs `body` against a fresh server, which is closed after.
  const withServer = (body: (server: RunningTransport) => Promise<void>) => async () => {
    const started = await harness.start({ codec, service: transportService(), maxFrameSize });
    // A case may close the server itself; it is closed once.
    let closing: Promise<void> | undefined;
    const server = { ...started, close: () => closing ??= started.close() };
    try {
      await body(server);
    } finally {
      await server.close();
    }
  };
  const withClient = (body: (client: TransportClient, server: RunningTransport) => Promise<void>) =>
    withServer(async (server) => {
      const client = await server.connect();
      try {
        await body(client, server);
      } finally {
        await client.close();
      }
    });

  test(
    `${name}: a call gets its result, and an error its error`,
    withClient(async (client) => {
      assert.equal(await client.call("add", [1, 2]), 3);
      assert.deepEqual(await client.call("echo", [{ list: [1, "ü", null] }]), {
        list: [1, "ü", null],
      });
      await assert.rejects(
        client.call("fail"),
        (e: unknown) => e instanceof RpcError && e.code === 7,
      );
    }),
  );

  test(
    `${name}: ${PIPELINED} calls in flight are each matched to their result`,
    withClient(async (client) => {
      const calls = Array.from({ length: PIPELINED }, (_, i) => client.call("add", [i, i]));
      assert.deepEqual(
        await Promise.all(calls),
        Array.from({ length: PIPELINED }, (_, i) => 2 * i),
      );
    }),
  );

  test(
    `${name}: notifications reach the server, in order, before a later call`,
    withClient(async (client) => {
      for (const n of [1, 2, 3]) await client.notify("note", [n]);
      assert.deepEqual(await client.call("notes"), [1, 2, 3]);
    }),
  );

  if (cannot.batch !== undefined) {
    skip(`${name}: a batch gets each entry's outcome, in order`, cannot.batch);
  } else {
    test(
      `${name}: a batch gets each entry's outcome, in order`,
      withClient(async (client) => {
        if (client.batch === undefined) assert.fail("the harness's client has no batch()");
        const outcomes = await client.batch([
          { method: "add", params: [2, 3] },
          { method: "note", params: ["batched"], notification: true },
          { method: "fail" },
        ]);
        assert.deepEqual(outcomes.slice(0, 2), [
          { status: "fulfilled", value: 5 },
          { status: "fulfilled", value: undefined },
        ]);
        const failed = outcomes[2];
        assert.ok(failed?.status === "rejected" && failed.reason instanceof RpcError);
        assert.deepEqual(await client.call("notes"), ["batched"]);
      }),
    );
  }

  if (cannot.serverCalls !== undefined) {
    skip(`${name}: the server calls its client back`, cannot.serverCalls);
  } else {
    test(
      `${name}: the server calls its client back`,
      withServer(async (server) => {
        const told: string[] = [];
        const client = await server.connect({
          name: () => "client",
          tell: (text: string) => void told.push(text),
        });
        try {
          assert.equal(await client.call("add", [0, 1]), 1); // the connection is up on both ends
          const end = server.serverEnd?.();
          assert.ok(end, "the harness gives no serverEnd()");
          assert.equal(await end.call("name"), "client");
          await end.notify("tell", ["pushed"]);
          assert.equal(await end.call("name"), "client");
          assert.deepEqual(told, ["pushed"]);
        } finally {
          await client.close();
        }
      }),
    );
  }

  if (cannot.frameSize !== undefined) {
    skip(
      `${name}: a frame of exactly the limit passes, one byte more is refused`,
      cannot.frameSize,
    );
  } else {
    test(
      `${name}: a frame of exactly the limit passes, one byte more is refused`,
      withServer(async (server) => {
        const text = echoOfFrameSize(codec, maxFrameSize);
        const atLimit = await server.connect();
        try {
          assert.equal(await atLimit.call("echo", [text]), text);
        } finally {
          await atLimit.close();
        }
        const over = await server.connect();
        try {
          // Refused with an error, or the connection closed: the call settles.
          await settles(
            assert.rejects(over.call("echo", [`${text}a`]), Error),
            "a call over the limit",
          );
        } finally {
          await over.close();
        }
        const after = await server.connect();
        try {
          assert.equal(await after.call("add", [2, 2]), 4, "the server still serves");
        } finally {
          await after.close();
        }
      }),
    );
  }

  if (cannot.connection !== undefined) {
    skip(
      `${name}: the server closing rejects pending calls with ConnectionClosedError`,
      cannot.connection,
    );
    skip(`${name}: the client closing releases the server's end`, cannot.connection);
  } else {
    test(
      `${name}: the server closing rejects pending calls with ConnectionClosedError`,
      withServer(async (server) => {
        const client = await server.connect();
        try {
          assert.equal(await client.call("add", [1, 1]), 2);
          const pending = client.call("wait");
          const outcome = pending.then(() => "answered", (e: unknown) => e);
          await server.close();
          const error = await settles(outcome, "a pending call when the server closed");
          assert.ok(error instanceof ConnectionClosedError, String(error));
        } finally {
          await client.close();
        }
      }),
    );

    test(
      `${name}: the client closing releases the server's end`,
      withServer(async (server) => {
        const client = await server.connect();
        assert.equal(await client.call("add", [1, 1]), 2);
        const released = server.released?.();
        assert.ok(released, "the harness gives no released()");
        await client.close();
        await settles(released, "the server's end after the client closed");
      }),
    );
  }

  test(
    `${name}: an aborted call rejects with the abort reason`,
    withClient(async (client) => {
      const controller = new AbortController();
      const reason = new Error("changed my mind");
      const call = client.call("wait", [], { signal: controller.signal });
      controller.abort(reason);
      await assert.rejects(call, (e: unknown) => e === reason);
      assert.equal(await client.call("add", [3, 4]), 7, "the connection still serves");
    }),
  );

  return cases;
}
