/**
 * One accepted socket of the NATS client, from the server's `PONG` to its
 * end: the read loop (a new buffer per read, as messages are views of it,
 * sized to what reads bring), the writes (everything added in a turn goes
 * out in one write, the next turn's gathered meanwhile), the `PING`s and
 * the `PONG`s that answer them, in order, and the keep-alive that finds a
 * dead server. The connection (connection.ts) outlives its sessions: a
 * lost one hands back its unanswered flushes for the next to carry.
 *
 * @module
 */

import type { Accepted, NatsLink } from "./_handshake.ts";
import { writeAll } from "./_handshake.ts";
import type { Output } from "./_output.ts";
import type { NatsParser } from "./_parser.ts";
import type { ServerEntry } from "./_servers.ts";

const FIRST_READ = 64 * 1024;
const MIN_READ = 8 * 1024;
const MAX_READ = 1024 * 1024;
// How long close() waits for what waits to be written: a server that reads
// nothing would otherwise hold it for ever.
const CLOSE_GRACE_MS = 1_000;

/** An answer to a flush: called at its `PONG`, or with the error that ends the wait. */
export type PongAnswer = (error?: Error) => void;

/** What a session asks of its connection. */
export interface SessionHost {
  /** What waits to be written; shared by the connection's sessions. */
  readonly output: Output;
  /** Told of each read's size. */
  read(bytes: number): void;
  /** The socket ended or broke (`error` undefined: it ended). */
  lost(session: LinkSession, error: unknown): void;
  /** Told of what the connection's `onStatus` should hear. */
  report(type: string, data?: unknown): void;
}

/**
 * An accepted socket while it lasts.
 *
 * @example Sessions are made by the connection; see `NatsCoreConnection`.
 * ```ts
 * import assert from "node:assert/strict";
 * import { LinkSession } from "./_session.ts";
 *
 * assert.equal(typeof LinkSession.prototype.ping, "function");
 * ```
 */
export class LinkSession {
  /** The socket. */
  readonly link: NatsLink;
  /** The server it is connected to. */
  readonly server: ServerEntry;
  /** The parser that reads it. */
  readonly parser: NatsParser;
  readonly #host: SessionHost;
  readonly #maxPingOut: number;
  // One entry per PING sent, in order; keep-alive pings have no answer.
  #pongs: (PongAnswer | undefined)[] = [];
  #pingsOut = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #scheduled = false;
  #writing = false;
  #writer: Promise<void> = Promise.resolve();
  #ended = false;

  /**
   * Takes an accepted socket.
   *
   * @param host the connection
   * @param accepted the socket, its server, its parser
   * @param maxPingOut pings without their pong before the server is dead
   */
  constructor(host: SessionHost, accepted: Accepted, maxPingOut: number) {
    this.#host = host;
    this.link = accepted.link;
    this.server = accepted.server;
    this.parser = accepted.parser;
    this.#maxPingOut = maxPingOut;
  }

  /**
   * Starts reading, and pinging every `pingInterval` ms.
   *
   * @param pingInterval milliseconds between keep-alive pings
   */
  start(pingInterval: number): void {
    this.#timer = setInterval(() => this.#keepAlive(), pingInterval);
    this.#pump();
  }

  /** Has what waits written soon: once per turn, after everything added in it. */
  schedule(): void {
    if (this.#scheduled || this.#writing || this.#ended) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#writer = this.#writeOut();
    });
  }

  /**
   * Sends a `PING`.
   *
   * @param answer called at its `PONG`
   */
  ping(answer: PongAnswer | undefined): void {
    this.#pongs.push(answer);
    this.#host.output.line("PING");
    this.schedule();
  }

  /** The server's `PONG`: the oldest `PING` is answered. */
  pong(): void {
    this.#pingsOut = 0;
    this.#pongs.shift()?.();
  }

  /**
   * Ends the session: no more reads or writes, the socket closed.
   *
   * @returns the flushes still waiting for their `PONG`
   */
  end(): PongAnswer[] {
    this.#ended = true;
    clearInterval(this.#timer);
    this.link.close();
    const waiting = this.#pongs.filter((answer) => answer !== undefined);
    this.#pongs = [];
    return waiting;
  }

  /**
   * Writes what waits (after any write under way), then ends; a write that
   * takes longer than a second (the server reads nothing) is given up.
   */
  async close(): Promise<PongAnswer[]> {
    this.#ended = true;
    const { output } = this.#host;
    const written = (async () => {
      await this.#writer;
      if (output.size > 0) await writeAll(this.link, output.take());
    })().catch(() => {
      // The socket is gone: nothing more can be said on it.
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => timer = setTimeout(resolve, CLOSE_GRACE_MS));
    await Promise.race([written, grace]);
    clearTimeout(timer);
    return this.end(); // the socket closed: a write still under way fails
  }

  // Writes what waits, one write per turn's worth, until nothing does.
  async #writeOut(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    const { output } = this.#host;
    try {
      while (!this.#ended && output.size > 0) {
        const bytes = output.take();
        try {
          await writeAll(this.link, bytes);
        } catch (error) {
          this.#host.lost(this, error);
          return;
        } finally {
          output.release(bytes);
        }
      }
    } finally {
      this.#writing = false;
    }
  }

  async #pump(): Promise<void> {
    let size = FIRST_READ;
    let failure: unknown;
    try {
      for (;;) {
        const buffer = new Uint8Array(size);
        const n = await this.link.read(buffer);
        if (n === null || this.#ended) break;
        this.#host.read(n);
        // A full read: the next may bring more; a small one: less to make and hold.
        if (n === size) size = Math.min(size * 2, MAX_READ);
        else if (n < size / 3) size = Math.max(size / 2, MIN_READ);
        this.parser.receive(buffer.subarray(0, n));
      }
    } catch (error) {
      failure = error;
    }
    this.#host.lost(this, failure);
  }

  #keepAlive(): void {
    if (this.#pingsOut >= this.#maxPingOut) {
      this.#host.report("staleConnection", `${this.server.hostname}:${this.server.port}`);
      this.#host.lost(this, undefined);
      return;
    }
    this.#pingsOut++;
    this.ping(undefined);
  }
}
