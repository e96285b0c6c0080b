// The listener of an HTTP server with WebSocket routes. Deno only.
//
// Deno's own WebSocket server (Deno.upgradeWebSocket) assembles a fragmented
// message in Rust before JavaScript sees any of it and has no size limit: a
// client that sends continuation frames without FIN grows the server's memory
// without bound (1 GiB sent, 1.1 GiB RSS; on Deno 2.9.6, 300 MiB of
// fragments held 349 MB of RSS, and a 100 MiB fragmented message was
// delivered whole, past fastwebsockets' own 64 MiB default). Deno 2 has no knob for it
// (UpgradeWebSocketOptions is `protocol`, `idleTimeout` and a node socket:
// https://docs.deno.com/api/deno/~/Deno.UpgradeWebSocketOptions), the request
// for one is open (https://github.com/denoland/deno/issues/15809), and
// fastwebsockets' fix for fragments (denoland/fastwebsockets#140, for #100)
// still counts against a limit Deno sets, not one of ours. Nor can Deno.serve
// hand over a request's raw connection. So a server with WebSocket routes
// listens here: the head of each connection's first request is read (within
// `headerTimeout` and 64 KiB); a WebSocket handshake for a WebSocket route is
// served by the `ws` package (maxPayload counts fragments as they arrive) on
// the raw connection, and every other connection is relayed byte for byte to
// the real HTTP server, Deno.serve on an internal loopback port. Nor is `ws`
// the slower design: with 64 calls per read, `ws` echoing on ConnDuplex costs
// ~1.4 µs of server CPU per message and Deno's own echo server ~6 µs (it
// writes each message with a system call of its own); docs/benchmarks.md.

import { acceptFailed, Backoff, Episodes } from "../_accept.ts";
import { isConnectionEnd, writeAll } from "./_conn_duplex.ts";

/** The head of a request, as read off the connection. */
export interface RequestHead {
  readonly method: string;
  /** The request target: the path and query. */
  readonly target: string;
  readonly headers: Headers;
}

/**
 * What to do with a connection whose first request is `head`: serve it here
 * (a function that takes the connection and the bytes read after the head),
 * or `undefined` to relay it to the HTTP server.
 */
export type Upgrader = (
  head: RequestHead,
) => ((conn: Deno.Conn, rest: Uint8Array) => void) | undefined;

/** Options of {@linkcode listenFront}. */
export interface FrontOptions {
  readonly hostname: string;
  readonly port: number;
  readonly cert?: string;
  readonly key?: string;
  /** The internal HTTP server to relay other connections to. */
  readonly upstream: () => Deno.NetAddr;
  readonly upgrade: Upgrader;
  /** Milliseconds for the first request's head. */
  readonly headerTimeout: number;
  /** Milliseconds a relayed connection may carry no bytes either way. */
  readonly idleTimeout: number;
  readonly onError: (error: unknown) => void;
  /**
   * Whether a connection may be served, asked once its first bytes came
   * (behind the mutual-TLS relay: only the relay's own connections, not a
   * local process that found the loopback port). Everyone by default.
   */
  readonly admit?: (remote: Deno.NetAddr) => boolean;
}

/** The running listener. */
export interface Front {
  readonly addr: Deno.NetAddr;
  /** Stops accepting; the connections already open go on. */
  close(): void;
  /** Closes the relayed connections (the HTTP server has answered them). */
  closeRelayed(): void;
  /**
   * The client's address of a relayed connection, by the port it reaches
   * the HTTP server from (what that server sees as its remote port).
   */
  clientOf(port: number): Deno.NetAddr | undefined;
  /** Resolves when the accept loop has stopped. */
  readonly finished: Promise<void>;
}

const MAX_HEAD = 64 * 1024;
const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/**
 * Listens on the public address.
 *
 * @param options the address, the internal server, what to serve here
 * @returns the listener
 */
