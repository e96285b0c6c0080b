// The auth case of the shared interceptor suite: a typed context built
// from the connection (and the request, over HTTP), read by a handler and
// by an interceptor; built once per connection (or per POST); a context
// that refuses ends the call with an error, never silence. `authCase(pair)`
// registers the tests for one codec × transport pair; the lead wires it
// into tests/_interceptor_suite.ts (its pair shape may differ: adapt
// `AuthPair` there).

import assert from "node:assert/strict";
import { connectionOf, type ContextFunction, typedContext } from "../rpc/connection.ts";
import type { Interceptor } from "../rpc/interceptors.ts";
import type { Service } from "../rpc/service.ts";
import type { TransportClient } from "../testing/transport_suite.ts";

/** What the auth case needs the pair's server to take. */
export interface AuthServerOptions {
  readonly service: Service;
  readonly context: ContextFunction;
  readonly interceptors: readonly Interceptor[];
}

/** A codec × transport pair, as the auth case drives it. */
export interface AuthPair {
  /** `codec × transport`, for the test names. */
  readonly name: string;
  /** The transport name `connectionOf(ctx).transport` reports. */
  readonly transport: string;
  /**
   * Whether `connect(user)` can say who the client is (an `x-user` header,
   * a client certificate whose CN is the user); plain TCP cannot.
   */
  readonly identifies: boolean;
  /** `connection` when the context is built once per connection, `request` per HTTP POST. */
  readonly contextPer: "connection" | "request";
  /** Starts a server; `connect` makes a client that presents `user` (a header, a certificate…). */
  start(options: AuthServerOptions): Promise<{
    connect(user: string): Promise<TransportClient>;
    close(): Promise<void>;
  }>;
}

interface AppContext {
  readonly user: string;
  readonly n: number;
}

/**
 * Registers the auth tests of one pair.
 *
 * @param pair the codec × transport pair
 */
export function authCase(pair: AuthPair): void {
  Deno.test(`auth ${pair.name}: the typed context reaches handlers and interceptors, built once per ${pair.contextPer}`, async () => {
    const app = typedContext<AppContext>();
    let built = 0;
    const seen: string[] = [];
    const audit: Interceptor = (next) => (call) => {
      const ctx = call.context;
      if (ctx !== undefined) {
        seen.push(`${connectionOf(ctx)?.transport}:${app.of(ctx)?.user}:${call.method}`);
      }
      return next(call);
    };
    const server = await pair.start({
      interceptors: [audit],
      context: app.build((connection, request) => {
        const user = request?.headers.get("x-user") ?? connection.peerCertificate?.commonName ??
          "anonymous";
        if (user === "mallory") {
          throw Object.assign(new Error("mallory is banned"), { status: 403 });
        }
        return { user, n: ++built };
      }),
      service: {
        whoami: app.handler((context) => context.user),
        count: app.handler((context) => context.n),
      },
    });
    try {
      const alice = await server.connect("alice");
      try {
        assert.equal(await alice.call("whoami", []), pair.identifies ? "alice" : "anonymous");
        const n1 = await alice.call("count", []);
        const n2 = await alice.call("count", []);
        if (pair.contextPer === "connection") assert.equal(n1, n2);
        else assert.notEqual(n1, n2);
      } finally {
        await alice.close();
      }
      assert.equal(built, pair.contextPer === "connection" ? 1 : 3);
      assert.equal(seen.length, 3);
      assert.ok(seen.every((line) => line.startsWith(`${pair.transport}:`)), seen.join());
      if (!pair.identifies) return;
      const refused = await server.connect("mallory").catch((error) => error as Error);
      if (!(refused instanceof Error)) {
        try {
          await assert.rejects(refused.call("whoami", [], { timeout: 5_000 }));
        } finally {
          await refused.close();
        }
      }
      assert.equal(seen.length, 3, "a refused caller reaches no interceptor");
    } finally {
      await server.close();
    }
  });
}
