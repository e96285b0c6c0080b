/**
 * What a server-side call knows of the connection it came on: the
 * transport, both addresses, the TLS details and the verified client
 * certificate ({@linkcode connectionOf}); the principal that `authenticate`
 * returned ({@linkcode principalOf}); and a typed context built once per
 * connection by the server's `context` option, read by handlers with no
 * cast through {@linkcode typedContext} (tRPC's `initTRPC.context<T>()`
 * idea: the type is declared once, the handlers get it).
 *
 * They hang off the call's context in a `WeakMap`, as `callMetadata` does,
 * rather than as fields of `CallContext`: a connection's scope is one
 * object shared by all its calls, attached in one place (`invokeMethod`),
 * and calls made without one (in-memory pairs, unit tests) cost nothing.
 * Web-standard only.
 *
 * @module
 */

import { type CallContext, withContext } from "./service.ts";

/** A network address as a connection sees it. */
export type ConnectionAddress =
  | { readonly hostname: string; readonly port: number }
  | { readonly path: string };

/** A client certificate that the server verified against its client CAs. */
export interface PeerCertificate {
  /** The subject, as `CN=alice, O=example` (RFC 4514 order is not promised). */
  readonly subject: string;
  /** The subject's common name, when it has one. */
  readonly commonName?: string;
  /** The subjectAltNames, as `DNS:host`, `URI:spiffe://…`, `email:…`, `IP Address:…`. */
  readonly subjectAltNames: readonly string[];
  /** The issuer, as `CN=example CA`. */
  readonly issuer: string;
  /** The certificate's serial number, hex. */
  readonly serialNumber: string;
  /** SHA-256 fingerprint, `AB:CD:…`. */
  readonly fingerprint256: string;
  /** Not valid after this instant. */
  readonly validTo: Date;
}

/** The connection a call came on. */
export interface Connection {
  /** `tcp`, `tls`, `unix`, `stdio`, `http`, `https`, `websocket`, `grpc`, `nats`… */
  readonly transport: string;
  /** The other end; absent when the transport has none (stdio). */
  readonly remoteAddr?: ConnectionAddress;
  /** This end. */
  readonly localAddr?: ConnectionAddress;
  /** Over TLS, the protocol ALPN chose (`h2`…), `null` when none. */
  readonly alpnProtocol?: string | null;
  /** Over mutual TLS, the client's verified certificate. */
  readonly peerCertificate?: PeerCertificate;
}

/**
 * Builds a connection's context: once per TCP, TLS, Unix or WebSocket
 * connection, once per HTTP `POST` (with its request). What it throws
 * refuses the connection (closed, the reason told to `onError`) or the
 * request (401, or the `status` of what it threw when that is 401 or 403).
 */
export type ContextFunction<T = unknown> = (
  connection: Connection,
  request?: Request,
) => T | Promise<T>;

/** What every call on one connection shares: the connection, its context, its principal. */
export interface ConnectionScope {
  /** The connection. */
  readonly connection: Connection;
  /** What the `context` option built; absent when there is none. */
  readonly context?: unknown;
  /** What `authenticate` returned, when it was not just `true`. */
  readonly principal?: unknown;
}

// Kept on the context itself under a symbol: a WeakMap entry per call cost
// a visible share of a small call (ephemeron tables are slow to grow and collect).
const SCOPE: unique symbol = Symbol("parley.connectionScope");
type Scoped = CallContext & { [SCOPE]?: ConnectionScope };
const scopes = {
  get: (ctx: CallContext): ConnectionScope | undefined => (ctx as Scoped)[SCOPE],
};

/**
 * The connection a call came on; `undefined` when the server did not say
 * (an in-memory pair, say).
 *
 * @param ctx the call's context, as a `withContext` handler or an interceptor (`call.context`) sees it
 * @returns the connection
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { attachConnection, connectionOf } from "./connection.ts";
 *
 * const ctx = { id: 1, method: "m", signal: new AbortController().signal };
 * assert.equal(connectionOf(ctx), undefined);
 * attachConnection(ctx, { connection: { transport: "tcp", remoteAddr: { hostname: "127.0.0.1", port: 5000 } } });
 * assert.equal(connectionOf(ctx)?.transport, "tcp");
 * ```
 */
export function connectionOf(ctx: CallContext): Connection | undefined {
  return scopes.get(ctx)?.connection;
}

/**
 * The principal that the server's `authenticate` returned for this call's
 * request or connection (any truthy value but `true`).
 *
 * @typeParam P what `authenticate` returns; not checked at run time
 * @param ctx the call's context
 * @returns the principal, or `undefined`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { attachConnection, principalOf } from "./connection.ts";
 *
 * const ctx = { id: 1, method: "m", signal: new AbortController().signal };
 * attachConnection(ctx, { connection: { transport: "http" }, principal: { user: "alice" } });
 * assert.deepEqual(principalOf<{ user: string }>(ctx), { user: "alice" });
 * ```
 */
export function principalOf<P = unknown>(ctx: CallContext): P | undefined {
  return scopes.get(ctx)?.principal as P | undefined;
}

