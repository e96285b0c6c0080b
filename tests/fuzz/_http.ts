/**
 * HTTP/1.1 requests by hand for fuzzing: a valid POST of a body, and the
 * attacks a hostile client can make on the parser — bad methods and request
 * lines, bad headers, bad or conflicting Content-Length, broken chunked
 * bodies, headers without end, pipelining, bad encodings.
 *
 * @module
 */

import { concat } from "../framing/conformance.ts";
import type { Prng } from "./_prng.ts";

const encoder = new TextEncoder();

/** What a POST carries. */
export interface HttpBody {
  /** The request's path, such as `/RPC2`. */
  readonly path: string;
  /** Its Content-Type. */
  readonly contentType: string;
  /** Its body. */
  readonly body: Uint8Array;
}

/**
 * A valid `POST` of `body` with its Content-Length, and `extra` header lines.
 *
 * @param request path, content type and body
 * @param extra more header lines, such as `["connection: close"]`
 * @returns the request's bytes
 *
 * @example
 * ```ts
 * import { httpPost } from "./_http.ts";
 * const body = new TextEncoder().encode("{}");
 * console.log(new TextDecoder().decode(
 *   httpPost({ path: "/rpc", contentType: "application/json", body }),
 * ));
 * ```
 */
export function httpPost(request: HttpBody, extra: readonly string[] = []): Uint8Array {
  return head(`POST ${request.path} HTTP/1.1`, [
    "host: 127.0.0.1",
    `content-type: ${request.contentType}`,
    `content-length: ${request.body.length}`,
    ...extra,
  ], request.body);
}

function head(line: string, headers: readonly string[], body: Uint8Array): Uint8Array {
  return concat([encoder.encode(`${line}\r\n${headers.join("\r\n")}\r\n\r\n`), body]);
}

function chunk(data: Uint8Array, size = data.length.toString(16)): Uint8Array {
  return concat([encoder.encode(`${size}\r\n`), data, encoder.encode("\r\n")]);
}

/**
 * One attack at random on a server that answers `request` (a valid POST).
 *
 * @param rng the input's PRNG
 * @param request a valid request's parts
 * @returns what the attack is and its bytes
 *
 * @example
 * ```ts
 * import { Prng } from "./_prng.ts";
 * import { httpAttack } from "./_http.ts";
 * const body = new TextEncoder().encode("{}");
 * const attack = httpAttack(new Prng(5), { path: "/rpc", contentType: "application/json", body });
 * console.log(attack.label);
 * ```
 */
