/**
 * A self-signed certificate for 127.0.0.1, made by `openssl` (on Debian and
 * Node images), for tests and examples of TLS servers and clients.
 *
 * @module
 */

/** A certificate and its private key, both PEM. */
export interface SelfSignedCertificate {
  /** The certificate: trust it with `caCerts: [cert]`. */
  readonly cert: string;
  /** Its private key (EC P-256). */
  readonly key: string;
}

/**
 * Makes a self-signed certificate for `127.0.0.1` (subjectAltName IP) with
 * one `openssl req -x509` call; nothing is written to disk.
 *
 * @returns the certificate and its key
 * @throws {Error} when openssl is missing or fails
 *
 * @example A TLS server whose certificate a client trusts
 * ```ts
 * import assert from "node:assert/strict";
 * import { selfSignedCertificate } from "./certificate.ts";
 *
 * const { cert, key } = await selfSignedCertificate();
 * assert.match(cert, /^-----BEGIN CERTIFICATE-----/);
 * assert.match(key, /PRIVATE KEY-----/);
 * ```
 */
export async function selfSignedCertificate(): Promise<SelfSignedCertificate> {
  const output = await new Deno.Command("openssl", {
    args: [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", "-", "-days", "2", "-subj", "/CN=127.0.0.1"],
      // Deno refuses a trusted self-signed certificate that says it is a CA.
      ...["-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=CA:FALSE"],
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`openssl failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  // openssl writes the key, then the certificate.
  const pem = new TextDecoder().decode(output.stdout);
  const at = pem.indexOf("-----BEGIN CERTIFICATE-----");
  return { key: pem.slice(0, at), cert: pem.slice(at) };
}
