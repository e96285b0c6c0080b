// A node:net or node:tls socket as what the HTTP/2 driver reads and writes
// (the read/write/closeWrite/close of a Deno.Conn). Only mutual TLS needs
// it: Deno's own TLS cannot ask for client certificates, its node:tls can
// (rpc/transports/_mtls_accept.ts).

import type { Socket } from "node:net";
import type { DriverSocket } from "./_driver.ts";

// Bytes received and not yet read past which the socket is paused: the
// driver stops reading while its output is backed up, and then so does TCP.
const PAUSE_AT = 256 * 1024;

/**
 * Wraps `socket` for `driveSocket`: `read` copies what arrived into the
 * caller's buffer (null at the end; a reset ends the read with its error),
 * `write` resolves once node has taken the bytes, `closeWrite` sends FIN.
 */
export function nodeSocket(socket: Socket): DriverSocket {
  const chunks: Uint8Array[] = [];
  let queued = 0;
  let ended = false;
  let failure: Error | undefined;
  let waiting: (() => void) | undefined;
  const wake = () => {
    const waiter = waiting;
    waiting = undefined;
    waiter?.();
  };
  socket.setNoDelay(true);
  socket.on("data", (chunk: Uint8Array) => {
    chunks.push(chunk);
    queued += chunk.length;
    if (queued >= PAUSE_AT) socket.pause();
    wake();
  });
  socket.on("end", () => {
    ended = true;
    wake();
  });
  socket.on("error", (error: Error) => {
    failure = error;
    wake();
  });
  socket.on("close", () => {
    ended = true;
    wake();
  });
  const read = async (buffer: Uint8Array): Promise<number | null> => {
    while (chunks.length === 0) {
      if (failure !== undefined) throw failure;
      if (ended) return null;
      await new Promise<void>((resolve) => waiting = resolve);
    }
    let n = 0;
    while (n < buffer.length && chunks.length > 0) {
      const chunk = chunks[0]!;
      const take = Math.min(chunk.length, buffer.length - n);
      buffer.set(chunk.subarray(0, take), n);
      n += take;
      if (take === chunk.length) chunks.shift();
      else chunks[0] = chunk.subarray(take);
    }
    queued -= n;
    if (queued < PAUSE_AT && socket.isPaused()) socket.resume();
    return n;
  };
  return {
    read,
    write: (data: Uint8Array) =>
      new Promise<number>((resolve, reject) => {
        if (socket.destroyed) return reject(failure ?? new Error("The socket is closed"));
        socket.write(data, (error) => error ? reject(error) : resolve(data.length));
      }),
    closeWrite: () => new Promise<void>((resolve) => socket.end(resolve)),
    close: () => void socket.destroy(),
  };
}
