// What a failed fetch becomes in the HTTP clients (connectHttp, Connect's
// client): a ConnectionClosedError, as the stream transports give when their
// connection ends, saying which URL and why. Web-standard only.

import { ConnectionClosedError } from "../../errors.ts";

/**
 * The error for a POST that got no HTTP reply: refused, reset, the server
 * killed mid-reply, or a server that does not speak the HTTP fetch chose.
 * fetch rejects with a bare TypeError ("fetch failed") whose causes say what
 * happened; they are joined into the message and the error kept as `cause`.
 * A gRPC server on cleartext speaks only HTTP/2, and fetch speaks HTTP/2 only
 * where TLS's ALPN offers it: a hint says so.
 */
export function noReply(url: string, error: unknown): ConnectionClosedError {
  const why: string[] = [];
  for (let e: unknown = error; e instanceof Error && why.length < 4; e = e.cause) {
    why.push(e.message);
  }
  const detail = why.length === 0 ? String(error) : why.join(": ");
  const hint = /unexpected message|http2|protocol/i.test(detail)
    ? " (a server that speaks only HTTP/2, such as a gRPC server without TLS? fetch speaks HTTP/1.1 there)"
    : "";
  return new ConnectionClosedError(`No reply to POST ${url}: ${detail}${hint}`, { cause: error });
}