/**
 * Makes `scope` what this module finds for `ctx` (for servers and protocol handlers).
 *
 * @param ctx the call's context
 * @param scope its connection, context and principal
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { attachConnection, connectionOf } from "./connection.ts";
 *
 * const ctx = { id: undefined, method: "m", signal: new AbortController().signal };
 * attachConnection(ctx, { connection: { transport: "stdio" } });
 * assert.equal(connectionOf(ctx)?.transport, "stdio");
 * ```
 */
export function attachConnection(ctx: CallContext, scope: ConnectionScope): void {
  (ctx as Scoped)[SCOPE] = scope;
}

// On the request's headers under a symbol, for the same reason as SCOPE.
const REQUEST_SCOPE: unique symbol = Symbol("parley.requestScope");
type ScopedHeaders = Headers & { [REQUEST_SCOPE]?: ConnectionScope };

/**
 * Hands an HTTP request's scope to the protocol handler that will serve it
 * (`serveHttp` does it for its `handlers`, such as `connectHandler`), keyed
 * by the request's headers, which the handler's call metadata keeps.
 *
 * @param request the request
 * @param scope its connection and principal
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { attachRequestScope, requestScope } from "./connection.ts";
 *
 * const request = new Request("http://127.0.0.1/x", { method: "POST" });
 * attachRequestScope(request, { connection: { transport: "http" }, principal: "alice" });
 * assert.equal(requestScope(request.headers)?.principal, "alice");
 * ```
 */
export function attachRequestScope(request: Request, scope: ConnectionScope): void {
  (request.headers as ScopedHeaders)[REQUEST_SCOPE] = scope;
}

/**
 * The scope `serveHttp` gave a request, found by its headers.
 *
 * @param headers the request's headers (the call metadata's `request`)
 * @returns the scope, or `undefined`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requestScope } from "./connection.ts";
 *
 * assert.equal(requestScope(new Headers()), undefined);
 * ```
 */
export function requestScope(headers: Headers): ConnectionScope | undefined {
  return (headers as ScopedHeaders)[REQUEST_SCOPE];
}

/** What {@linkcode typedContext} gives: a context builder and handlers that read it. */
export interface TypedContext<T> {
  /**
   * The server's `context` option, checked to build a `T`.
   *
   * @param build makes the context from the connection (and the HTTP request)
   * @returns `build`, typed
   */
  build(build: ContextFunction<T>): ContextFunction<T>;
  /**
   * A handler that gets the connection's context first, typed, then its
   * params. It throws when the call came without a context (a server
   * started without the `context` option). A handler that also needs the
   * call (its signal) uses `withContext` and {@linkcode TypedContext.of}.
   *
   * @param fn the handler
   * @returns a handler for a service
   */
  handler<A extends unknown[], R>(
    fn: (context: T, ...args: A) => R,
  ): (...args: A) => R;
  /**
   * The context of a call, for interceptors (`call.context`) and `withContext` handlers.
   *
   * @param ctx the call's context
   * @returns the connection's context, or `undefined` when it has none
   */
  of(ctx: CallContext): T | undefined;
}

/**
 * Declares the type of the context that a server's `context` option builds
 * and its handlers read: declared once, no cast at any call site.
 *
 * @typeParam T the context's type
 * @returns the builder, the handler wrapper and a reader
 *
 * @example A user from a bearer token over HTTP, read by a handler
 * ```ts
 * import assert from "node:assert/strict";
 * import { typedContext } from "./connection.ts";
 * import { connectHttp, serveHttp } from "./transports/http.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const app = typedContext<{ user: string; from: string }>();
 * await using server = serveHttp({
 *   port: 0,
 *   routes: {
 *     "/rpc": {
 *       codec: jsonRpc(),
 *       service: { whoami: app.handler((context) => `${context.user} via ${context.from}`) },
 *       context: app.build((connection, request) => {
 *         const user = request?.headers.get("authorization")?.replace(/^Bearer /, "");
 *         if (!user) throw new Error("no token");
 *         return { user, from: connection.transport };
 *       }),
 *     },
 *   },
 * });
 * await using client = connectHttp(`${server.url}/rpc`, {
 *   codec: jsonRpc(),
 *   headers: { authorization: "Bearer alice" },
 * });
 * assert.equal(await client.call("whoami", []), "alice via http");
 * ```
 */
export function typedContext<T>(): TypedContext<T> {
  const of = (ctx: CallContext): T | undefined => scopes.get(ctx)?.context as T | undefined;
  return {
    build: (build) => build,
    handler<A extends unknown[], R>(fn: (context: T, ...args: A) => R) {
      return withContext((ctx: CallContext, ...args: A): R => {
        const scope = scopes.get(ctx);
        if (scope === undefined || !("context" in scope)) {
          throw new Error(
            `The handler of ${JSON.stringify(ctx.method)} needs a context: ` +
              "give the server a context option",
          );
        }
        return fn(scope.context as T, ...args);
      });
    },
    of,
  };
}
