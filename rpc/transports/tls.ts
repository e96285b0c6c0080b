/**
 * TLS for Deno: the addresses that make `serveTcp` and `connectTcp` speak TLS
 * (`{ transport: "tls", ... }`), and {@linkcode tlsClient}, a `fetch` and a
 * `WebSocket` class that trust a private CA, for `connectHttp` over https://
 * and `connectWebSocket` over wss://. `serveHttp` serves both with its `cert`
 * and `key` options.
 *
 * Certificates and keys are PEM text, as `Deno.listenTls` and `Deno.serve`
 * take them: read files with `Deno.readTextFile`. Hostname verification is
 * always on; a refused certificate fails with a {@linkcode CertificateError}
 * that says what to do.
 *
 * @example JSON-RPC over TLS, trusting a self-signed certificate
 * ```ts
 * import assert from "node:assert/strict";
 * import { selfSignedCertificate } from "../../testing/certificate.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { newline } from "../framing/delimiter.ts";
 * import { connectTcp, serveTcp } from "./tcp.ts";
 *
 * const { cert, key } = await selfSignedCertificate(); // by openssl, for 127.0.0.1
 *
 * await using server = serveTcp(
 *   { transport: "tls", port: 0, cert, key },
 *   { codec: jsonRpc(), framing: newline(), service: { add: (a: number, b: number) => a + b } },
 * );
 * await using client = await connectTcp(
 *   { ...server.address, caCerts: [cert] },
 *   { codec: jsonRpc(), framing: newline() },
 * );
 * assert.equal(await client.call("add", [1, 2]), 3);
 * ```
 *
 * @module
 */

import { certificateError } from "./_certificate.ts";

export { CertificateError, type CertificateFailure } from "./_certificate.ts";

/** Where to connect over TLS, for `connectTcp`. */
export interface TlsAddress {
  /** TLS over TCP. */
  readonly transport: "tls";
  /**
   * The server's name or IP address, `127.0.0.1` by default; its certificate
   * must list it (as a DNS or IP subjectAltName).
   */
  readonly hostname?: string;
  /** The server's port. */
  readonly port: number;
  /**
   * CA certificates (PEM text) trusted besides the built-in roots: the CA
   * that signed a private server's certificate.
   */
  readonly caCerts?: readonly string[];
  /**
   * This client's certificate chain (PEM text), for a server that asks for
   * one (mutual TLS, see `./mtls.ts`); with `key`.
   */
  readonly cert?: string;
  /** The private key of `cert`, PEM text. */
  readonly key?: string;
}

/** Where to listen over TLS, for `serveTcp`: the address and the server's certificate. */
export interface TlsListenAddress {
  /** TLS over TCP. */
  readonly transport: "tls";
  /** Interface to listen on; `127.0.0.1` by default. */
  readonly hostname?: string;
  /** Port to listen on; 0 picks a free one. */
  readonly port: number;
  /** The certificate chain, PEM text (the server's certificate first). */
  readonly cert: string;
  /** The certificate's private key, PEM text. */
  readonly key: string;
}

/**
 * Listens for TLS connections.
 *
 * @param address the address, certificate and key
 * @returns the listener
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selfSignedCertificate } from "../../testing/certificate.ts";
 * import { connectTls, listenTls } from "./tls.ts";
 *
 * const { cert, key } = await selfSignedCertificate(); // by openssl, for 127.0.0.1
 *
 * const listener = listenTls({ transport: "tls", port: 0, cert, key });
 * const accepted = listener.accept();
 * const client = await connectTls({ transport: "tls", port: listener.addr.port, caCerts: [cert] });
 * const server = await accepted;
 * await client.write(new TextEncoder().encode("hi"));
 * const received = new Uint8Array(2);
 * assert.equal(await server.read(received), 2);
 * assert.equal(new TextDecoder().decode(received), "hi");
 * client.close();
 * server.close();
 * listener.close();
 * ```
 */
export function listenTls(address: TlsListenAddress): Deno.TlsListener {
  if (typeof address.cert !== "string" || typeof address.key !== "string") {
    throw new TypeError("A TLS address to listen on needs cert and key (PEM text)");
  }
  return Deno.listenTls({
    hostname: address.hostname ?? "127.0.0.1",
    port: address.port,
    cert: address.cert,
    key: address.key,
  });
}

