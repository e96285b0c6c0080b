// The addresses of the socket transports (TCP, TLS, Unix) and their URLs:
// `tcp://127.0.0.1:40123`, `tls://…`, `unix:/path`.

import type { TlsAddress, TlsListenAddress } from "./tls.ts";

/** A TCP host and port. */
export interface TcpAddress {
  /** Plain TCP (the default). */
  readonly transport?: "tcp";
  /** The host; `127.0.0.1` by default. */
  readonly hostname?: string;
  /** The port; 0 picks a free one when listening. */
  readonly port: number;
}

/** A Unix socket's path. */
export interface UnixAddress {
  /** A Unix socket. */
  readonly transport: "unix";
  /** The socket's path. */
  readonly path: string;
}

/** Where to connect: a TCP host and port, TLS (with the CAs to trust), or a Unix socket path. */
export type SocketAddress = TcpAddress | UnixAddress | TlsAddress;

/** Where to listen: a TCP host and port, TLS (with a certificate and key), or a Unix socket path. */
export type ListenAddress = TcpAddress | UnixAddress | TlsListenAddress;

/**
 * Where to connect to a server listening on `A`: a {@linkcode TlsAddress}
 * for a {@linkcode TlsListenAddress} (to which `caCerts` may be added), the
 * same kind of address otherwise.
 */
export type ConnectAddressOf<A extends ListenAddress> = A extends TlsListenAddress ? TlsAddress
  : A extends UnixAddress ? UnixAddress
  : TcpAddress;

/** A bound or remote address as a URL. */
export function urlOf(addr: Deno.Addr): string {
  if (addr.transport === "unix" || addr.transport === "unixpacket") return `unix:${addr.path}`;
  if (addr.transport === "tcp" || addr.transport === "udp") {
    const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
    return `${addr.transport}://${host}:${addr.port}`;
  }
  return String(addr.transport);
}

/** A bound address as an address to connect to. */
export function toSocketAddress(addr: Deno.Addr): SocketAddress {
  if (addr.transport === "tcp" || addr.transport === "udp") {
    return { hostname: addr.hostname, port: addr.port };
  }
  return { transport: "unix", path: (addr as Deno.UnixAddr).path };
}

/** An address to connect to as a URL. */
export function urlOfAddress(address: SocketAddress): string {
  return address.transport === "unix"
    ? `unix:${address.path}`
    : `${address.transport ?? "tcp"}://${address.hostname ?? "127.0.0.1"}:${address.port}`;
}
