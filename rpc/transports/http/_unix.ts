// HTTP over a Unix domain socket for the HTTP client: the `http+unix://`
// URL forms, and a `fetch` whose connections go to the socket. Deno's
// `fetch` does the HTTP (keep-alive, chunking, gzip) through a client made
// with `Deno.createHttpClient({ proxy: { transport: "unix", path } })`,
// looked up at run time so that this module still compiles for browsers,
// where it refuses with a clear error instead.

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
  // Deno's socket transport would send an https:// request in clear text.
  if (!target.url.startsWith("http://")) {
    throw new TypeError(
      `connectHttp: over a Unix socket the URL is http:// or http+unix://, got "${url}"`,
    );
  }
  return target;
}

/** What `Deno.createHttpClient` gives, as far as this module needs it. */
interface DenoHttpClient {
  close(): void;
}
interface DenoFetchApi {
  createHttpClient(options: { proxy: { transport: "unix"; path: string } }): DenoHttpClient;
}

/** A `fetch` over one Unix socket, and how to release its connections. */
export interface UnixFetch {
  readonly fetch: typeof fetch;
  close(): void;
}

/**
 * A `fetch` whose every request goes to the Unix socket at `socket`.
 *
 * @throws {TypeError} outside Deno, which alone offers this here
 */
export function unixFetch(socket: string): UnixFetch {
  const deno = (globalThis as { Deno?: Partial<DenoFetchApi> }).Deno;
  if (typeof deno?.createHttpClient !== "function") {
    throw new TypeError("HTTP over a Unix socket needs Deno (Deno.createHttpClient)");
  }
  const client = deno.createHttpClient({ proxy: { transport: "unix", path: socket } });
  let closed = false;
  const socketFetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    try {
      return await fetch(input, { ...init, client } as RequestInit);
    } catch (error) {
      if (init?.signal?.aborted) throw error;
      // The network error names the URL, which says nothing about the socket.
      const cause = (error as Error).cause ?? error;
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new TypeError(`cannot reach the Unix socket ${socket}: ${why}`, { cause: error });
    }
  };
  return {
    fetch: socketFetch as typeof fetch,
    close: () => {
      if (closed) return;
      closed = true;
      client.close();
    },
  };
}
