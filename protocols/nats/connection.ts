/**
 * parley's own NATS client: core NATS (publish, subscribe, queue groups,
 * headers, request/reply by reply subject) on one socket, with no socket
 * of its own: a {@linkcode NatsDialer} opens the connections, so this
 * module is Web-standard and the transport (rpc/transports/nats/core.ts)
 * brings `Deno.connect`.
 *
 * What it does: the `INFO`/`CONNECT` handshake with user and password,
 * token or any nats.js authenticator (nkeys, JWT), TLS when the server or
 * the address asks, `PING`s that find a dead connection, reconnection for
 * ever (or `maxReconnectAttempts`) to the servers given and those the
 * cluster tells of, subscriptions made again and what was published while
 * disconnected sent (up to `reconnectBufSize`), `flush()` and `drain()`.
 *
 * Why it exists beside nats.js: speed. Every message of a read is handed
 * to its subscription in one synchronous pass as a view of the read, and
 * every publish of a turn goes out in one write; a worker and client on it
 * carry ~1.6× the calls of the same on nats.js (docs/benchmarks.md, NATS).
 * nats.js remains the client for JetStream, key-value stores and WebSocket.
 *
 * @module
 */

import { Output } from "./_output.ts";
import { headerBlock, NatsCoreMessage } from "./_message.ts";
import {
  NatsCoreSubscription,
  type NatsSubscribeOptions,
  type SubscriptionHost,
} from "./_subscription.ts";
import { type ServerEntry, Servers } from "./_servers.ts";
import {
  type NatsCoreOptions,
  type NatsPublishOptions,
  type NatsServerInfo,
  type NatsStats,
  type ResolvedOptions,
  resolveOptions,
} from "./_options.ts";
import { type Accepted, handshake, type NatsDialer, readInfo } from "./_handshake.ts";
import { LinkSession, type PongAnswer, type SessionHost } from "./_session.ts";
import { Retry } from "./_retry.ts";

const EMPTY = new Uint8Array(0);
const SUBJECT = /^[^\s]+$/;

// A subject, reply subject or queue group: one word on a protocol line.
function checkToken(what: string, value: string): void {
  if (!SUBJECT.test(value)) throw new TypeError(`Not a NATS ${what}: ${JSON.stringify(value)}`);
}

type State = "connecting" | "connected" | "reconnecting" | "draining" | "closed";

/**
 * A connection to NATS, made by {@linkcode openNatsCore} (or by
 * `connectNatsCore` of `@parley/rpc/nats`, which dials with Deno).
 *
 * @example A request answered by a subscription's `respond()`
 * ```ts
 * import assert from "node:assert/strict";
 * import { startNatsServer } from "../../testing/nats_server.ts";
 * import { connectNatsCore } from "../../rpc/transports/nats.ts";
 *
 * await using natsServer = await startNatsServer(); // Debian package nats-server
 * const nc = await connectNatsCore(natsServer.url);
 * nc.subscribe("time", { queue: "clocks", callback: (_error, msg) => msg.respond("noon") });
 * const answers = nc.subscribe("_INBOX.example", { max: 1 });
 * nc.publish("time", "", { reply: "_INBOX.example" });
 * for await (const msg of answers) assert.equal(msg.text(), "noon");
 * await nc.drain();
 * ```
 */
export class NatsCoreConnection {
  readonly #resolved: ResolvedOptions;
  readonly #dialer: NatsDialer;
  readonly #servers: Servers;
  readonly #output = new Output();
  readonly #subs = new Map<number, NatsCoreSubscription>();
  readonly #finished = Promise.withResolvers<void | Error>();
  readonly #stats: NatsStats = { inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0 };
  #state: State = "connecting";
  #session: LinkSession | undefined;
  #info: NatsServerInfo = {};
  #maxPayload = 1024 * 1024;
  #sid = 0;
  // Flushes of a lost socket, answered by the first PING of the next.
  #carried: PongAnswer[] = [];
  #retry: Retry;
  // Aborted at the end: a connection attempt under way gives up and closes its socket.
  readonly #closing = new AbortController();

