// The deadlines of every connection clock of the process, under one timer:
// a timer per connection costs an idle connection a few hundred bytes (the
// timer object, its callback, the runtime's entry), and 10,000 connections
// hold 10,000 of them. A binary heap ordered by when each is due; the timer
// is set for the earliest. Adding, re-arming and removing cost O(log n),
// and happen once per timeout, not per read or write.

/**
 * Something due at a time: a connection's clock. Its place in the heap is
 * kept on itself, so that removing it (its connection closed) is O(log n).
 */
export abstract class Deadline {
  /** When it is due, on `performance.now()`'s clock. */
  due = Infinity;
  /** Its index in the heap; -1 when not in it. */
  slot = -1;

  /** Called once it is due (and out of the heap); may add itself again. */
  abstract fire(): void;
}

// Fired this early at most: a timer may wake a fraction of a millisecond
// before `performance.now()` reaches the due time.
const SLACK = 1;

class Deadlines {
  readonly #heap: Deadline[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  // When the timer is set to fire.
  #timerAt = Infinity;

  /** Adds `entry`, due `ms` from now. */
  add(entry: Deadline, ms: number): void {
    if (entry.slot !== -1) this.remove(entry);
    entry.due = performance.now() + ms;
    entry.slot = this.#heap.length;
    this.#heap.push(entry);
    this.#up(entry.slot);
    if (entry.slot === 0) this.#arm();
  }

  /** Takes `entry` out, if it is in. */
  remove(entry: Deadline): void {
    const at = entry.slot;
    if (at === -1) return;
    entry.slot = -1;
    const last = this.#heap.pop()!;
    if (last !== entry) {
      this.#heap[at] = last;
      last.slot = at;
      this.#down(at);
      this.#up(last.slot);
    }
    // No timer left running for nothing: it would keep the process alive.
    if (this.#heap.length === 0) this.#disarm();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = performance.now() + SLACK;
    for (let top = this.#heap[0]; top !== undefined && top.due <= now; top = this.#heap[0]) {
      this.remove(top);
      top.fire();
    }
    this.#arm();
  };

  // Sets the timer for the earliest deadline, unless it is set for then already.
  #arm(): void {
    const top = this.#heap[0];
    if (top === undefined || top.due >= this.#timerAt) return;
    this.#disarm();
    this.#timerAt = top.due;
    this.#timer = setTimeout(this.#fire, Math.max(0, top.due - performance.now()));
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #up(at: number): void {
    const heap = this.#heap;
    const entry = heap[at]!;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (heap[parent]!.due <= entry.due) break;
      heap[at] = heap[parent]!;
      heap[at]!.slot = at;
      at = parent;
    }
    heap[at] = entry;
    entry.slot = at;
  }

  #down(at: number): void {
    const heap = this.#heap;
    const entry = heap[at]!;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && heap[child + 1]!.due < heap[child]!.due) child++;
      if (entry.due <= heap[child]!.due) break;
      heap[at] = heap[child]!;
      heap[at]!.slot = at;
      at = child;
    }
    heap[at] = entry;
    entry.slot = at;
  }
}

/** The process's deadlines. */
export const deadlines: Deadlines = new Deadlines();
