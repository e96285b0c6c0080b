/**
 * The interceptor and metadata suite, one set of cases run over every
 * codec × transport pair (tests/_interceptor_pairs.ts): an interceptor that
 * denies, one that rewrites, one that times; a chain's order across both
 * ends; a client's that short-circuits; notifications, batch entries and
 * refusals through the chains; metadata from a client's chain to the
 * server's handler where it travels. Cases are functions of a pair, so the
 * same code runs everywhere (Hono's `common.case.test.ts` idea).
 *
 * @module
 */

import assert from "node:assert/strict";
import { callMetadata } from "../rpc/call_metadata.ts";
import { connectionOf, type ContextFunction, typedContext } from "../rpc/connection.ts";
import { ErrorCode, RpcError, TimeoutError } from "../rpc/errors.ts";
import type { InterceptedCall, Interceptor } from "../rpc/interceptors.ts";
import { type Service, withContext } from "../rpc/service.ts";
import type { RpcParams } from "../rpc/types.ts";
import type { Pair, Started } from "./_interceptor_pairs.ts";

/** What a case has: the pair's client, and what the service saw. */
interface Run extends Started {
  readonly handled: string[];
  readonly logged: Promise<string>;
  /** The `traceparent` each handled call's metadata held. */
  readonly traces: (string | null | undefined)[];
  /** The connection's context each handled `add` saw (the `context` option's). */
  readonly contexts: (SuiteContext | undefined)[];
  add(a: number, b: number): Promise<unknown>;
}

/** The arguments of `add` on the server, however its codec carries them. */
function addArgs(params: RpcParams | undefined): { a: number; b: number } {
  const values = Array.isArray(params) ? params : [params];
  const first = values[0];
  if (typeof first === "object" && first !== null) return first as { a: number; b: number };
  return { a: Number(values[0]), b: Number(values[1]) };
}

/** The context the `context` case builds, once per connection or per request. */
interface SuiteContext {
  readonly n: number;
  readonly transport: string;
}
const suiteContext = typedContext<SuiteContext>();

async function start(
  pair: Pair,
  server: Interceptor[],
  client: Interceptor[] = [],
  context?: ContextFunction,
): Promise<Run> {
  const { methods } = pair.codec;
  const handled: string[] = [];
  const contexts: (SuiteContext | undefined)[] = [];
  const traces: (string | null | undefined)[] = [];
  const logged = Promise.withResolvers<string>();
  const service: Service = {
    [methods.add]: withContext((ctx, ...params: unknown[]) => {
      handled.push(methods.add);
      traces.push(callMetadata(ctx)?.request.get("traceparent"));
      contexts.push(suiteContext.of(ctx));
      const { a, b } = addArgs(params as RpcParams);
      return { sum: a + b };
    }),
    [methods.fail]: () => {
      handled.push(methods.fail);
      throw new RpcError(7, "boom");
    },
    [methods.log]: (...params: unknown[]) => {
      handled.push(methods.log);
      const [first] = params;
      logged.resolve(typeof first === "string" ? first : (first as { text: string }).text);
    },
  };
  const started = await pair.transport.start(pair.codec, service, {
    server,
    client,
    ...(context === undefined ? {} : { context }),
  });
  return {
    ...started,
    client: started.client,
    handled,
    traces,
    contexts,
    logged: logged.promise,
    add: (a, b) => started.client.call(methods.add, pair.codec.wrap({ a, b })),
  };
}

