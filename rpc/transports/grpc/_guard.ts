/**
 * What keeps one hostile or dead gRPC connection from hurting the others
 * (docs/grpc.md, "Limits"): connections over `maxConnections` closed as they
 * arrive; a connection that opens no stream within `firstFrameTimeout`, or
 * has none open for `idleTimeout`, sent GOAWAY and closed; a peer that resets
 * streams faster than `maxStreamResets` a second (CVE-2023-44487, "rapid
 * reset": each reset stream costs the server a dispatch for nothing) sent
 * GOAWAY ENHANCE_YOUR_CALM and closed; a request body that stalls ended
 * with a status. The rest — malformed frames, invalid HPACK, streams over
 * SETTINGS_MAX_CONCURRENT_STREAMS — node:http2 answers itself with GOAWAY.
 *
 * @module
 */

import http2 from "node:http2";
import type { Socket } from "node:net";

/** The bounds {@linkcode guardConnections} holds each connection to. */
export interface ConnectionGuardOptions {
  /** Connections open at once; more are closed as they arrive. */
  readonly maxConnections: number;
  /** Streams a connection's peer may reset in one second; more end the connection. */
  readonly maxStreamResets: number;
  /** Milliseconds from a connection's start to its first stream. */
  readonly firstFrameTimeout: number;
  /** Milliseconds a connection may have no stream open. */
  readonly idleTimeout: number;
  /** Told why a connection was ended. */
  readonly onError: (error: unknown) => void;
  /** Pings of the server's own, to find dead peers sooner than `idleTimeout`. */
  readonly keepAlive?: KeepAlive;
}

/** The server's keep-alive pings. */
export interface KeepAlive {
  /** Milliseconds between pings on each connection. */
  readonly interval: number;
  /** Milliseconds a ping's answer may take; then the connection is ended. */
  readonly timeout: number;
}

/** Milliseconds an ended connection's GOAWAY has to reach the peer before the socket is cut. */
const GRACE = 1000;