export function httpAttack(rng: Prng, request: HttpBody): { label: string; bytes: Uint8Array } {
  const { path, contentType, body } = request;
  const type = `content-type: ${contentType}`;
  const length = `content-length: ${body.length}`;
  const post = (headers: string[], payload: Uint8Array = body, line = `POST ${path} HTTP/1.1`) =>
    head(line, ["host: 127.0.0.1", ...headers], payload);
  const attacks: [string, () => Uint8Array][] = [
    ["method GET on an RPC path", () => post([type], new Uint8Array(0), `GET ${path} HTTP/1.1`)],
    [
      "an unknown method",
      () =>
        post([type, length], body, `${rng.pick(["FOO", "post", "P0ST", "BREW"])} ${path} HTTP/1.1`),
    ],
    ["an 8 KiB method", () => post([type, length], body, `${"P".repeat(8192)} ${path} HTTP/1.1`)],
    ["a 64 KiB path", () => post([type, length], body, `POST /${"a".repeat(65536)} HTTP/1.1`)],
    ["a request line without version", () => post([type, length], body, `POST ${path}`)],
    [
      "version HTTP/2.0 in an HTTP/1 request line",
      () => post([type, length], body, `POST ${path} HTTP/2.0`),
    ],
    ["version HTTP/9.9", () => post([type, length], body, `POST ${path} HTTP/9.9`)],
    ["the HTTP/2 preface", () => encoder.encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")],
    ["a NUL in the path", () => post([type, length], body, `POST ${path}\0x HTTP/1.1`)],
    ["a header without colon", () => post([type, length, "no colon here"])],
    ["a space before a header's colon", () => post([type, length, "x-a : b"])],
    ["an obsolete folded header", () => post([type, length, "x-a: b", " folded"])],
    ["header bytes that are not ASCII", () => post([type, length, "x-a: \xff\xfe\x80"])],
    ["a bare CR in a header", () => post([type, length, "x-a: b\rc"])],
    ["a 64 KiB header", () => post([type, length, `x-big: ${"b".repeat(65536)}`])],
    [
      "2000 headers",
      () => post([type, length, ...Array.from({ length: 2000 }, (_, i) => `x-${i}: v`)]),
    ],
    ["no Host header", () => head(`POST ${path} HTTP/1.1`, [type, length], body)],
    ["a negative Content-Length", () => post([type, "content-length: -1"])],
    ["a Content-Length that is not a number", () => post([type, "content-length: ten"])],
    ["a Content-Length of 2^64", () => post([type, "content-length: 18446744073709551616"])],
    [
      "two different Content-Lengths",
      () => post([type, length, `content-length: ${body.length + 1}`]),
    ],
    ["a Content-Length list", () => post([type, `content-length: ${body.length}, ${body.length}`])],
    [
      "a Content-Length beyond the body (then end of stream)",
      () => post([type, `content-length: ${body.length + rng.range(1, 100000)}`]),
    ],
    [
      "a Content-Length under the body (the rest read as a request)",
      () => post([type, `content-length: ${rng.int(body.length)}`]),
    ],
    [
      "a Content-Length over the 16 MiB body limit",
      () => post([type, `content-length: ${16 * 1024 * 1024 + 1}`]),
    ],
    [
      "a chunked body",
      () => {
        const cut = rng.int(body.length + 1);
        return post(
          [type, "transfer-encoding: chunked"],
          concat([
            chunk(body.subarray(0, cut)),
            chunk(body.subarray(cut)),
            encoder.encode("0\r\n\r\n"),
          ]),
        );
      },
    ],
    [
      "a chunk size that is not hex",
      () =>
        post(
          [type, "transfer-encoding: chunked"],
          concat([chunk(body, "zz"), encoder.encode("0\r\n\r\n")]),
        ),
    ],
    [
      "a chunk size of 2^64 - 1",
      () => post([type, "transfer-encoding: chunked"], chunk(body, "ffffffffffffffff")),
    ],
    [
      "a chunk size over the body limit",
      () =>
        post([type, "transfer-encoding: chunked"], chunk(body, (17 * 1024 * 1024).toString(16))),
    ],
    [
      "chunks without the last chunk",
      () => post([type, "transfer-encoding: chunked"], chunk(body)),
    ],
    [
      "chunk extensions and trailers",
      () =>
        post(
          [type, "transfer-encoding: chunked"],
          concat([
            chunk(body, `${body.length.toString(16)};a=b;c`),
            encoder.encode("0\r\nx-t: 1\r\n\r\n"),
          ]),
        ),
    ],
    [
      "Content-Length and Transfer-Encoding both",
      () =>
        post(
          [type, length, "transfer-encoding: chunked"],
          concat([chunk(body), encoder.encode("0\r\n\r\n")]),
        ),
    ],
    [
      "Transfer-Encoding: gzip, chunked",
      () => post([type, "transfer-encoding: gzip, chunked"], chunk(body)),
    ],
    ["an unknown Transfer-Encoding", () => post([type, "transfer-encoding: rot13"])],
    [
      "Content-Encoding gzip on bytes that are not gzip",
      () => post([type, length, "content-encoding: gzip"]),
    ],
    ["an unknown Content-Encoding", () => post([type, length, "content-encoding: br"])],
    ["a wrong Content-Type", () => post(["content-type: image/png", length])],
    ["no Content-Type", () => post([length])],
    ["Expect: 100-continue", () => post([type, length, "expect: 100-continue"])],
    ["an unknown Expect", () => post([type, length, "expect: 999-nope"])],
    [
      "Upgrade: h2c on a POST",
      () => post([type, length, "connection: Upgrade, HTTP2-Settings", "upgrade: h2c"]),
    ],
    [
      "Connect headers with bad values",
      () => post([type, length, "connect-protocol-version: 9", "connect-timeout-ms: -5"]),
    ],
    [
      "headers without end",
      () => encoder.encode(`POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${type}\r\n`),
    ],
    [
      "lines ended by LF only",
      () => encoder.encode(`POST ${path} HTTP/1.1\nhost: x\n${type}\n${length}\n\n`),
    ],
    ["a request then garbage", () => concat([httpPost(request), rng.bytes(rng.range(1, 256))])],
    [
      "three pipelined requests",
      () => concat([httpPost(request), httpPost(request), httpPost(request)]),
    ],
  ];
  const [label, build] = rng.pick(attacks);
  return { label, bytes: build() };
}
