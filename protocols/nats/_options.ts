/**
 * The options of parley's NATS client, their defaults (nats.js's, so that
 * a switch between the two changes nothing a caller relies on), and the
 * `CONNECT` a client sends with them.
 *
 * @module
 */

import type { ServerEntry } from "./_servers.ts";

/** A change in the connection, told to `onStatus`. */
export interface NatsStatus {
  /**
   * `disconnect`, `reconnecting`, `reconnect`, `update` (the cluster told of
   * servers), `ldm` (the server is going away), `staleConnection`,
   * `slowConsumer` (a subscription's queue was full: messages dropped),
   * `error` (a callback's exception, a server's `-ERR`, a failed attempt).
   */
  readonly type: string;
  /** What it concerns: a server, an error, a subject. */
  readonly data?: unknown;
}

/**
 * Credentials for `CONNECT`, given the server's nonce: what nats.js's
 * authenticators (`nkeyAuthenticator`, `credsAuthenticator`,
 * `jwtAuthenticator`, …) return, so any of them can be used here (their
 * `Auth` is an interface, or nothing at all: hence `object | void`).
 */
export type NatsAuthenticator = (nonce?: string) => object | void;

/** Options of parley's NATS client. */
export interface NatsCoreOptions {
  /** The connection's name, as NATS monitoring shows it. */
  readonly name?: string;
  /** User name (or in the address: `nats://user:pass@host`). */
  readonly user?: string;
  /** Password. */
  readonly pass?: string;
  /** Token. */
  readonly token?: string;
  /** Credentials from the server's nonce (nkeys, JWT): a nats.js authenticator. */
  readonly authenticator?: NatsAuthenticator;
  /**
   * TLS: `true`, or options for it (`caCerts`); required by the server's
   * `INFO` or a `tls://` address, it is used either way.
   */
  readonly tls?: boolean | {
    readonly caCerts?: readonly string[];
    readonly handshakeFirst?: boolean;
  };
  /** Keep trying when no server answers the first time (default false: fail). */
  readonly waitOnFirstConnect?: boolean;
  /** Attempts per server before giving up; -1 (the default) never gives up. */
  readonly maxReconnectAttempts?: number;
  /** Milliseconds between attempts on one server; 2,000 by default. */
  readonly reconnectTimeWait?: number;
  /** Up to this many milliseconds added at random to each wait; 100 by default. */
  readonly reconnectJitter?: number;
  /** Bytes held while disconnected, sent on reconnection; 8 MiB by default. */
  readonly reconnectBufSize?: number;
  /** Milliseconds to connect and be accepted; 20,000 by default. */
  readonly timeout?: number;
  /** Milliseconds between the client's pings; 120,000 by default. */
  readonly pingInterval?: number;
  /** Pings without their pong before the connection is stale; 2 by default. */
  readonly maxPingOut?: number;
  /** Try the servers in the order given (default: shuffled). */
  readonly noRandomize?: boolean;
  /** Ignore the servers the cluster tells of. */
  readonly ignoreClusterUpdates?: boolean;
  /** Whether the server sends this connection its own messages back; true by default. */
  readonly echo?: boolean;
  /**
   * Bytes waiting to be written while connected before `publish` throws
   * (the socket is not keeping up); 64 MiB by default.
   */
  readonly maxPendingBytes?: number;
  /** An iterated subscription's queue, in messages and bytes; 65,536 and 64 MiB by default. */
  readonly pendingLimits?: { readonly messages?: number; readonly bytes?: number };
  /** Told about disconnections, reconnections and errors. */
  readonly onStatus?: (status: NatsStatus) => void;
}

/** What `publish` takes besides subject and payload. */
export interface NatsPublishOptions {
  /** Where the answer should go. */
  readonly reply?: string;
  /**
   * Headers: an encoded block, anything with `encode()` (nats.js's
   * `MsgHdrs`), a `Headers` or a record.
   */
  readonly headers?: unknown;
}

