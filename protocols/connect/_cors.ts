/**
 * CORS for `connectHandler`, so that a page on another origin can call it
 * (connect-web's Connect and gRPC-Web transports): preflights answered, and
 * every reply's headers exposed to the page, since a gRPC-Web client reads
 * `grpc-status` and `grpc-message` from the headers of a trailers-only
 * reply, and a call's metadata (`x-request-tag`) travels in headers too.
 *
 * @module
 */

/** Which pages may call the handler from another origin. */
export interface ConnectCors {
  /**
   * The origins allowed, exactly as a browser sends them
   * (`"https://app.example"`), or `"*"` for any.
   */
  readonly origins: "*" | readonly string[];
  /** Seconds a browser may keep a preflight's answer; 7200 by default. */
  readonly maxAge?: number;
}

/** The two steps of CORS around a handler. */
export interface Cors {
  /** The answer to a preflight from an allowed origin; `undefined` for any other request. */
  preflight(request: Request): Response | undefined;
  /** The reply, with what lets an allowed origin's page read it. */
  allow(request: Request, response: Response): Response;
}

/**
 * CORS for the given origins.
 *
 * @param options the origins, and how long preflights are kept
 * @returns the preflight answer and the reply's headers
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cors } from "./_cors.ts";
 *
 * const { preflight, allow } = cors({ origins: ["https://app.example"] });
 * const asked = new Request("http://api.example/pkg.S/M", {
 *   method: "OPTIONS",
 *   headers: {
 *     origin: "https://app.example",
 *     "access-control-request-method": "POST",
 *     "access-control-request-headers": "content-type,x-grpc-web",
 *   },
 * });
 * const answer = preflight(asked)!;
 * assert.equal(answer.status, 204);
 * assert.equal(answer.headers.get("access-control-allow-headers"), "content-type,x-grpc-web");
 * const reply = allow(
 *   new Request("http://api.example/pkg.S/M", { method: "POST", headers: { origin: "https://app.example" } }),
 *   new Response(null, { headers: { "grpc-status": "5" } }),
 * );
 * assert.equal(reply.headers.get("access-control-allow-origin"), "https://app.example");
 * assert.match(reply.headers.get("access-control-expose-headers")!, /grpc-status/);
 * assert.equal(preflight(new Request("http://api.example/", { method: "OPTIONS" })), undefined);
 * ```
 */
export function cors(options: ConnectCors): Cors {
  const allowed = (origin: string | null): origin is string =>
    origin !== null && (options.origins === "*" || options.origins.includes(origin));
  const maxAge = String(options.maxAge ?? 7200);
  return {
    preflight(request) {
      const origin = request.headers.get("origin");
      const method = request.headers.get("access-control-request-method");
      if (request.method !== "OPTIONS" || method === null || !allowed(origin)) return undefined;
      const headers = new Headers({
        "access-control-allow-origin": origin,
        "access-control-allow-methods": "POST, GET",
        "access-control-max-age": maxAge,
        vary: "origin, access-control-request-method, access-control-request-headers",
      });
      const asked = request.headers.get("access-control-request-headers");
      if (asked !== null) headers.set("access-control-allow-headers", asked);
      return new Response(null, { status: 204, headers });
    },
    allow(request, response) {
      const origin = request.headers.get("origin");
      if (!allowed(origin)) return response;
      const names = [...new Set([...response.headers.keys()])];
      response.headers.set("access-control-allow-origin", origin);
      response.headers.append("vary", "origin");
      if (names.length > 0) response.headers.set("access-control-expose-headers", names.join(", "));
      return response;
    },
  };
}