export function listenFront(options: FrontOptions): Front {
  const listener: Deno.Listener = options.cert !== undefined && options.key !== undefined
    ? Deno.listenTls({
      hostname: options.hostname,
      port: options.port,
      cert: options.cert,
      key: options.key,
    })
    : Deno.listen({ hostname: options.hostname, port: options.port });
  const relayed = new Set<Deno.Conn>();
  // Relay port → the client: the HTTP server sees only the relay.
  const clients = new Map<number, Deno.NetAddr>();
  let closing = false;

  const stopped = new AbortController();
  const accept = async (): Promise<void> => {
    const failures = new Episodes();
    const backoff = new Backoff();
    while (!closing) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing || error instanceof Deno.errors.BadResource) return;
        // Out of file descriptors (EMFILE) and the like: wait and go on
        // serving the connections that are open, as Go's http.Server does;
        // told once per episode, as the other accept loops do.
        if (failures.begins()) options.onError(acceptFailed(urlOf(listener.addr), error));
        await backoff.wait(stopped.signal);
        continue;
      }
      backoff.reset();
      handle(conn, options, relayed, clients).catch((error) => {
        options.onError(error);
        close(conn);
      });
    }
  };

  return {
    addr: listener.addr as Deno.NetAddr,
    close() {
      closing = true;
      stopped.abort();
      try {
        listener.close();
      } catch {
        // Closed already.
      }
    },
    closeRelayed() {
      for (const conn of relayed) close(conn);
    },
    clientOf: (port) => clients.get(port),
    finished: accept(),
  };
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}

async function handle(
  conn: Deno.Conn,
  options: FrontOptions,
  relayed: Set<Deno.Conn>,
  clients: Map<number, Deno.NetAddr>,
): Promise<void> {
  const read = await readHead(conn, options.headerTimeout);
  if (read.kind === "closed") return close(conn);
  // Asked after the first bytes: the relay records its connection before it passes any on.
  if (options.admit !== undefined && !options.admit(conn.remoteAddr as Deno.NetAddr)) {
    return close(conn);
  }
  if (read.kind !== "read") {
    const [status, text] = read.kind === "timeout"
      ? [
        408,
        `Request Timeout: no complete request head within ${options.headerTimeout} ms (headerTimeout)`,
      ]
      : [431, `Request Header Fields Too Large: the head is over ${MAX_HEAD} bytes`];
    await answerAndClose(conn, status, text);
    return;
  }
  const end = read.head?.end;
  const head = end === undefined ? undefined : parseHead(read.bytes, end);
  const serve = head === undefined ? undefined : options.upgrade(head);
  if (serve !== undefined) return serve(conn, read.bytes.subarray(end));
  relayed.add(conn);
  try {
    await relay(conn, read.bytes, options, clients);
  } finally {
    relayed.delete(conn);
  }
}

type HeadRead =
  | { kind: "closed" | "timeout" | "too-large" }
  // `head` is undefined for bytes that are no HTTP/1 request head (HTTP/2's preface).
  | { kind: "read"; bytes: Uint8Array; head: { end: number } | undefined };

// Reads until the end of the first head ("\r\n\r\n"), resuming the search
// where the last read stopped. A read cannot be cancelled, so the deadline
// races it; the read left pending fails when the connection is closed.
async function readHead(conn: Deno.Conn, timeout: number): Promise<HeadRead> {
  let bytes = new Uint8Array(4096);
  let length = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    // Infinity is off (setTimeout would fire at once).
    if (timeout !== Infinity) timer = setTimeout(() => resolve("timeout"), timeout);
  });
  try {
    while (true) {
      if (length === bytes.length) {
        const grown = new Uint8Array(Math.min(bytes.length * 2, MAX_HEAD + 4096));
        grown.set(bytes);
        bytes = grown;
      }
      const reading = conn.read(bytes.subarray(length));
      reading.catch(() => {});
      let n: number | null | "timeout";
      try {
        n = await Promise.race([reading, deadline]);
      } catch (error) {
        if (isConnectionEnd(error)) return { kind: "closed" };
        throw error;
      }
      if (n === "timeout") return { kind: "timeout" };
      if (n === null) return { kind: "closed" };
      const from = Math.max(0, length - 3);
      length += n;
      // Anything but an HTTP/1 request line goes to the server as it is.
      if (length >= 4 && !/^[A-Z]{1,16} /.test(latin1.decode(bytes.subarray(0, 17)))) {
        return { kind: "read", bytes: bytes.subarray(0, length), head: undefined };
      }
      const end = indexOfHeadEnd(bytes, from, length);
      if (end >= 0) return { kind: "read", bytes: bytes.subarray(0, length), head: { end } };
      if (length > MAX_HEAD) return { kind: "too-large" };
    }
  } finally {
    clearTimeout(timer);
  }
}

