/**
 * Per-message gzip of Connect's streams (`connect-content-encoding`,
 * `connect-accept-encoding`): each message compressed on its own, inflated
 * under a size limit. The HTTP body helpers (rpc/transports/http/_body.ts,
 * Web-standard) do the work; the server's files reach them through this
 * one.
 *
 * @module
 */

import {
  acceptsGzip,
  BodyTooLargeError,
  essence,
  gzipStream,
  readBody,
  readMessageBody,
} from "../../rpc/transports/http/_body.ts";
import { ConnectError } from "./errors.ts";

export { acceptsGzip, BodyTooLargeError, essence, gzipStream, readBody, readMessageBody };

/**
 * `bytes` gzipped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gunzip, gzip } from "./_compress.ts";
 *
 * const text = new TextEncoder().encode("a".repeat(1000));
 * const packed = await gzip(text);
 * assert.ok(packed.length < 100);
 * assert.deepEqual(await gunzip(packed, 1000), text);
 * ```
 */
export function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  // Written straight into the compressor: through a Blob's stream it took
  // seven times as long.
  const compressor = new CompressionStream("gzip");
  const writer = compressor.writable.getWriter();
  writer.write(bytes as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  return new Response(compressor.readable).bytes();
}

/**
 * `bytes` inflated, at most `limit` bytes of them.
 *
 * @throws {ConnectError} `resource_exhausted` past the limit (nothing past
 *   it is kept), `invalid_argument` for bytes that are not gzip
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gunzip, gzip } from "./_compress.ts";
 *
 * const bomb = await gzip(new Uint8Array(1 << 20));
 * await assert.rejects(gunzip(bomb, 1024), { connectCode: "resource_exhausted" });
 * await assert.rejects(gunzip(new Uint8Array([1, 2, 3]), 1024), { connectCode: "invalid_argument" });
 * ```
 */
export async function gunzip(bytes: Uint8Array, limit: number): Promise<Uint8Array> {
  try {
    return await readBody(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream(), limit, true);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      throw new ConnectError(
        "resource_exhausted",
        `A message inflates past the limit of ${limit} bytes`,
      );
    }
    throw new ConnectError("invalid_argument", `A compressed message is not gzip: ${error}`);
  }
}