/** The cases, each run over each pair. */
export const CASES: Record<string, (pair: Pair) => Promise<void>> = {
  async "a denying interceptor answers with its RpcError, the handler never runs"(pair) {
    const deny: Interceptor = (next) => (call) =>
      addArgs(call.params).a < 0 ? Promise.reject(new RpcError(403, "Denied")) : next(call);
    await using t = await start(pair, [deny]);
    await assert.rejects(t.add(-1, 2), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      if (pair.codec.exactErrors) assert.equal(error.code, 403);
      return true;
    });
    assert.deepEqual(t.handled, []);
    assert.deepEqual(await t.add(1, 2), { sum: 3 });
  },

  async "a rewriting interceptor changes the params the handler sees"(pair) {
    const double: Interceptor = (next) => (call) => {
      const { a, b } = addArgs(call.params);
      const params = Array.isArray(call.params) && typeof call.params[0] !== "object"
        ? [2 * a, 2 * b]
        : pair.codec.wrap({ a: 2 * a, b: 2 * b });
      return next({ ...call, params });
    };
    await using t = await start(pair, [double]);
    assert.deepEqual(await t.add(20, 1), { sum: 42 });
  },

  async "a timing interceptor sees each result and error"(pair) {
    const seen: { method: string; outcome: unknown; ms: number }[] = [];
    const time: Interceptor = (next) => async (call) => {
      const started = performance.now();
      let outcome: unknown;
      try {
        return outcome = await next(call);
      } catch (error) {
        outcome = error;
        throw error;
      } finally {
        seen.push({ method: call.method, outcome, ms: performance.now() - started });
      }
    };
    await using t = await start(pair, [time]);
    assert.deepEqual(await t.add(2, 3), { sum: 5 });
    await assert.rejects(t.client.call(pair.codec.methods.fail, pair.codec.wrap({})), RpcError);
    assert.equal(seen.length, 2);
    assert.deepEqual(seen[0]!.outcome, { sum: 5 });
    assert.equal(seen[1]!.method, pair.codec.methods.fail);
    assert.equal((seen[1]!.outcome as RpcError).code, 7);
    for (const { ms } of seen) assert.ok(Number.isFinite(ms) && ms >= 0);
  },

  async "a chain runs outer first, the client's around the server's"(pair) {
    const order: string[] = [];
    const tag = (name: string): Interceptor => (next) => async (call) => {
      order.push(`${name}>`);
      const result = await next(call);
      order.push(`<${name}`);
      return result;
    };
    await using t = await start(pair, [tag("s1"), tag("s2")], [tag("c1"), tag("c2")]);
    assert.deepEqual(await t.add(1, 1), { sum: 2 });
    assert.deepEqual(order, ["c1>", "c2>", "s1>", "s2>", "<s2", "<s1", "<c2", "<c1"]);
  },

  async "a client's interceptor can answer a call itself, without sending it"(pair) {
    const calls: InterceptedCall[] = [];
    const cache: Interceptor = (next) => (call) => {
      calls.push(call);
      return addArgs(call.params).a === 0 ? Promise.resolve({ sum: -1 }) : next(call);
    };
    await using t = await start(pair, [], [cache]);
    assert.deepEqual(await t.add(0, 9), { sum: -1 });
    assert.deepEqual(t.handled, []);
    assert.deepEqual(await t.add(1, 2), { sum: 3 });
    assert.deepEqual(calls.map((call) => [call.side, call.kind]), [
      ["client", "call"],
      ["client", "call"],
    ]);
  },

  async "notifications go through both chains"(pair) {
    const kinds: string[] = [];
    const look: Interceptor = (next) => (call) => {
      kinds.push(`${call.side} ${call.kind}`);
      return next(call);
    };
    await using t = await start(pair, [look], [look]);
    await t.client.notify(pair.codec.methods.log, pair.codec.wrap({ text: "hi" }));
    assert.equal(await t.logged, "hi");
    assert.deepEqual(kinds, ["client notification", "server notification"]);
  },

  async "each entry of a batch goes through the client's chain"(pair) {
    const seen: string[] = [];
    const look: Interceptor = (next) => (call) => {
      const { a } = addArgs(call.params);
      seen.push(`${call.side} ${a}`);
      return a === 0 ? Promise.resolve({ sum: 0 }) : next(call);
    };
    await using t = await start(pair, [look], [look]);
    const { add } = pair.codec.methods;
    const outcomes = await t.client.batch([
      { method: add, params: pair.codec.wrap({ a: 1, b: 1 }) },
      { method: add, params: pair.codec.wrap({ a: 0, b: 5 }) },
      { method: add, params: pair.codec.wrap({ a: 2, b: 2 }) },
    ]);
    assert.deepEqual(outcomes.map((o) => o.status === "fulfilled" ? o.value : o.reason), [
      { sum: 2 },
      { sum: 0 },
      { sum: 4 },
    ]);
    assert.deepEqual(seen.filter((s) => s.startsWith("client")).sort(), [
      "client 0",
      "client 1",
      "client 2",
    ]);
    assert.deepEqual(seen.filter((s) => s.startsWith("server")).sort(), ["server 1", "server 2"]);
  },

  async "an unknown method goes through the server's chain as its error"(pair) {
    const outcomes: unknown[] = [];
    const look: Interceptor = (next) => (call) =>
      next(call).catch((error) => {
        outcomes.push([call.method, error]);
        throw error;
      });
    await using t = await start(pair, [look]);
    await assert.rejects(t.client.call("nowhere", pair.codec.wrap({})), RpcError);
    assert.equal(outcomes.length, 1);
    const [method, error] = outcomes[0] as [string, RpcError];
    assert.equal(method, "nowhere");
    assert.equal(error.code, ErrorCode.MethodNotFound);
  },

  async "metadata a client's interceptor leaves reaches the server's chain and handler"(pair) {
    const trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const seen: (string | null)[] = [];
    const inject: Interceptor = (next) => (call) => {
      call.metadata.set("traceparent", trace);
      return next(call);
    };
    const read: Interceptor = (next) => (call) => {
      seen.push(call.metadata.get("traceparent"));
      return next(call);
    };
    await using t = await start(pair, [read], [inject]);
    assert.deepEqual(await t.add(1, 2), { sum: 3 });
    assert.deepEqual(seen, [trace]);
    assert.deepEqual(t.traces, [trace]);
  },

  async "a typed context built from the connection reaches the server's chain and handler"(pair) {
    const per = pair.transport.context!;
    let built = 0;
    const seen: string[] = [];
    const audit: Interceptor = (next) => (call) => {
      const ctx = call.context!;
      seen.push(`${connectionOf(ctx)?.transport} ${suiteContext.of(ctx)?.n}`);
      return next(call);
    };
    const context = suiteContext.build((connection) => ({
      n: ++built,
      transport: connection.transport,
    }));
    await using t = await start(pair, [audit], [], context);
    assert.deepEqual(await t.add(1, 2), { sum: 3 });
    assert.deepEqual(await t.add(3, 4), { sum: 7 });
    const ns = per.per === "connection" ? [1, 1] : [1, 2];
    assert.deepEqual(t.contexts, ns.map((n) => ({ n, transport: per.transport })));
    assert.deepEqual(seen, ns.map((n) => `${per.transport} ${n}`));
  },

  async "a context that refuses ends the call with an error, never silence"(pair) {
    const seen: string[] = [];
    const audit: Interceptor = (next) => (call) => {
      seen.push(call.method);
      return next(call);
    };
    const refuse: ContextFunction = () => {
      throw Object.assign(new Error("not on the list"), { status: 403 });
    };
    // Refused when it connects (a WebSocket's handshake gets 403), or at its first call.
    const t = await start(pair, [audit], [], refuse).catch((error: unknown) => {
      assert.ok(!(error instanceof TimeoutError), String(error));
      return undefined;
    });
    if (t !== undefined) {
      await using _ = t;
      await assert.rejects(
        t.client.call(pair.codec.methods.add, pair.codec.wrap({ a: 1, b: 2 }), {
          timeout: 10_000,
        }),
        (error: unknown) => !(error instanceof TimeoutError),
      );
      assert.deepEqual(t.handled, []);
    }
    assert.deepEqual(seen, [], "a refused caller reaches no interceptor");
  },
};