const { NGHTTP2_NO_ERROR, NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

/**
 * Watches every connection and session of `server` (installs its listeners).
 *
 * @param server a `node:http2` server, cleartext or TLS
 * @param options the bounds
 *
 * @example A connection that opens no stream is closed
 * ```ts
 * import assert from "node:assert/strict";
 * import http2 from "node:http2";
 * import { guardConnections } from "./_guard.ts";
 *
 * const server = http2.createServer();
 * guardConnections(server, {
 *   maxConnections: 10,
 *   maxStreamResets: 100,
 *   firstFrameTimeout: 50,
 *   idleTimeout: 1000,
 *   onError: () => {},
 * });
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as { port: number };
 * const session = http2.connect(`http://127.0.0.1:${port}`);
 * session.on("error", () => {});
 * const code = await new Promise((resolve) => session.on("goaway", resolve));
 * assert.equal(code, http2.constants.NGHTTP2_NO_ERROR);
 * session.destroy();
 * await new Promise((resolve) => server.close(resolve));
 * ```
 */
export function guardConnections(
  server: http2.Http2Server | http2.Http2SecureServer,
  options: ConnectionGuardOptions,
): void {
  let open = 0;
  server.on("connection", (socket: Socket) => {
    if (open >= options.maxConnections) {
      options.onError(new Error(`Too many connections (limit ${options.maxConnections})`));
      socket.destroy();
      return;
    }
    open++;
    socket.once("close", () => open--);
  });
  server.on("session", (session: http2.ServerHttp2Session) => guardSession(session, options));
}

function guardSession(session: http2.ServerHttp2Session, options: ConnectionGuardOptions): void {
  let active = 0;
  let resets = 0;
  let window = performance.now();
  let ended = false;
  const end = (code: number, why: string) => {
    if (ended) return; // its other streams close after it, each a reset
    ended = true;
    options.onError(new Error(`gRPC connection ended: ${why}`));
    if (session.destroyed) return;
    // GOAWAY first, and time for it to reach the peer (destroying at once
    // can drop it): close() refuses new streams; the rest are cut at GRACE.
    session.goaway(code);
    session.close();
    const cut = setTimeout(() => session.destroy(), GRACE);
    session.once("close", () => clearTimeout(cut));
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (ms: number, why: string) => {
    clearTimeout(timer);
    timer = ms === Infinity ? undefined : setTimeout(() => end(NGHTTP2_NO_ERROR, why), ms);
  };
  arm(options.firstFrameTimeout, `no stream within ${options.firstFrameTimeout} ms`);
  session.once("close", () => clearTimeout(timer));
  if (options.keepAlive !== undefined) keepAlive(session, options.keepAlive, end);
  session.on("stream", (stream: http2.ServerHttp2Stream) => {
    active++;
    clearTimeout(timer);
    stream.once("close", () => {
      active--;
      // A stream the peer reset (we close ours with NO_ERROR only).
      if (stream.rstCode !== undefined && stream.rstCode !== NGHTTP2_NO_ERROR) {
        const now = performance.now();
        if (now - window >= 1000) [window, resets] = [now, 0];
        if (++resets > options.maxStreamResets) {
          return end(NGHTTP2_ENHANCE_YOUR_CALM, `over ${options.maxStreamResets} resets a second`);
        }
      }
      if (active === 0 && !session.destroyed) {
        arm(options.idleTimeout, `idle for ${options.idleTimeout} ms`);
      }
    });
  });
}

// A ping every `interval`; one unanswered for `timeout` ends the connection.
function keepAlive(
  session: http2.ServerHttp2Session,
  { interval, timeout }: KeepAlive,
  end: (code: number, why: string) => void,
): void {
  let unanswered: ReturnType<typeof setTimeout> | undefined;
  const pinger = setInterval(() => {
    if (unanswered !== undefined || session.destroyed) return; // one ping at a time
    unanswered = setTimeout(
      () => end(NGHTTP2_NO_ERROR, `no ping answered within ${timeout} ms`),
      timeout,
    );
    // An error here is the session closing: its close event tidies up.
    session.ping((error) => {
      if (error !== null) return;
      clearTimeout(unanswered);
      unanswered = undefined;
    });
  }, interval);
  session.once("close", () => {
    clearInterval(pinger);
    clearTimeout(unanswered);
  });
}

/**
 * Bounds how long a request body may take: `firstFrameTimeout` ms to its
 * first bytes, then `idleTimeout` ms between chunks (not counting the time
 * its reader keeps it paused), until it ends; past
 * either, `expired` is called once (the call is answered with a status,
 * which frees the stream). A body with no end and no `grpc-timeout` would
 * otherwise hold its stream, and its share of the connection, for ever.
 *
 * @param stream the request's stream
 * @param firstFrameTimeout ms to the first bytes
 * @param idleTimeout ms between chunks
 * @param expired answers the call
 *
 * @example A body that never comes
 * ```ts
 * import assert from "node:assert/strict";
 * import http2 from "node:http2";
 * import { watchBody } from "./_guard.ts";
 *
 * const server = http2.createServer();
 * const expired = new Promise<string>((resolve) =>
 *   server.on("stream", (stream) => watchBody(stream as http2.ServerHttp2Stream, 50, 1000, resolve))
 * );
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as { port: number };
 * const session = http2.connect(`http://127.0.0.1:${port}`);
 * const call = session.request({ ":method": "POST", ":path": "/" });
 * call.on("error", () => {});
 * assert.match(await expired, /no request body within 50 ms/);
 * session.destroy();
 * await new Promise((resolve) => server.close(resolve));
 * ```
 */
export function watchBody(
  stream: http2.ServerHttp2Stream,
  firstFrameTimeout: number,
  idleTimeout: number,
  expired: (message: string) => void,
): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (ms: number, message: string) => {
    clearTimeout(timer);
    if (ms !== Infinity) timer = setTimeout(() => expired(message), ms);
  };
  const stalled = `the request body stalled for ${idleTimeout} ms`;
  arm(firstFrameTimeout, `no request body within ${firstFrameTimeout} ms`);
  stream.on("data", () => arm(idleTimeout, stalled));
  // Paused by its reader (a handler behind on `ctx.input`): the wait is the
  // server's, not the client's, and the clock starts again on resuming.
  let paused = false;
  let over = false;
  stream.on("pause", () => {
    paused = true;
    clearTimeout(timer);
  });
  stream.on("resume", () => {
    if (!paused || over) return;
    paused = false;
    arm(idleTimeout, stalled);
  });
  const stop = () => {
    over = true;
    clearTimeout(timer);
  };
  stream.once("end", stop);
  stream.once("close", stop);
}
