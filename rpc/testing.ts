/**
 * Helpers for tests: an in-memory pair of connected message streams.
 *
 * @module
 */

import type { Frame, MessageStream } from "./types.ts";

/**
 * Two message streams connected to each other in memory: what one writes,
 * the other reads. Closing either ends both.
 *
 * @returns the two ends
 *
 * @example
 * ```ts
 * import { memoryPair } from "./testing.ts";
 * const [a, b] = memoryPair();
 * const reading = b.readable.getReader().read();
 * await a.writable.getWriter().write("ping");
 * const { value } = await reading;
 * console.assert(value === "ping");
 * ```
 */
export function memoryPair(): [MessageStream, MessageStream] {
  const ab = new TransformStream<Frame | readonly Frame[], Frame | readonly Frame[]>();
  const ba = new TransformStream<Frame | readonly Frame[], Frame | readonly Frame[]>();
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await Promise.allSettled([ab.writable.close(), ba.writable.close()]);
  };
  return [
    { readable: ba.readable, writable: guard(ab.writable), close, remote: "memory:b" },
    { readable: ab.readable, writable: guard(ba.writable), close, remote: "memory:a" },
  ];
}

// The pair's writables are shared with close(); each end writes through a
// forwarding stream so that its own writer can lock and close independently.
function guard(
  target: WritableStream<Frame | readonly Frame[]>,
): WritableStream<Frame | readonly Frame[]> {
  return new WritableStream<Frame | readonly Frame[]>({
    async write(frame) {
      const writer = target.getWriter();
      try {
        await writer.write(frame);
      } finally {
        writer.releaseLock();
      }
    },
    async close() {
      const writer = target.getWriter();
      try {
        await writer.close();
      } catch {
        // Closed already by the other end.
      } finally {
        writer.releaseLock();
      }
    },
  });
}
