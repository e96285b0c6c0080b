/**
 * The metadata of a client call going through interceptors: `Headers` that
 * know whether anything was ever put in them, so that a call no interceptor
 * gave metadata sends none without reading the headers back. Reading an
 * empty `Headers` (`forEach`) costs about as much as creating it, and a
 * lazily created one (a getter on the call object) costs ten times more in
 * V8 than both. Web-standard only.
 *
 * @module
 */

/**
 * `Headers` that remember being written to (by their init, `set` or
 * `append`). An empty one never written to holds nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CallHeaders, unwritten } from "./_call_headers.ts";
 *
 * const metadata = new CallHeaders(undefined);
 * assert.equal(unwritten(metadata), true);
 * metadata.set("traceparent", "00-x");
 * assert.equal(unwritten(metadata), false);
 * assert.equal(unwritten(new Headers()), false);
 * ```
 */
export class CallHeaders extends Headers {
  /** Whether anything was put in: by the init, `set` or `append`. */
  written: boolean;

  /** @param init the call's own headers, if any */
  constructor(init: HeadersInit | undefined) {
    super(init);
    this.written = init !== undefined;
  }

  /** Sets a header, as `Headers` does, and remembers it. */
  override set(name: string, value: string): void {
    this.written = true;
    super.set(name, value);
  }

  /** Appends a header, as `Headers` does, and remembers it. */
  override append(name: string, value: string): void {
    this.written = true;
    super.append(name, value);
  }
}

/**
 * Whether `metadata` is known to hold nothing without reading it: a
 * {@linkcode CallHeaders} never written to. Any other `Headers` (one an
 * interceptor put in the call's place) must be read.
 *
 * @param metadata a call's metadata
 * @returns `true` when it is certainly empty
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CallHeaders, unwritten } from "./_call_headers.ts";
 *
 * assert.equal(unwritten(new CallHeaders(undefined)), true);
 * assert.equal(unwritten(new CallHeaders({ "x-tag": "t" })), false);
 * ```
 */
export function unwritten(metadata: Headers): boolean {
  return metadata instanceof CallHeaders && !metadata.written;
}
