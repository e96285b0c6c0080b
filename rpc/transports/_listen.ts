// Listening on a socket address (TCP, TLS or Unix), shared by serveTcp and
// serveRpyc: the listener, its URL, and the address clients connect to.

import {
  type ConnectAddressOf,
  type ListenAddress,
  type TcpAddress,
  toSocketAddress,
  urlOf,
} from "./_addresses.ts";
import { listenTls } from "./tls.ts";

/** A listener and how to name it. */
export interface Listening<A extends ListenAddress> {
  readonly listener: Deno.Listener;
  readonly tls: boolean;
  /** `tcp://…`, `tls://…` or `unix:/path`. */
  readonly url: string;
  /** Where to connect (TLS keeps `transport: "tls"`). */
  readonly address: ConnectAddressOf<A>;
}

/** Listens on `address`; port 0 picks a free port. */
export function listenSocket<A extends ListenAddress>(address: A): Listening<A> {
  const tls = address.transport === "tls";
  const listener: Deno.Listener = address.transport === "unix"
    ? Deno.listen({ transport: "unix", path: address.path })
    : address.transport === "tls"
    ? listenTls(address)
    : Deno.listen({ hostname: address.hostname ?? "127.0.0.1", port: address.port });
  const url = tls ? urlOf(listener.addr).replace(/^tcp:/, "tls:") : urlOf(listener.addr);
  const connectTo =
    (tls
      ? { transport: "tls", ...(toSocketAddress(listener.addr) as TcpAddress) }
      : toSocketAddress(listener.addr)) as ConnectAddressOf<A>;
  return { listener, tls, url, address: connectTo };
}
