/**
 * gRPC's custom metadata: HTTP/2's header objects (protocols/http2/) to and
 * from the Web `Headers` of {@linkcode CallMetadata} (rpc/call_metadata.ts).
 * A call's `Headers` are made only when someone asks for them: a call whose
 * handler never looks at its metadata costs none.
 *
 * @module
 */

import type { Http2Headers } from "../../../protocols/http2/stream.ts";
import type { CallMetadata } from "../../call_metadata.ts";

export { attachMetadata, type CallMetadata, callMetadata } from "../../call_metadata.ts";

/**
 * The metadata of one gRPC call, as its handler sees it: the same
 * {@linkcode CallMetadata} that Connect and gRPC-Web calls have.
 */
export type GrpcCallMetadata = CallMetadata;

/** Header fields to send, as HTTP/2's `respond()` and `end()` take them. */
export type OutgoingFields = Record<string, string | number>;

/**
 * A call's metadata whose `Headers` are made on first use: `request` from
 * the request's fields, `headers` and `trailers` empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LazyMetadata } from "./metadata.ts";
 *
 * const metadata = new LazyMetadata({ ":path": "/p", "x-a": "1" });
 * assert.equal(metadata.sent.headers, undefined); // nothing asked: nothing made
 * assert.equal(metadata.request.get("x-a"), "1");
 * metadata.trailers.set("x-b", "2");
 * assert.equal(metadata.sent.trailers?.get("x-b"), "2");
 * ```
 */
export class LazyMetadata implements CallMetadata {
  readonly #incoming: Http2Headers;
  #request: Headers | undefined;
  #headers: Headers | undefined;
  #trailers: Headers | undefined;

  /** @param incoming the request's header fields */
  constructor(incoming: Http2Headers) {
    this.#incoming = incoming;
  }

  /** The request's headers, without the pseudo-headers. */
  get request(): Headers {
    return this.#request ??= headersOf(this.#incoming);
  }

  /** Headers to send with the reply. */
  get headers(): Headers {
    return this.#headers ??= new Headers();
  }

  /** Trailers to send at the reply's end. */
  get trailers(): Headers {
    return this.#trailers ??= new Headers();
  }

  /** What was set to send, if anything was asked for. */
  get sent(): { headers: Headers | undefined; trailers: Headers | undefined } {
    return { headers: this.#headers, trailers: this.#trailers };
  }
}

/**
 * HTTP/2's header object as Web `Headers`, without the pseudo-headers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { headersOf } from "./metadata.ts";
 *
 * const headers = headersOf({ ":path": "/p", "x-a": "1", "x-b": "2" });
 * assert.deepEqual([...headers], [["x-a", "1"], ["x-b", "2"]]);
 * ```
 */
export function headersOf(incoming: Http2Headers): Headers {
  const out = new Headers();
  for (const name in incoming) {
    if (name.charCodeAt(0) === 58 /* : */) continue;
    out.append(name, incoming[name]!);
  }
  return out;
}

/**
 * Metadata as HTTP/2's outgoing fields, under `fixed` (what the protocol
 * itself sends wins over metadata of the same name). With no metadata,
 * `fixed` itself (it is not copied).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outgoing } from "./metadata.ts";
 *
 * const headers = new Headers({ "x-a": "1", "grpc-status": "9" });
 * assert.deepEqual(outgoing([headers], { "grpc-status": "0" }), { "x-a": "1", "grpc-status": "0" });
 * ```
 */
export function outgoing(
  metadata: readonly (Headers | undefined)[],
  fixed: Readonly<OutgoingFields>,
): Readonly<OutgoingFields> {
  let out: OutgoingFields | undefined;
  for (const headers of metadata) {
    if (headers === undefined) continue;
    for (const [name, value] of headers) (out ??= {})[name] = value;
  }
  return out === undefined ? fixed : Object.assign(out, fixed);
}
