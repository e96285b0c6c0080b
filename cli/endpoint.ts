// Where the CLI connects (or listens): one URL for every transport.

import { parseUnixUrl } from "../rpc/transports/http/_unix.ts";

/** A parsed endpoint. */
export type Endpoint =
  | {
    readonly kind: "tcp";
    readonly hostname: string;
    readonly port: number;
    readonly tls: boolean;
  }
  | { readonly kind: "unix"; readonly path: string }
  | { readonly kind: "http"; readonly url: string; readonly unixSocket?: boolean }
  | { readonly kind: "ws"; readonly url: string }
  | { readonly kind: "grpc"; readonly url: string; readonly tls: boolean }
  | { readonly kind: "stdio"; readonly command: readonly string[] }
  | { readonly kind: "rpyc"; readonly hostname: string; readonly port: number };

/** A usage error: the message says what to write instead. */
export class UsageError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

// Splits a command line as a shell would for plain words and quotes.
function splitCommand(text: string): string[] {
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const match of text.matchAll(pattern)) {
    words.push(match[1]?.replace(/\\(.)/g, "$1") ?? match[2] ?? match[3]!);
  }
  return words;
}

/**
 * Parses `tcp://host:port`, `tls://host:port`, `unix:/path`, `http(s)://...`,
 * `http+unix://...` (HTTP over a Unix socket: `http+unix://%2Fpath%2Fto.sock/RPC2`
 * or `http+unix:///path/to.sock:/RPC2`), `ws(s)://...`, `grpc(s)://host:port`,
 * `rpyc://host:port` (Python's RPyC) or `stdio:command args`.
 *
 * @throws {UsageError} for anything else
 */
export function parseEndpoint(text: string): Endpoint {
  if (text.startsWith("stdio:")) {
    const command = splitCommand(text.slice("stdio:".length));
    if (command.length === 0) {
      throw new UsageError(`"${text}" names no command: write stdio:COMMAND ARGS`);
    }
    return { kind: "stdio", command };
  }
  if (/^http\+unix:/i.test(text)) {
    try {
      parseUnixUrl(text);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    return { kind: "http", url: text, unixSocket: true };
  }
  if (text.startsWith("unix:")) {
    const path = text.slice("unix:".length).replace(/^\/\/(?=\/)/, "");
    if (path === "") throw new UsageError(`"${text}" names no socket: write unix:/path/to/socket`);
    return { kind: "unix", path };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(
      `"${text}" is not a URL: write tcp://HOST:PORT, tls://, unix:PATH, http(s)://, http+unix://, ws(s)://, grpc(s)://, rpyc://, or stdio:COMMAND`,
    );
  }
  switch (url.protocol) {
    case "tcp:":
    case "tls:":
    case "rpyc:":
    case "grpc:":
    case "grpcs:": {
      const port = Number(url.port);
      if (url.hostname === "" || !Number.isInteger(port) || port <= 0) {
        throw new UsageError(`"${text}" needs a host and a port: ${url.protocol}//127.0.0.1:4000`);
      }
      if (url.protocol.startsWith("grpc")) {
        if (url.pathname !== "" && url.pathname !== "/") {
          throw new UsageError(
            `"${text}" has a path: a gRPC server is ${url.protocol}//HOST:PORT, its methods are named apart`,
          );
        }
        return {
          kind: "grpc",
          url: `${url.protocol}//${url.host}`,
          tls: url.protocol === "grpcs:",
        };
      }
      if (url.protocol === "rpyc:") {
        // Python's RPyC protocol: the method is an attribute path, not a URL path.
        return { kind: "rpyc", hostname: url.hostname.replace(/^\[|\]$/g, ""), port };
      }
      return {
        kind: "tcp",
        hostname: url.hostname.replace(/^\[|\]$/g, ""),
        port,
        tls: url.protocol === "tls:",
      };
    }
    case "http:":
    case "https:":
      return { kind: "http", url: text };
    case "ws:":
    case "wss:":
      return { kind: "ws", url: text };
    default:
      throw new UsageError(
        `Unknown scheme "${url.protocol}" in "${text}": use tcp, tls, unix, http(s), http+unix, ws(s), grpc(s), rpyc or stdio`,
      );
  }
}