function indexOfHeadEnd(bytes: Uint8Array, from: number, to: number): number {
  for (let i = from; i + 3 < to; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i + 4;
    }
  }
  return -1;
}

// The request line and headers; undefined for anything malformed, which
// the HTTP server then answers (400).
function parseHead(bytes: Uint8Array, end: number): RequestHead | undefined {
  const lines = latin1.decode(bytes.subarray(0, end - 4)).split("\r\n");
  const request = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(lines[0] ?? "");
  if (request === null) return undefined;
  const headers = new Headers();
  try {
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) return undefined;
      headers.append(line.slice(0, colon), line.slice(colon + 1).trim());
    }
  } catch {
    // A name or value Headers refuses.
    return undefined;
  }
  return { method: request[1]!, target: request[2]!, headers };
}

/** Writes a plain-text answer and closes the connection. */
export async function answerAndClose(
  conn: Deno.Conn,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): Promise<void> {
  const body = encoder.encode(`${text}\n`);
  let head = `HTTP/1.1 ${status} ${text.split(":")[0]}\r\n` +
    `content-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\n` +
    `connection: close\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  const bytes = encoder.encode(`${head}\r\n`);
  const whole = new Uint8Array(bytes.length + body.length);
  whole.set(bytes);
  whole.set(body, bytes.length);
  try {
    await writeAll(conn, whole);
  } catch {
    // Gone already.
  }
  close(conn);
}

// Relays the connection to the HTTP server, starting with what was read.
async function relay(
  conn: Deno.Conn,
  first: Uint8Array,
  options: FrontOptions,
  clients: Map<number, Deno.NetAddr>,
): Promise<void> {
  let upstream: Deno.Conn;
  try {
    const { hostname, port } = options.upstream();
    upstream = await Deno.connect({ hostname, port });
  } catch (error) {
    options.onError(error);
    return answerAndClose(conn, 503, "Service Unavailable: the HTTP server is not reachable");
  }
  const via = (upstream.localAddr as Deno.NetAddr).port;
  clients.set(via, conn.remoteAddr as Deno.NetAddr);
  try {
    await pumpBoth(conn, upstream, first, options);
  } finally {
    clients.delete(via);
  }
}

async function pumpBoth(
  conn: Deno.Conn,
  upstream: Deno.Conn,
  first: Uint8Array,
  options: FrontOptions,
): Promise<void> {
  let last = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const idle = (): void => {
    const left = options.idleTimeout - (Date.now() - last);
    if (left > 0) timer = setTimeout(idle, left);
    else {
      close(conn);
      close(upstream);
    }
  };
  timer = setTimeout(idle, options.idleTimeout);
  const pump = async (from: Deno.Conn, to: Deno.Conn): Promise<void> => {
    const scratch = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await from.read(scratch);
        if (n === null) break;
        last = Date.now();
        await writeAll(to, scratch.subarray(0, n));
      }
      await to.closeWrite();
    } catch (error) {
      if (!isConnectionEnd(error) && !(error instanceof Deno.errors.NotConnected)) throw error;
      // Either end went away: so does the other.
      close(from);
      close(to);
    }
  };
  try {
    await writeAll(upstream, first);
    await Promise.all([pump(conn, upstream), pump(upstream, conn)]);
  } catch (error) {
    if (!isConnectionEnd(error)) options.onError(error);
  } finally {
    clearTimeout(timer);
    close(conn);
    close(upstream);
  }
}

function urlOf(addr: Deno.Addr): string {
  const { hostname, port } = addr as Deno.NetAddr;
  return `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}
