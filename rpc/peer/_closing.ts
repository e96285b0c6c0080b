// How a peer lets go of its stream once it is closing: what is queued is
// flushed, the writer closed (bounded in time), then the stream itself.

import type { MessageStream } from "../types.ts";
import type { Outbox } from "./_outbox.ts";

/**
 * Flushes, closes the writer, then the stream; never rejects.
 *
 * @param outbox the peer's queue of frames
 * @param writer the stream's writer, or its batch writer
 * @param stream the connection
 * @param parts how long the writer may take to close (ms), why the stream
 * closes, and where a failure to close it is told
 * @returns when the stream is closed
 */
export async function closeStream(
  outbox: Outbox,
  writer: { close(): Promise<void> },
  stream: MessageStream,
  parts: {
    readonly closeTimeout: number;
    readonly reason: unknown;
    readonly onError: (error: unknown) => void;
  },
): Promise<void> {
  // Flush what is queued, but do not wait forever on a peer that stopped
  // reading: closing the stream below ends the pending writes too.
  await outbox.flushing?.catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    writer.close().catch(() => {}),
    new Promise<void>((resolve) => timer = setTimeout(resolve, parts.closeTimeout)),
  ]);
  clearTimeout(timer);
  try {
    await stream.close(parts.reason);
  } catch (error) {
    parts.onError(error);
  }
}