  /**
   * Creates a connection that is not yet connected: use {@linkcode openNatsCore}.
   *
   * @param servers the servers' addresses
   * @param options the options
   * @param dialer how sockets are opened
   */
  constructor(servers: readonly string[], options: NatsCoreOptions, dialer: NatsDialer) {
    this.#resolved = resolveOptions(options);
    this.#dialer = dialer;
    this.#servers = new Servers(servers, options.noRandomize !== true && servers.length > 1);
    this.#retry = new Retry(this.#servers, this.#resolved);
  }

  /** What the server said in its last `INFO`. */
  get info(): NatsServerInfo {
    return this.#info;
  }

  /** Counters of messages and bytes. */
  stats(): NatsStats {
    return { ...this.#stats };
  }

  /** The server connected to now (`host:port`), or "" while disconnected. */
  getServer(): string {
    const server = this.#session?.server;
    return server === undefined ? "" : `${server.hostname}:${server.port}`;
  }

  /** Whether it is closed. */
  isClosed(): boolean {
    return this.#state === "closed";
  }

  /** Resolves when it has closed: with the error that closed it, if any. */
  closed(): Promise<void | Error> {
    return this.#finished.promise;
  }

  /**
   * Connects to the first server that accepts.
   *
   * @returns resolves once connected
   */
  async start(): Promise<void> {
    try {
      return this.#adopt(await this.#retry.first((server) => this.#handshake(server)));
    } catch (error) {
      if (this.#resolved.options.waitOnFirstConnect !== true) {
        this.#finish(undefined);
        throw error;
      }
    }
    this.#state = "reconnecting";
    await this.#reconnect();
    if (this.isClosed()) throw new Error("The NATS connection closed before it connected");
  }

  /**
   * Publishes a message.
   *
   * @param subject where it goes
   * @param payload the message
   * @param options its reply subject and headers
   * @throws {Error} when closed, past the server's `max_payload`, or when
   *   the bytes waiting pass their bound
   */
  publish(
    subject: string,
    payload: Uint8Array | string = EMPTY,
    options?: NatsPublishOptions,
  ): void {
    if (this.#state === "closed") throw new Error("The NATS connection is closed");
    checkToken("subject", subject);
    const reply = options?.reply;
    if (reply !== undefined) checkToken("reply subject", reply);
    const headers = options?.headers === undefined ? undefined : headerBlock(options.headers);
    this.#send(subject, reply, headers, payload);
  }

  // Publishes what needs no checking (a reply subject the server sent has no space).
  #send(
    subject: string,
    reply: string | undefined,
    headers: Uint8Array | undefined,
    payload: Uint8Array | string,
  ): void {
    if (this.#state === "closed") throw new Error("The NATS connection is closed");
    const before = this.#output.size;
    const size = this.#output.publish(subject, reply, headers, payload);
    if (size > this.#maxPayload) {
      this.#output.truncate(before);
      throw new RangeError(
        `A message of ${size} bytes, past the server's max_payload ${this.#maxPayload}`,
      );
    }
    const session = this.#session;
    const bound = session === undefined
      ? this.#resolved.reconnectBufSize
      : this.#resolved.maxPendingBytes;
    if (this.#output.size > bound) {
      this.#output.truncate(before);
      throw new RangeError(
        session === undefined
          ? `NATS is disconnected and ${bound} bytes wait already (reconnectBufSize)`
          : `${bound} bytes wait to be written already (maxPendingBytes)`,
      );
    }
    this.#stats.outMsgs++;
    this.#stats.outBytes += size;
    session?.schedule();
  }

  /**
   * Subscribes: messages go to `callback` as they are read, or, without
   * one, to whoever iterates the subscription.
   *
   * @param subject the subject (wildcards `*` and `>` allowed)
   * @param options queue group, callback, max
   * @returns the subscription
   */
  subscribe(subject: string, options: NatsSubscribeOptions = {}): NatsCoreSubscription {
    if (this.#state === "closed" || this.#state === "draining") {
      throw new Error(`The NATS connection is ${this.#state}`);
    }
    checkToken("subject", subject);
    if (options.queue !== undefined) checkToken("queue group", options.queue);
    const sid = ++this.#sid;
    const sub = new NatsCoreSubscription(this.#host, sid, subject, options, {
      messages: this.#resolved.pendingMessages,
      bytes: this.#resolved.pendingBytes,
    });
    this.#subs.set(sid, sub);
    if (this.#session !== undefined) {
      this.#output.line(sub.subscribeLine());
      this.#session.schedule();
    }
    return sub;
  }

  /**
   * Resolves when the server has seen everything sent before it
   * (subscriptions included); after a reconnection, when the new server has.
   *
   * @returns resolves at the server's `PONG`
   */
  flush(): Promise<void> {
    if (this.#state === "closed") return Promise.reject(new Error("The NATS connection is closed"));
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const answer = (error?: Error) => error === undefined ? resolve() : reject(error);
    if (this.#session === undefined) this.#carried.push(answer);
    else this.#session.ping(answer);
    return promise;
  }

  /**
   * Drains every subscription (the messages read before are still
   * handled), waits until the server has seen what was published, then
   * closes; while disconnected, closes at once.
   */
  async drain(): Promise<void> {
    if (this.#state === "closed" || this.#state === "draining") return;
    // Disconnected, there is no server to drain through: waiting for one
    // could be for ever (a worker told to stop must stop), so close.
    if (this.#session === undefined) return this.close();
    this.#state = "draining";
    await Promise.all([...this.#subs.values()].map((sub) => sub.drain()));
    await this.flush().catch(() => {});
    await this.close();
  }

  /** Closes at once: what is waiting is written, subscriptions end. */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    const session = this.#session;
    this.#session = undefined;
    this.#finish(undefined);
    const waiting = await session?.close() ?? [];
    for (const answer of waiting) answer(new Error("The NATS connection is closed"));
  }

  // Ends the connection's life: timers, subscriptions, waiting flushes.
  #finish(error: Error | undefined): void {
    this.#state = "closed";
    this.#retry.stop();
    this.#closing.abort();
    for (const sub of [...this.#subs.values()]) sub.end();
    const closed = error ?? new Error("The NATS connection is closed");
    const waiting = this.#session?.end() ?? [];
    this.#session = undefined;
    for (const answer of [...waiting, ...this.#carried]) answer(closed);
    this.#carried = [];
    this.#finished.resolve(error);
  }

  readonly #host: SubscriptionHost = {
    unsubscribe: (sid, max) => {
      if (this.#session === undefined) return; // not made again on reconnection: enough
      this.#output.line(max === undefined ? `UNSUB ${sid}` : `UNSUB ${sid} ${max}`);
      this.#session.schedule();
    },
    forget: (sid) => this.#subs.delete(sid),
    flush: () => this.flush(),
    report: (type, data) => this.#report(type, data),
  };

  readonly #sessionHost: SessionHost = {
    output: this.#output,
    read: (bytes) => this.#stats.inBytes += bytes,
    lost: (session, error) => this.#lost(session, error),
    report: (type, data) => this.#report(type, data),
  };

  #report(type: string, data?: unknown): void {
    try {
      this.#resolved.options.onStatus?.({ type, data });
    } catch {
      // A status listener's failure is its own.
    }
  }

  #handshake(server: ServerEntry): Promise<Accepted> {
    const onInfo = (info: string) => this.#onInfo(info);
    return handshake(this.#dialer, server, this.#resolved, onInfo, this.#closing.signal);
  }

  // A socket the server has accepted becomes the connection's.
  #adopt(accepted: Accepted): void {
    const session = new LinkSession(this.#sessionHost, accepted, this.#resolved.maxPingOut);
    const { parser, server } = session;
    this.#session = session;
    parser.maxPayload = incomingLimit(this.#maxPayload);
    server.failures = 0;
    this.#state = this.#state === "draining" ? "draining" : "connected";
    parser.events = {
      info: (json) => this.#onInfo(json),
      message: (subject, sid, reply, headerLength, bytes, source, at) => {
        const sub = this.#subs.get(sid);
        if (sub === undefined) return; // unsubscribed: messages already on their way
        this.#stats.inMsgs++;
        // A queue may hold a message long: a copy, not a view of the whole read.
        const copy = sub.queued;
        const own = copy ? bytes.slice() : bytes;
        const read = copy ? undefined : source;
        sub.deliver(
          new NatsCoreMessage(subject, sid, reply, headerLength, own, this.#respond, read, at),
        );
      },
      ping: () => {
        this.#output.line("PONG");
        session.schedule();
      },
      pong: () => session.pong(),
      // A permissions violation refuses one publish or subscription; anything
      // else ends the connection, which the server closes itself.
      error: (text) => this.#report("error", new Error(`NATS: ${text}`)),
    };
    // The server's PINGs read in the handshake, the subscriptions again, then
    // what was published meanwhile, then the carried flushes' PING.
    const waiting = this.#output.take();
    for (let i = 0; i < accepted.pings; i++) this.#output.line("PONG");
    for (const sub of this.#subs.values()) this.#output.line(sub.subscribeLine());
    this.#output.raw(waiting);
    this.#output.release(waiting);
    const carried = this.#carried;
    this.#carried = [];
    if (carried.length > 0) session.ping((error) => carried.forEach((answer) => answer(error)));
    session.schedule();
    session.start(this.#resolved.pingInterval);
  }

  readonly #respond = (subject: string, payload: Uint8Array | string): void =>
    this.#send(subject, undefined, undefined, payload);

  // The socket ended or broke: reconnect, unless closing.
  #lost(session: LinkSession, error: unknown): void {
    if (session !== this.#session) return;
    this.#session = undefined;
    this.#carried.push(...session.end());
    if (this.#state === "closed") return;
    if (error !== undefined) this.#report("error", error);
    this.#report("disconnect", `${session.server.hostname}:${session.server.port}`);
    if (this.#state !== "draining") this.#state = "reconnecting";
    this.#reconnect().catch((error) => this.#report("error", error));
  }

  async #reconnect(): Promise<void> {
    const accepted = await this.#retry.run(
      (server) => this.#handshake(server),
      (type, data) => this.#report(type, data),
    );
    if (accepted === undefined) {
      if (!this.isClosed()) {
        this.#finish(new Error("NATS: every server failed maxReconnectAttempts times"));
      }
      return;
    }
    if (this.isClosed()) return accepted.link.close();
    this.#adopt(accepted);
    this.#report("reconnect", `${accepted.server.hostname}:${accepted.server.port}`);
  }

  #onInfo(json: string): void {
    const info = this.#info = readInfo(json);
    if (typeof info.max_payload === "number" && info.max_payload > 0) {
      this.#maxPayload = info.max_payload;
      if (this.#session !== undefined) {
        this.#session.parser.maxPayload = incomingLimit(info.max_payload);
      }
    }
    if (Array.isArray(info.connect_urls) && this.#resolved.options.ignoreClusterUpdates !== true) {
      if (this.#servers.discover(info.connect_urls)) this.#report("update", info.connect_urls);
    }
    if (info.ldm === true) this.#report("ldm", info);
  }
}

// What arrives may carry headers the server adds: room for them.
function incomingLimit(maxPayload: number): number {
  return maxPayload + 64 * 1024;
}
