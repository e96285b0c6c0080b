// A Deno connection as the Node.js Duplex that the `ws` package runs on.
// Deno only. `node:net` would give one, but it binds asynchronously, and
// serveHttp returns its address at once; Deno.listen binds synchronously.

import { Buffer } from "node:buffer";
import { Duplex } from "node:stream";

// Bytes of one read; each read's bytes are copied out (ws keeps them).
const READ_SIZE = 64 * 1024;
// How long a closed socket drains what the client still sends.
const LINGER_MS = 1000;

/** Whether an error only says that the connection ended (reset, closed, no TLS close_notify). */
export function isConnectionEnd(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.UnexpectedEof ||
    error instanceof Deno.errors.Interrupted;
}

/** Writes all of `bytes`. */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await conn.write(written === 0 ? bytes : bytes.subarray(written));
  }
}

/**
 * The connection as a Duplex: reads only while the Duplex wants data, so a
 * paused reader (`ws`'s `pause()`) leaves the bytes in the kernel and the
 * sender blocks, instead of buffering here.
 */
export class ConnDuplex extends Duplex {
  readonly #conn: Deno.Conn;
  readonly #scratch = new Uint8Array(READ_SIZE);
  #reading = false;
  #linger: ReturnType<typeof setTimeout> | undefined;

  /** Wraps `conn`; the Duplex owns it from now on. */
  constructor(conn: Deno.Conn) {
    super({ allowHalfOpen: false });
    this.#conn = conn;
  }

  override _read(): void {
    if (this.#reading) return;
    this.#reading = true;
    this.#conn.read(this.#scratch).then((n) => {
      this.#reading = false;
      if (n === null) this.push(null);
      else if (this.push(Buffer.from(this.#scratch.subarray(0, n)))) this._read();
    }, (error) => {
      this.#reading = false;
      if (isConnectionEnd(error)) this.push(null);
      else this.destroy(error);
    });
  }

  override _write(
    chunk: Uint8Array,
    _encoding: string,
    callback: (error?: Error | null) => void,
  ): void {
    writeAll(this.#conn, chunk).then(() => callback(), (error) => callback(error));
  }

  override _writev(
    chunks: { chunk: Uint8Array }[],
    callback: (error?: Error | null) => void,
  ): void {
    // ws corks a frame's header and payload together: one write for both.
    this._write(Buffer.concat(chunks.map((c) => c.chunk)), "buffer", callback);
  }

  // ws ends the socket once the closing handshake is done (or a handshake
  // refused). The server closes first (RFC 6455, 7.1.1), but lingers: a
  // close with unread bytes in the kernel (the rest of a message refused by
  // its header) would be a reset, and the client could lose the close frame.
  // What still arrives is read and dropped until the client's FIN, for at
  // most LINGER_MS (ws itself would wait 30 s).
  override _final(callback: (error?: Error | null) => void): void {
    this.#conn.closeWrite().catch(() => {}).finally(() => {
      this.#linger = setTimeout(() => this.destroy(), LINGER_MS);
      callback();
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.#linger);
    try {
      this.#conn.close();
    } catch {
      // Closed already.
    }
    callback(error);
  }

  /** As `net.Socket`'s; ws turns Nagle off. */
  setNoDelay(noDelay = true): this {
    try {
      (this.#conn as Deno.TcpConn).setNoDelay?.(noDelay);
    } catch {
      // Not TCP, or closed.
    }
    return this;
  }

  /** As `net.Socket`'s; ws only clears it (idle timers are parley's). */
  setTimeout(_ms: number): this {
    return this;
  }

  /** As `net.Socket`'s; not used. */
  setKeepAlive(): this {
    return this;
  }
}
