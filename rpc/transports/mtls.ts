/**
 * Mutual TLS for Deno: {@linkcode serveMutualTls} serves a service over TLS
 * to clients that present a certificate signed by one of its client CAs,
 * and tells every call the client's verified identity (subject,
 * subjectAltNames, fingerprint) through `connectionOf(ctx).peerCertificate`.
 * A client presents its certificate with `cert` and `key` in its
 * `connectTcp` address.
 *
 * Deno's own `Deno.listenTls` and `Deno.serve` cannot ask for client
 * certificates (they take only `cert`, `key` and `alpnProtocols`); this
 * server runs on Deno's `node:tls`, which can. For HTTP, terminate mutual
 * TLS in a proxy and pass the identity in a header that `authenticate`
 * trusts (see docs/transports.md).
 *
 * @example A client with a certificate, its identity read by a handler
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeMutualTlsCertificates } from "../../testing/mtls_certificates.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { connectionOf } from "../connection.ts";
 * import { withContext } from "../service.ts";
 * import { newline } from "../framing/delimiter.ts";
 * import { connectTcp } from "./tcp.ts";
 * import { serveMutualTls } from "./mtls.ts";
 *
 * await using certs = await makeMutualTlsCertificates();
 * const options = { codec: jsonRpc(), framing: newline() };
 * await using server = await serveMutualTls(
 *   { transport: "tls", port: 0, cert: certs.server.cert, key: certs.server.key, clientCa: [certs.ca] },
 *   { ...options, service: { whoami: withContext((ctx) => connectionOf(ctx)?.peerCertificate?.commonName) } },
 * );
 * await using client = await connectTcp(
 *   { ...server.address, caCerts: [certs.ca], cert: certs.client.cert, key: certs.client.key },
 *   options,
 * );
 * assert.equal(await client.call("whoami", []), "alice");
 * ```
 *
 * @module
 */

import { type ConnectAddressOf, urlOf } from "./_addresses.ts";
import { resolveMaxConnections } from "./_accept.ts";
import { listenMutualTls } from "./_mtls.ts";
import { resolveTimeouts } from "./_timeouts.ts";
import type { ServeOptions, SocketServer } from "./tcp.ts";
import type { TlsAddress, TlsListenAddress } from "./tls.ts";
import { checkServiceSource } from "../serve_connection.ts";

export { ClientCertificateError, type ClientCertificateFailure } from "./_mtls_accept.ts";

/** Where a mutual-TLS server listens, its certificate, and whom it trusts. */
export interface MutualTlsListenAddress extends TlsListenAddress {
  /** The CAs (PEM text) whose client certificates are accepted; at least one. */
  readonly clientCa: readonly string[];
  /** ALPN protocols to offer; none by default. */
  readonly alpnProtocols?: readonly string[];
}

/**
 * Serves a service over mutual TLS, one peer per client whose certificate
 * a client CA signed and whose dates are valid. A refused client (no
 * certificate, an expired one, one from another CA) is told to `onError`
 * as a {@linkcode ClientCertificateError} with its `reason`, and its
 * connection is closed before any call is read. Options as for `serveTcp`
 * (`context` gets the verified certificate in its connection).
 *
 * @param address where to listen, the server's certificate and key, the client CAs
 * @param options the codec, the framing, the service, the limits, the context
 * @returns the running server, once it listens
 *
 * @example A client without a certificate is refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeMutualTlsCertificates } from "../../testing/mtls_certificates.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { newline } from "../framing/delimiter.ts";
 * import { connectTcp } from "./tcp.ts";
 * import { ClientCertificateError, serveMutualTls } from "./mtls.ts";
 *
 * await using certs = await makeMutualTlsCertificates();
 * const refused = Promise.withResolvers<ClientCertificateError>();
 * const options = { codec: jsonRpc(), framing: newline() };
 * await using server = await serveMutualTls(
 *   { transport: "tls", port: 0, cert: certs.server.cert, key: certs.server.key, clientCa: [certs.ca] },
 *   { ...options, service: { hi: () => "hi" }, onError: (e) => refused.resolve(e as ClientCertificateError) },
 * );
 * await using client = await connectTcp({ ...server.address, caCerts: [certs.ca] }, options);
 * await assert.rejects(client.call("hi", [], { timeout: 5_000 }));
 * assert.equal((await refused.promise).reason, "missing");
 * ```
 */
export async function serveMutualTls<A extends MutualTlsListenAddress>(
  address: A,
  options: ServeOptions,
): Promise<SocketServer<ConnectAddressOf<A>>> {
  if (address.clientCa === undefined || address.clientCa.length === 0) {
    throw new TypeError("serveMutualTls needs clientCa: the CAs (PEM text) of accepted clients");
  }
  const {
    framing,
    service,
    onConnection,
    firstFrameTimeout,
    idleTimeout,
    context,
    maxConnections,
    ...peerOptions
  } = options;
  checkServiceSource(service);
  const listener = await listenMutualTls({
    hostname: address.hostname ?? "127.0.0.1",
    port: address.port,
    cert: address.cert,
    key: address.key,
    clientCa: address.clientCa,
    ...(address.alpnProtocols === undefined ? {} : { alpnProtocols: address.alpnProtocols }),
    framing,
    service,
    peerOptions,
    context,
    timeouts: resolveTimeouts({
      ...(firstFrameTimeout === undefined ? {} : { firstFrameTimeout }),
      ...(idleTimeout === undefined ? {} : { idleTimeout }),
    }),
    maxConnections: resolveMaxConnections(maxConnections),
    onConnection,
    onError: options.onError ?? (() => {}),
  });
  const tlsAddress: TlsAddress = {
    transport: "tls",
    hostname: listener.addr.hostname,
    port: listener.addr.port,
  };
  return {
    addr: listener.addr,
    address: tlsAddress as ConnectAddressOf<A>,
    url: urlOf(listener.addr).replace(/^tcp:/, "tls:"),
    peers: listener.peers,
    shutdown: listener.shutdown,
    finished: listener.finished,
    [Symbol.asyncDispose]: listener.shutdown,
  };
}
