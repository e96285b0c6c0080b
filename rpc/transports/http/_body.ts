// Body helpers shared by the HTTP server and client: reading a body under a
// size limit (after gzip decompression), media types and content codings.
// Web-standard only.

import { concatBytes } from "../../framing/_concat.ts";

/** The body is larger than the limit; nothing beyond the limit was kept. */
export class BodyTooLargeError extends RangeError {
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number) {
    super(`Body of at least ${size} bytes exceeds the limit of ${limit} bytes`);
    this.name = "BodyTooLargeError";
    this.size = size;
    this.limit = limit;
  }
}

// Compressed input is fed to the decompressor in slices this small, so that
// one slice can never inflate to much more than a few MiB (deflate's ratio is
// at most ~1032:1) before the limit is checked.
const INFLATE_SLICE = 4096;

function slicer(size: number): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(chunk, controller) {
      for (let at = 0; at < chunk.length; at += size) {
        controller.enqueue(chunk.subarray(at, Math.min(at + size, chunk.length)));
      }
    },
  });
}

/**
 * Reads a whole body, failing as soon as it passes `limit` bytes (counted
 * after decompression when `gzip` is true) and cancelling the rest.
 *
 * @throws {BodyTooLargeError} over the limit
 * @throws {TypeError} when the gzip data is corrupt (from `DecompressionStream`)
 */
export async function readBody(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  gzip: boolean,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const stream = gzip
    ? body.pipeThrough(slicer(INFLATE_SLICE)).pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    )
    : body;
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > limit) {
        reader.cancel().catch(() => {});
        throw new BodyTooLargeError(size, limit);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return concatBytes(chunks, size);
}

/**
 * Reads the whole body of a request or a reply under `limit`: one declared
 * with a `Content-Length` that fits, and not compressed, in one go (that is
 * all that can arrive; reading it piece by piece through a reader costs
 * 2-4× the time of the call on loopback); any other piece by piece with
 * {@linkcode readBody}.
 *
 * @throws {BodyTooLargeError} over the limit, declared or counted
 * @throws {TypeError} when the gzip data is corrupt
 */
export async function readMessageBody(
  message: Request | Response,
  limit: number,
  gzip: boolean,
): Promise<Uint8Array> {
  // A compressed body's length is not what it inflates to (fetch inflates
  // replies itself): such a body is counted as it is read. `get`, not
  // `has`: Deno.serve answers `get` for one header, while `has` builds the
  // request's whole header list first (~1.7 µs of a ~20 µs call).
  const declared = gzip || message.headers.get("content-encoding") !== null
    ? null
    : message.headers.get("content-length");
  if (declared === null || declared === "") return await readBody(message.body, limit, gzip);
  const length = Number(declared);
  if (length > limit) {
    message.body?.cancel().catch(() => {});
    throw new BodyTooLargeError(length, limit);
  }
  return await message.bytes();
}

/** `"text/xml; charset=utf-8"` → `"text/xml"`; `null` → `""`. */
export function essence(contentType: string | null): string {
  if (contentType === null) return "";
  const semicolon = contentType.indexOf(";");
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/** Whether an `Accept-Encoding` header allows gzip (`gzip;q=0` does not). */
export function acceptsGzip(header: string | null): boolean {
  if (header === null) return false;
  for (const part of header.split(",")) {
    const [coding = "", ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    if (coding !== "gzip" && coding !== "x-gzip" && coding !== "*") continue;
    const q = params.find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

/** Compresses bytes with gzip into a stream body. */
export function gzipStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
  );
}
