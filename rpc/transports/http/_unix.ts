// HTTP over a Unix domain socket for the HTTP client: the `http+unix://`
// URL forms, and a `fetch` whose connections go to the socket.
//
// Not `Deno.createHttpClient({ proxy: { transport: "unix", path } })`: Deno
// treats the socket as a proxy and sends the request target in absolute form
// (`POST http://localhost/RPC2 HTTP/1.1`, denoland/deno#30699), which
// supervisord's HTTP server answers with 400 and Python's http.server routes
// as the path "http://localhost/RPC2". `node:http` with `socketPath` (Deno's
// and Node's) sends `POST /RPC2`, as curl --unix-socket does. It is looked up
// at run time, so that this module still compiles and bundles for browsers,
// where it refuses with a clear error instead.

import type * as NodeHttp from "node:http";
import type * as NodeStream from "node:stream";

/** Where a request over a Unix socket goes. */
export interface UnixTarget {
  /** The socket's path. */
  readonly socket: string;
  /** The URL requested through it: `http://localhost` and the request path. */
  readonly url: string;
}

const SCHEME = "http+unix://";
// The host the requests name (the Host header): a socket has none.
const ORIGIN = "http://localhost";

/**
 * Reads an `http+unix://` URL, in either form: the socket's path
 * percent-encoded as the host (`http+unix://%2Fvar%2Frun%2Fapp.sock/RPC2`,
 * as requests-unixsocket and Docker's clients write it), or the path as it
 * is, ended by `:` before the request path (`http+unix:///var/run/app.sock:/RPC2`).
 * Without a request path, the request goes to `/`.
 *
 * @returns the socket and the URL to request, or `undefined` for another scheme
 * @throws {TypeError} for an `http+unix://` URL that names no socket
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseUnixUrl } from "./_unix.ts";
 *
 * const target = { socket: "/run/app.sock", url: "http://localhost/RPC2" };
 * assert.deepEqual(parseUnixUrl("http+unix://%2Frun%2Fapp.sock/RPC2"), target);
 * assert.deepEqual(parseUnixUrl("http+unix:///run/app.sock:/RPC2"), target);
 * assert.equal(parseUnixUrl("http://127.0.0.1/RPC2"), undefined);
 * ```
 */
export function parseUnixUrl(text: string): UnixTarget | undefined {
  if (text.slice(0, SCHEME.length).toLowerCase() !== SCHEME) return undefined;
  const rest = text.slice(SCHEME.length);
  let socket: string;
  let path: string;
  if (rest.startsWith("/")) {
    // A socket path may hold ":" but hardly ":/"; the first ":/" ends it.
    const end = rest.indexOf(":/");
    socket = end < 0 ? rest : rest.slice(0, end);
    path = end < 0 ? "/" : rest.slice(end + 1);
  } else {
    const end = rest.search(/[/?#]/);
    const host = end < 0 ? rest : rest.slice(0, end);
    try {
      socket = decodeURIComponent(host);
    } catch {
      throw new TypeError(`"${text}": the socket's path is not percent-encoded correctly`);
    }
    path = end < 0 ? "/" : rest.slice(end);
  }
  if (socket === "") {
    throw new TypeError(
      `"${text}" names no socket: write http+unix://%2Fpath%2Fto.sock/PATH or http+unix:///path/to.sock:/PATH`,
    );
  }
  const url = new URL(path.startsWith("/") ? path : `/${path}`, ORIGIN);
  url.hash = "";
  return { socket, url: url.href };
}

/**
 * Where a client's requests go when they go to a Unix socket: an
 * `http+unix://` URL, or an `http://` URL with the `unixSocket` option.
 *
 * @returns the target, or `undefined` for a client over TCP
 * @throws {TypeError} with a `fetch` of the caller's own, or for `https://`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unixTarget } from "./_unix.ts";
 *
 * assert.deepEqual(unixTarget("http://localhost/rpc", "/run/app.sock", false), {
 *   socket: "/run/app.sock",
 *   url: "http://localhost/rpc",
 * });
 * assert.equal(unixTarget("http://127.0.0.1/rpc", undefined, false), undefined);
 * assert.throws(() => unixTarget("https://localhost/", "/run/app.sock", false), TypeError);
 * ```
 */
export function unixTarget(
  url: string,
  unixSocket: string | undefined,
  ownFetch: boolean,
): UnixTarget | undefined {
  const target = parseUnixUrl(url) ??
    (unixSocket === undefined ? undefined : { socket: unixSocket, url });
  if (target === undefined) return undefined;
  if (ownFetch) {
    throw new TypeError("connectHttp: a Unix socket and a fetch of your own cannot be combined");
  }
  // TLS over a socket is not offered: an https:// URL would silently go in clear.
  if (!target.url.startsWith("http://")) {
    throw new TypeError(
      `connectHttp: over a Unix socket the URL is http:// or http+unix://, got "${url}"`,
    );
  }
  return target;
}

/** A `fetch` over one Unix socket, and how to release its connections. */
export interface UnixFetch {
  /** `fetch`, every request of it to the socket. */
  readonly fetch: typeof fetch;
  /** Closes the connections kept open (keep-alive). */
  close(): void;
}

interface NodeModules {
  readonly http: typeof NodeHttp;
  readonly stream: typeof NodeStream;
}

// Node's modules, looked up at run time (Deno and Node have them), so that
// no import reaches a browser build.
function nodeModules(): NodeModules | undefined {
  const process = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } })
    .process;
  const http = process?.getBuiltinModule?.("node:http") as typeof NodeHttp | undefined;
  const stream = process?.getBuiltinModule?.("node:stream") as typeof NodeStream | undefined;
  return http === undefined || stream === undefined ? undefined : { http, stream };
}