/**
 * Connects over TLS and completes the handshake, so that a refused
 * certificate fails here, as a {@linkcode CertificateError}.
 *
 * @param address the server and the CAs to trust
 * @returns the connection, handshake done
 * @throws {CertificateError} when the server's certificate is refused
 *
 * @example A certificate not signed by a trusted CA is refused, saying what to do
 * ```ts
 * import assert from "node:assert/strict";
 * import { selfSignedCertificate } from "../../testing/certificate.ts";
 * import { CertificateError, connectTls, listenTls } from "./tls.ts";
 *
 * const { cert, key } = await selfSignedCertificate(); // by openssl, for 127.0.0.1
 *
 * const listener = listenTls({ transport: "tls", port: 0, cert, key });
 * const address = { transport: "tls", port: listener.addr.port } as const;
 * let accepted = listener.accept();
 * await assert.rejects(
 *   connectTls(address), // no caCerts: the self-signed certificate is not trusted
 *   (error) => error instanceof CertificateError && error.reason === "untrusted",
 * );
 * (await accepted).close();
 * accepted = listener.accept();
 * const conn = await connectTls({ ...address, caCerts: [cert] }); // trusted: connected
 * conn.close();
 * (await accepted).close();
 * listener.close();
 * ```
 */
export async function connectTls(address: TlsAddress): Promise<Deno.TlsConn> {
  const hostname = address.hostname ?? "127.0.0.1";
  if ((address.cert === undefined) !== (address.key === undefined)) {
    throw new TypeError("A TLS client certificate needs both cert and key (PEM text)");
  }
  const conn = await Deno.connectTls({
    hostname,
    port: address.port,
    ...(address.caCerts === undefined ? {} : { caCerts: [...address.caCerts] }),
    ...(address.cert === undefined ? {} : { cert: address.cert, key: address.key! }),
  });
  try {
    await conn.handshake();
  } catch (error) {
    try {
      conn.close();
    } catch {
      // Closed already.
    }
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    throw certificateError(error, `${host}:${address.port}`) ?? error;
  }
  return conn;
}

/** Options of {@linkcode tlsClient}. */
export interface TlsClientOptions {
  /** CA certificates (PEM text) trusted besides the built-in roots. */
  readonly caCerts?: readonly string[];
}

/**
 * What {@linkcode tlsClient} makes: a `fetch` for `connectHttp` and a
 * `WebSocket` class for `connectWebSocket`, both trusting the given CAs.
 */
export interface TlsClient extends Disposable {
  /**
   * `fetch` through this client; a refused certificate rejects with a
   * {@linkcode CertificateError}.
   */
  readonly fetch: typeof fetch;
  /** A `WebSocket` class whose sockets connect through this client. */
  readonly WebSocket: typeof WebSocket;
  /** Closes the client's pooled connections (open WebSockets stay open). */
  close(): void;
}

/**
 * A Deno HTTP client that trusts a private CA, as the `fetch` option of
 * `connectHttp` and the `WebSocket` option of `connectWebSocket` (Deno's
 * `WebSocket` takes the client as `{ client }`). Deno-only; without it, start
 * Deno with `--cert ca.pem` or `DENO_CERT=ca.pem` to trust a CA everywhere.
 *
 * @param options the CAs to trust
 * @returns the client; `close()` it (or `using`) when done
 *
 * @example HTTP and WebSocket clients of an https:// server with a self-signed certificate
 * ```ts
 * import assert from "node:assert/strict";
 * import { selfSignedCertificate } from "../../testing/certificate.ts";
 * import { connectHttp, connectWebSocket, serveHttp } from "./http.ts";
 * import { jsonRpc } from "../../codecs/json_rpc.ts";
 * import { tlsClient } from "./tls.ts";
 *
 * const { cert, key } = await selfSignedCertificate(); // by openssl, for 127.0.0.1
 *
 * await using server = serveHttp({
 *   cert,
 *   key,
 *   routes: { "/rpc": { codec: jsonRpc(), service: { add: (a: number, b: number) => a + b }, websocket: true } },
 * });
 * using tls = tlsClient({ caCerts: [cert] });
 * await using http = connectHttp(`${server.url}/rpc`, { codec: jsonRpc(), fetch: tls.fetch });
 * await using ws = await connectWebSocket(`${server.url.replace("https", "wss")}/rpc`, {
 *   codec: jsonRpc(),
 *   WebSocket: tls.WebSocket,
 * });
 * assert.equal(await http.call("add", [1, 2]), 3);
 * assert.equal(await ws.call("add", [3, 4]), 7);
 * ```
 */
export function tlsClient(options: TlsClientOptions = {}): TlsClient {
  const client = Deno.createHttpClient(
    options.caCerts === undefined ? {} : { caCerts: [...options.caCerts] },
  );
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    client.close();
  };
  const tlsFetch = async (
    input: string | URL | Request,
    init?: RequestInit,
  ): Promise<Response> => {
    try {
      return await fetch(input, { ...init, client });
    } catch (error) {
      const url = new URL(input instanceof Request ? input.url : input);
      throw certificateError(error, url.host) ?? error;
    }
  };
  class TlsWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[] | WebSocketOptions) {
      super(
        url,
        typeof protocols === "object" && !Array.isArray(protocols)
          ? { ...protocols, client }
          : { ...(protocols === undefined ? {} : { protocols }), client },
      );
    }
  }
  return {
    fetch: tlsFetch as typeof fetch,
    WebSocket: TlsWebSocket,
    close,
    [Symbol.dispose]: close,
  };
}
