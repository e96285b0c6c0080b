// Stream helpers of the stdio transport: draining a child's pipes, keeping
// the tail of its stderr within a cap, and waiting with a time limit.

export function closeQuietly(controller: ReadableStreamDefaultController<Uint8Array>): void {
  try {
    controller.close();
  } catch {
    // Errored or closed already.
  }
}

// Reads a BYOB reader to its end, discarding.
export async function drain(reader: ReadableStreamBYOBReader): Promise<void> {
  let buffer: Uint8Array = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const { value, done } = await reader.read(buffer);
      if (done) return;
      buffer = new Uint8Array(value.buffer);
    }
  } catch {
    // Cancelled or broken: nothing more to read either way.
  }
}

// A stream being read into a tail, to its end or until cancelled.
export interface Pump {
  readonly done: Promise<void>;
  cancel(): Promise<void>;
}

export function pump(reader: ReadableStreamDefaultReader<Uint8Array>, tail: Tail): Pump {
  const done = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        tail.push(value);
      }
    } catch {
      // Cancelled or broken: what was read is kept.
    }
  })();
  return { done, cancel: () => reader.cancel().catch(() => {}) };
}

// The last `max` bytes of a stream; never holds more than that.
export class Tail {
  readonly #max: number;
  #chunks: Uint8Array[] = [];
  #size = 0;

  constructor(max: number) {
    this.#max = max;
  }

  push(chunk: Uint8Array): void {
    if (chunk.byteLength >= this.#max) {
      this.#chunks = [chunk.slice(chunk.byteLength - this.#max)];
      this.#size = this.#max;
      return;
    }
    // A copy: a view would keep its whole (64 KiB) buffer alive.
    this.#chunks.push(chunk.slice());
    this.#size += chunk.byteLength;
    while (this.#size > this.#max) {
      const first = this.#chunks[0]!;
      const excess = this.#size - this.#max;
      if (first.byteLength <= excess) {
        this.#chunks.shift();
        this.#size -= first.byteLength;
      } else {
        this.#chunks[0] = first.slice(excess);
        this.#size -= excess;
      }
    }
  }

  text(): string {
    const bytes = new Uint8Array(this.#size);
    let offset = 0;
    for (const chunk of this.#chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    // Cut inside a character: skip its continuation bytes.
    let start = 0;
    while (start < bytes.length && start < 3 && (bytes[start]! & 0xc0) === 0x80) start++;
    return new TextDecoder().decode(bytes.subarray(start));
  }
}

// The promise's value, or undefined when it takes longer than `ms`.
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