/** The cases that apply to some pairs only; the others are ignored there, visibly. */
const APPLIES: Record<string, (pair: Pair) => boolean> = {
  "notifications go through both chains": (pair) => pair.codec.notifications,
  "an unknown method goes through the server's chain as its error": (pair) =>
    pair.codec.unknownMethods,
  "metadata a client's interceptor leaves reaches the server's chain and handler": (pair) =>
    pair.metadata,
  // The stdio pair's peer serves itself through `cat`: no server builds a
  // context there (tests/context_auth_test.ts covers serveStdio's).
  "a typed context built from the connection reaches the server's chain and handler": (pair) =>
    pair.transport.context !== undefined,
  "a context that refuses ends the call with an error, never silence": (pair) =>
    pair.transport.context !== undefined,
};

/**
 * Registers every case over every pair, as `Deno.test`s named
 * "interceptors over <pair>: <case>"; a pair whose peer program is absent
 * is ignored, and so is a case that does not apply to a pair (metadata
 * where it does not travel, say).
 *
 * @param pairs the pairs
 */
export function runInterceptorSuite(pairs: readonly Pair[]): void {
  for (const pair of pairs) {
    for (const [name, run] of Object.entries(CASES)) {
      Deno.test({
        name: `interceptors over ${pair.name}: ${name}`,
        ignore: pair.transport.ignore || !(APPLIES[name]?.(pair) ?? true),
        fn: () => run(pair),
      });
    }
  }
}
