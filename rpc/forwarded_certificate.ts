/**
 * A client certificate verified by a TLS-terminating proxy in front of an
 * HTTP server, read from the header the proxy adds (Envoy's
 * `x-forwarded-client-cert`, XFCC), only when the request came from a
 * proxy the server trusts. The way to mutual TLS for `serveHttp`, whose
 * `Deno.serve` cannot ask for client certificates.
 *
 * Web-standard only.
 *
 * @module
 */

import type { Connection, PeerCertificate } from "./connection.ts";

/** Options of {@linkcode forwardedCertificate}. */
export interface ForwardedCertificateOptions {
  /**
   * The addresses of the proxies whose header is believed (exact IP
   * addresses). From anywhere else the header is ignored: a client could
   * otherwise claim any identity.
   */
  readonly trustedProxies: readonly string[];
  /** The header; `x-forwarded-client-cert` (Envoy's XFCC format) by default. */
  readonly header?: string;
}

/**
 * The client certificate that a trusted proxy verified, from its XFCC
 * header (`Hash=…;Subject="CN=alice";URI=spiffe://…;DNS=…`; the last
 * element when proxies chained several), for a server's `context` or
 * `authenticate`. `undefined` when the request did not come from a trusted
 * proxy or carries no such header.
 *
 * @param connection the request's connection (the `context` option's first argument)
 * @param request the request
 * @param options which proxies to believe, and the header
 * @returns the certificate the proxy vouches for (fields it did not send are empty)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forwardedCertificate } from "./forwarded_certificate.ts";
 *
 * const connection = { transport: "http", remoteAddr: { hostname: "127.0.0.1", port: 40000 } };
 * const request = new Request("http://127.0.0.1/rpc", {
 *   headers: { "x-forwarded-client-cert": 'Hash=ab12;Subject="CN=alice,O=Example";URI=spiffe://example/alice' },
 * });
 * const trusted = forwardedCertificate(connection, request, { trustedProxies: ["127.0.0.1"] });
 * assert.equal(trusted?.commonName, "alice");
 * assert.deepEqual(trusted?.subjectAltNames, ["URI:spiffe://example/alice"]);
 * // The same header from an address that is not a trusted proxy is ignored.
 * assert.equal(forwardedCertificate(connection, request, { trustedProxies: ["10.0.0.1"] }), undefined);
 * ```
 */
export function forwardedCertificate(
  connection: Connection,
  request: Request | undefined,
  options: ForwardedCertificateOptions,
): PeerCertificate | undefined {
  const from = connection.remoteAddr;
  if (from === undefined || !("hostname" in from)) return undefined;
  if (!options.trustedProxies.includes(from.hostname)) return undefined;
  const value = request?.headers.get(options.header ?? "x-forwarded-client-cert");
  if (value === null || value === undefined || value === "") return undefined;
  const fields = lastElement(value);
  const subject = fields.get("Subject")?.[0] ?? "";
  const cn = /(?:^|,)\s*CN=([^,]*)/.exec(subject)?.[1];
  return {
    subject,
    ...(cn === undefined ? {} : { commonName: cn }),
    subjectAltNames: [
      ...(fields.get("URI") ?? []).map((v) => `URI:${v}`),
      ...(fields.get("DNS") ?? []).map((v) => `DNS:${v}`),
    ],
    issuer: fields.get("By")?.[0] ?? "",
    serialNumber: "",
    fingerprint256: fields.get("Hash")?.[0] ?? "",
    validTo: new Date(NaN),
  };
}

// XFCC: elements separated by commas, key=value pairs by semicolons,
// values optionally double-quoted (then commas and semicolons may appear,
// and \" escapes a quote). The last element is the nearest proxy's.
function lastElement(header: string): Map<string, string[]> {
  const elements: Map<string, string[]>[] = [new Map()];
  let key = "";
  let value = "";
  let inKey = true;
  let quoted = false;
  const flush = () => {
    if (key !== "") {
      const current = elements[elements.length - 1]!;
      current.set(key.trim(), [...(current.get(key.trim()) ?? []), value]);
    }
    key = "";
    value = "";
    inKey = true;
  };
  for (let i = 0; i < header.length; i++) {
    const c = header[i]!;
    if (quoted) {
      if (c === "\\" && i + 1 < header.length) value += header[++i];
      else if (c === '"') quoted = false;
      else value += c;
    } else if (c === '"' && !inKey) quoted = true;
    else if (c === "=" && inKey) inKey = false;
    else if (c === ";") flush();
    else if (c === ",") {
      flush();
      elements.push(new Map());
    } else if (inKey) key += c;
    else value += c;
  }
  flush();
  return elements[elements.length - 1]!;
}
