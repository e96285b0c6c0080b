/**
 * `grpc-encoding: gzip` for one message, both ways, on the Web's
 * `CompressionStream` and `DecompressionStream` through the HTTP layer's body
 * helpers (the same slicing that keeps a gzip bomb from inflating past the
 * limit before it is checked).
 *
 * @module
 */

import { BodyTooLargeError, gzipStream, readBody } from "../http/_body.ts";
import { GrpcWireError } from "../../../protocols/grpc/_wire.ts";

/** The one compression parley speaks besides identity. */
export const GZIP = "gzip";

/** What parley sends as `grpc-accept-encoding`. */
export const ACCEPT_ENCODING = "identity,gzip";

/**
 * A message compressed with gzip.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gunzipMessage, gzipMessage } from "./_compression.ts";
 *
 * const packed = await gzipMessage(new Uint8Array(1000));
 * assert.ok(packed.length < 100);
 * assert.deepEqual(await gunzipMessage(packed, 1000), new Uint8Array(1000));
 * ```
 */
export function gzipMessage(message: Uint8Array): Promise<Uint8Array> {
  return readBody(gzipStream(message), Infinity, false);
}

/**
 * A gzip-compressed message inflated, at most `limit` bytes of it.
 *
 * @throws {GrpcWireError} 8 RESOURCE_EXHAUSTED when it inflates past `limit`,
 *   13 INTERNAL when it is not gzip
 *
 * @example A gzip bomb stops at the limit
 * ```ts
 * import assert from "node:assert/strict";
 * import { gunzipMessage, gzipMessage } from "./_compression.ts";
 *
 * const bomb = await gzipMessage(new Uint8Array(1 << 20));
 * await assert.rejects(gunzipMessage(bomb, 1024), { status: 8 });
 * await assert.rejects(gunzipMessage(new Uint8Array([1, 2, 3]), 1024), { status: 13 });
 * ```
 */
export async function gunzipMessage(message: Uint8Array, limit: number): Promise<Uint8Array> {
  try {
    return await readBody(new Blob([message as Uint8Array<ArrayBuffer>]).stream(), limit, true);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      throw new GrpcWireError(
        8,
        `A compressed message inflates past the limit of ${limit} bytes`,
      );
    }
    throw new GrpcWireError(
      13,
      `A compressed message that is not gzip: ${(error as Error).message}`,
    );
  }
}

/**
 * Whether a `grpc-accept-encoding` header lists gzip.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { acceptsGzip } from "./_compression.ts";
 *
 * assert.equal(acceptsGzip("identity,deflate,gzip"), true);
 * assert.equal(acceptsGzip(undefined), false);
 * ```
 */
export function acceptsGzip(header: string | undefined): boolean {
  return (header ?? "").split(",").some((coding) => coding.trim().toLowerCase() === GZIP);
}