/** Counters of what went through the connection. */
export interface NatsStats {
  /** Messages delivered to subscriptions. */
  inMsgs: number;
  /** Messages published. */
  outMsgs: number;
  /** Bytes read from the socket. */
  inBytes: number;
  /** Payload and header bytes published. */
  outBytes: number;
}

/** The options with every default in place. */
export interface ResolvedOptions {
  readonly options: NatsCoreOptions;
  readonly maxReconnectAttempts: number;
  readonly reconnectTimeWait: number;
  readonly reconnectJitter: number;
  readonly reconnectBufSize: number;
  readonly timeout: number;
  readonly pingInterval: number;
  readonly maxPingOut: number;
  readonly maxPendingBytes: number;
  readonly pendingMessages: number;
  readonly pendingBytes: number;
}

/**
 * Fills in the defaults.
 *
 * @param options what the caller gave
 * @returns every option
 */
export function resolveOptions(options: NatsCoreOptions): ResolvedOptions {
  return {
    options,
    maxReconnectAttempts: options.maxReconnectAttempts ?? -1,
    reconnectTimeWait: options.reconnectTimeWait ?? 2_000,
    reconnectJitter: options.reconnectJitter ?? 100,
    reconnectBufSize: options.reconnectBufSize ?? 8 * 1024 * 1024,
    timeout: options.timeout ?? 20_000,
    pingInterval: options.pingInterval ?? 120_000,
    maxPingOut: options.maxPingOut ?? 2,
    maxPendingBytes: options.maxPendingBytes ?? 64 * 1024 * 1024,
    pendingMessages: options.pendingLimits?.messages ?? 65_536,
    pendingBytes: options.pendingLimits?.bytes ?? 64 * 1024 * 1024,
  };
}

/** The part of the server's `INFO` the client reads. */
export interface NatsServerInfo {
  /** The server's unique id. */
  readonly server_id?: string;
  /** The server's name. */
  readonly server_name?: string;
  /** The server's version. */
  readonly version?: string;
  /** The largest message (headers and payload) it takes. */
  readonly max_payload?: number;
  /** Whether clients must use TLS. */
  readonly tls_required?: boolean;
  /** Whether clients may use TLS. */
  readonly tls_available?: boolean;
  /** Whether it takes headers. */
  readonly headers?: boolean;
  /** Whether clients must authenticate. */
  readonly auth_required?: boolean;
  /** What an nkey client signs. */
  readonly nonce?: string;
  /** Other servers of its cluster, `host:port`. */
  readonly connect_urls?: readonly string[];
  /** Lame duck mode: it is about to shut down. */
  readonly ldm?: boolean;
  /** Any other field. */
  readonly [field: string]: unknown;
}

/**
 * The `CONNECT` line for a server.
 *
 * @param resolved the options
 * @param server the server (its address may hold credentials)
 * @param info what the server said
 * @param tls whether the connection is TLS
 * @returns the line, without CRLF
 */
export function connectLine(
  resolved: ResolvedOptions,
  server: ServerEntry,
  info: NatsServerInfo,
  tls: boolean,
): string {
  const { options } = resolved;
  const fields: Record<string, unknown> = {
    verbose: false,
    pedantic: false,
    tls_required: tls,
    lang: "parley",
    version: "1.0.0",
    protocol: 1,
    echo: options.echo ?? true,
    headers: true,
    no_responders: true,
  };
  if (options.name !== undefined) fields.name = options.name;
  // `nats://token@host` holds a token; `nats://user:pass@host` a user and password.
  const urlToken = server.pass === undefined ? server.user : undefined;
  const user = options.user ?? (urlToken === undefined ? server.user : undefined);
  const token = options.token ?? urlToken;
  if (user !== undefined) {
    fields.user = user;
    const pass = options.pass ?? server.pass;
    if (pass !== undefined) fields.pass = pass;
  } else if (token !== undefined) {
    fields.auth_token = token;
  }
  if (options.authenticator !== undefined) Object.assign(fields, options.authenticator(info.nonce));
  return `CONNECT ${JSON.stringify(fields)}`;
}
