/**
 * Certificate failures, recognised in a TLS error's text and turned into an
 * error that says what to do. Web-standard, so the WebSocket client can use
 * it (browsers do not say why a socket failed; Deno does).
 *
 * @module
 */

/** Why a server's certificate was refused. */
export type CertificateFailure = "untrusted" | "name" | "invalid";

/**
 * The server's TLS certificate was refused: not signed by a trusted CA
 * (`reason: "untrusted"`), not issued for the name connected to (`"name"`:
 * hostname verification is always on), or otherwise invalid (`"invalid"`:
 * expired, wrong usage). The message says what to do; `cause` is the
 * runtime's own error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CertificateError } from "./_certificate.ts";
 *
 * const error = new CertificateError("untrusted", "127.0.0.1:8443", "UnknownIssuer");
 * assert.match(error.message, /127\.0\.0\.1:8443 is not trusted .*pass .*caCerts/);
 * ```
 */
export class CertificateError extends Error {
  /** Why the certificate was refused. */
  readonly reason: CertificateFailure;
  /** The host (and port) connected to. */
  readonly host: string;

  /**
   * Creates the error.
   *
   * @param reason why the certificate was refused
   * @param host the host (and port) connected to
   * @param detail the runtime's words for it
   * @param options standard error options, such as `cause`
   */
  constructor(reason: CertificateFailure, host: string, detail: string, options?: ErrorOptions) {
    const name = host.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
    const advice = reason === "untrusted"
      ? `the TLS certificate of ${host} is not trusted (${detail}): pass the CA that signed it ` +
        `in caCerts (PEM text), or start Deno with --cert ca.pem (or DENO_CERT=ca.pem)`
      : reason === "name"
      ? `the TLS certificate of ${host} is not valid for the name ${JSON.stringify(name)} ` +
        `(${detail}): connect with a name the certificate lists, or give the server a ` +
        `certificate with ${name} in its subjectAltName`
      : `the TLS certificate of ${host} was refused (${detail})`;
    super(advice.charAt(0).toUpperCase() + advice.slice(1), options);
    this.name = "CertificateError";
    this.reason = reason;
    this.host = host;
  }
}

/**
 * Recognises a certificate failure in an error (or its causes).
 *
 * @param error what the runtime threw (`Deno.connectTls`, `fetch`, a WebSocket's error event)
 * @param host the host (and port) connected to
 * @returns the error to throw instead, or `undefined` when it is not a certificate failure
 */
export function certificateError(error: unknown, host: string): CertificateError | undefined {
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const text = typeof e === "string" ? e : String((e as Error).message ?? e);
    const match = /invalid peer certificate: (.*)$/m.exec(text);
    if (match !== null) {
      const detail = match[1]!.trim();
      const reason = /UnknownIssuer|BadSignature|UnknownCA/i.test(detail)
        ? "untrusted"
        : /not valid for name|NotValidForName/i.test(detail)
        ? "name"
        : "invalid";
      return new CertificateError(reason, host, detail, { cause: error });
    }
    e = typeof e === "object" ? (e as Error).cause : undefined;
  }
  return undefined;
}