/**
 * A `fetch` whose every request goes to the Unix socket at `socket`, over
 * `node:http` (`socketPath`, keep-alive), for what the HTTP client sends:
 * a method, headers, a string or bytes body and a signal. No
 * `Accept-Encoding` is sent; a gzip or deflate reply is decoded anyway.
 *
 * @throws {TypeError} where `node:http` is not to be had (a browser)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unixFetch } from "./_unix.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const server = Deno.serve(
 *   { path: `${dir}/app.sock`, onListen: () => {} },
 *   (request) => new Response(new URL(request.url).pathname),
 * );
 * const socket = unixFetch(`${dir}/app.sock`);
 * const response = await socket.fetch("http://localhost/hello", { method: "POST", body: "x" });
 * assert.equal(await response.text(), "/hello");
 * socket.close();
 * await server.shutdown();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function unixFetch(socket: string): UnixFetch {
  const node = nodeModules();
  if (node === undefined) {
    throw new TypeError("HTTP over a Unix socket needs Deno or Node (node:http)");
  }
  const agent = new node.http.Agent({ keepAlive: true });
  const socketFetch = (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    const { promise, resolve, reject } = Promise.withResolvers<Response>();
    const request = node.http.request({
      socketPath: socket,
      agent,
      method: init.method ?? "GET",
      path: url.pathname + url.search,
      headers: { host: url.host, ...Object.fromEntries(new Headers(init.headers)) },
      ...(init.signal ? { signal: init.signal } : {}),
    }, (reply) => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(reply.headers)) {
        for (const one of Array.isArray(value) ? value : [value ?? ""]) headers.append(name, one);
      }
      let body = node.stream.Readable.toWeb(reply) as ReadableStream<Uint8Array>;
      const coding = headers.get("content-encoding")?.trim().toLowerCase();
      if (coding === "gzip" || coding === "x-gzip" || coding === "deflate") {
        // As fetch does: the body decoded, the header left to say it was.
        const format = coding === "deflate" ? "deflate" : "gzip";
        body = body.pipeThrough(
          new DecompressionStream(format) as unknown as TransformStream<Uint8Array, Uint8Array>,
        );
      }
      const status = reply.statusCode ?? 0;
      const empty = status === 204 || status === 304 || init.method === "HEAD";
      if (empty) reply.resume();
      resolve(new Response(empty ? null : body, { status, headers }));
    });
    request.on("error", (error) => {
      if (init.signal?.aborted) reject(init.signal.reason);
      // The error names no socket; the caller needs to know which one.
      else {reject(
          new TypeError(`cannot reach the Unix socket ${socket}: ${error.message}`, {
            cause: error,
          }),
        );}
    });
    const body = init.body;
    if (
      body !== undefined && body !== null && typeof body !== "string" &&
      !(body instanceof Uint8Array)
    ) {
      request.destroy();
      return Promise.reject(new TypeError("over a Unix socket a body is a string or bytes"));
    }
    request.end(body ?? undefined);
    return promise;
  };
  return {
    fetch: socketFetch as typeof fetch,
    close: () => agent.destroy(),
  };
}
