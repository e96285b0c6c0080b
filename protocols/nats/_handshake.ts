/**
 * Opening one connection to a NATS server: the socket (through the
 * dialer), the server's `INFO`, TLS when asked for, `CONNECT` and the
 * `PING` whose `PONG` says the server accepted it (or its `-ERR` says why
 * not), all within the connect timeout.
 *
 * @module
 */

import { NatsParser, NatsProtocolError } from "./_parser.ts";
import { connectLine, type NatsServerInfo, type ResolvedOptions } from "./_options.ts";
import type { ServerEntry } from "./_servers.ts";

/** A socket as the client uses it (a `Deno.Conn` fits). */
export interface NatsLink {
  /** Reads into `buffer`; null at the end of the stream (or once closed here). */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes some of `bytes`; resolves with how many. */
  write(bytes: Uint8Array): Promise<number>;
  /** Closes the socket; a pending read then ends. */
  close(): void;
}

/** How the client opens sockets. */
export interface NatsDialer {
  /** A TCP connection to the server. */
  connect(server: ServerEntry): Promise<NatsLink>;
  /** TLS over a connection, checked against the server's name. */
  startTls(
    link: NatsLink,
    server: ServerEntry,
    options: { readonly caCerts?: readonly string[] },
  ): Promise<NatsLink>;
}

/** A connection the server has accepted. */
export interface Accepted {
  /** The socket. */
  readonly link: NatsLink;
  /** Which server. */
  readonly server: ServerEntry;
  /** The parser, which has read the stream so far. */
  readonly parser: NatsParser;
  /** `PING`s read with the `PONG` that accepted the client, still to be answered. */
  readonly pings: number;
}

const MAX_CONTROL_LINE = 256 * 1024;
const encoder = new TextEncoder();

/**
 * Reads an `INFO`'s JSON.
 *
 * @param json the JSON
 * @returns what the server said
 * @throws {NatsProtocolError} when it is not a JSON object
 */
export function readInfo(json: string): NatsServerInfo {
  let info: unknown;
  try {
    info = JSON.parse(json);
  } catch {
    throw new NatsProtocolError("An INFO that is not JSON");
  }
  if (info === null || typeof info !== "object" || Array.isArray(info)) {
    throw new NatsProtocolError("An INFO that is not an object");
  }
  return info as NatsServerInfo;
}

/**
 * Writes all of `bytes`.
 *
 * @param link the socket
 * @param bytes what to write
 */
export async function writeAll(link: NatsLink, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await link.write(bytes.subarray(at));
}

/**
 * Connects to one server and has it accept the client.
 *
 * @param dialer how sockets are opened
 * @param server the server
 * @param resolved the client's options
 * @param onInfo told of each `INFO`
 * @param signal gives up the attempt (the connection closing): its socket is closed at once
 * @returns the accepted connection
 * @throws {Error} when the server is unreachable, refuses, or is too slow, or when aborted
 */
export async function handshake(
  dialer: NatsDialer,
  server: ServerEntry,
  resolved: ResolvedOptions,
  onInfo: (json: string) => void,
  signal?: AbortSignal,
): Promise<Accepted> {
  const where = `${server.hostname}:${server.port}`;
  const tlsOption = resolved.options.tls;
  const tlsOptions = typeof tlsOption === "object" ? tlsOption : {};
  let link: NatsLink | undefined;
  let givenUp = false;
  let fail = (_error: Error) => {};
  const expired = new Promise<never>((_, reject) => fail = reject);
  expired.catch(() => {});
  // Too slow, or aborted: the socket is closed, a dial still under way closes when it lands.
  const giveUp = (error: Error) => {
    givenUp = true;
    link?.close();
    fail(error);
  };
  const timer = setTimeout(
    () => giveUp(new Error(`NATS at ${where}: no answer in ${resolved.timeout} ms`)),
    resolved.timeout,
  );
  const abort = () => giveUp(new Error(`NATS at ${where}: the connection closed while connecting`));
  if (signal?.aborted) abort();
  signal?.addEventListener("abort", abort);
  const within = <T>(step: Promise<T>): Promise<T> => Promise.race([step, expired]);
  try {
    const dialing = dialer.connect(server);
    dialing.then((late) => givenUp && late.close(), () => {});
    link = await within(dialing);
    let info: NatsServerInfo | undefined;
    let accepted = false;
    let refused: string | undefined;
    let pings = 0;
    const parser = new NatsParser({
      info: (json) => {
        onInfo(json);
        info ??= readInfo(json);
      },
      message: () => {},
      ping: () => pings++,
      pong: () => accepted = true,
      error: (text) => refused ??= text,
    }, { maxControlLine: MAX_CONTROL_LINE, maxPayload: 1024 * 1024 });
    const readSome = async () => {
      const buffer = new Uint8Array(4096); // the parser keeps views of it
      const n = await within(link!.read(buffer));
      if (n === null) {
        throw new Error(`NATS at ${where} closed the connection${refused ? `: ${refused}` : ""}`);
      }
      parser.receive(buffer.subarray(0, n));
      if (refused !== undefined) {
        throw new Error(`NATS at ${where} refused the connection: ${refused}`);
      }
    };
    const tlsFirst = typeof tlsOption === "object" && tlsOption.handshakeFirst === true;
    if (tlsFirst) link = await within(dialer.startTls(link, server, tlsOptions));
    while (info === undefined) await readSome();
    const required = info.tls_required === true;
    if (required && tlsOption === false) {
      throw new Error(`NATS at ${where} requires TLS, and the options say tls: false`);
    }
    const tls = tlsFirst || required || server.tls ||
      (tlsOption !== undefined && tlsOption !== false);
    if (tls && !tlsFirst) link = await within(dialer.startTls(link, server, tlsOptions));
    const hello = `${connectLine(resolved, server, info, tls)}\r\nPING\r\n`;
    await within(writeAll(link, encoder.encode(hello)));
    while (!accepted) await readSome();
    return { link, server, parser, pings };
  } catch (error) {
    link?.close();
    if (error instanceof NatsProtocolError) {
      throw new Error(`NATS at ${where} does not speak NATS: ${error.message}`, { cause: error });
    }
    throw error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", abort);
  }
}
