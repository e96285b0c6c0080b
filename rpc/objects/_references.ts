/**
 * One connection's reference tables: what this end exports (by id, counted),
 * the other end's exports it imports (proxies, released when collected), the
 * outcomes of the other end's calls kept for pipelining, and the batched
 * `$/release` notifications.
 *
 * @module
 */

import { invalidParams, tooMany, unknownReference } from "./_errors.ts";

/** A `$/release` entry: drop `count` references to export (or answer) `id`. */
export type ReleaseEntry = readonly [kind: "ref" | "answer", id: number, count: number];

interface Export {
  readonly value: unknown;
  count: number;
}

interface Import {
  readonly proxy: WeakRef<object>;
  received: number;
}

// Most releases queued before they are sent without waiting for the timer.
const RELEASE_BATCH = 64;

/** The tables of one session; `send` delivers a batch of releases to the other end. */
export class ReferenceTables {
  readonly #maxExports: number;
  readonly #releaseBatch: number;
  readonly #send: (entries: readonly ReleaseEntry[]) => void;
  // What this end exports, by id and by value.
  readonly #exports = new Map<number, Export>();
  readonly #exportIds = new Map<unknown, number>();
  #nextExport = 1;
  // What this end imports, by the other end's id; collected proxies release themselves.
  readonly #imports = new Map<number, Import>();
  readonly #finalizer = new FinalizationRegistry<number>((id) => this.#collected(id));
  // The outcomes of the other end's calls, kept for its pipelined calls.
  readonly #answers = new Map<number, Promise<unknown>>();
  #releases: ReleaseEntry[] = [];
  #flushing = false;
  #closed = false;

  /**
   * @param maxExports most exports, and most kept answers, at once
   * @param send sends a batch of releases (`$/release`)
   */
  constructor(maxExports: number, send: (entries: readonly ReleaseEntry[]) => void) {
    this.#maxExports = maxExports;
    // Well within the other end's limit, as far as this end can tell: its
    // own limit, the same by default.
    this.#releaseBatch = Math.max(1, Math.min(RELEASE_BATCH, Math.floor(maxExports / 2)));
    this.#send = send;
  }

  /** How many objects this end exports. */
  get exportCount(): number {
    return this.#exports.size;
  }

  /** How many of the other end's objects this end holds proxies for. */
  get importCount(): number {
    return this.#imports.size;
  }

  /** How many of the other end's call outcomes this end keeps. */
  get answerCount(): number {
    return this.#answers.size;
  }

  /** Exports `value` (once more, when it already is); returns its id. */
  export(value: unknown): number {
    let id = this.#exportIds.get(value);
    if (id === undefined) {
      if (this.#exports.size >= this.#maxExports) {
        throw tooMany("objects exported", this.#maxExports);
      }
      id = this.#nextExport++;
      this.#exports.set(id, { value, count: 0 });
      this.#exportIds.set(value, id);
    }
    this.#exports.get(id)!.count++;
    return id;
  }

  /**
   * Takes back one reference to each export in `ids` (one entry per
   * reference, as {@linkcode export} returned them): for a value refused
   * partway through boxing, which the other end never received.
   */
  unexport(ids: readonly number[]): void {
    for (const id of ids) this.#drop(id, 1);
  }

  /** This end's export `id`; an error reply when unknown or released. */
  exported(id: number): unknown {
    const entry = this.#exports.get(id);
    if (entry === undefined) throw unknownReference(`$you ${id}`);
    return entry.value;
  }

  /** The kept outcome of the other end's call `id`; an error reply when unknown or released. */
  answer(id: number): Promise<unknown> {
    const answer = this.#answers.get(id);
    if (answer === undefined) throw unknownReference(`$answer ${id}`);
    return answer;
  }

  // Outcomes are kept for pipelined calls until the caller releases them,
  // within the same limit as exports: a caller that never releases cannot
  // grow the table forever. Checked before the call runs.
  /** Throws when keeping one more answer would pass the limit. */
  roomForAnswer(answer: unknown): void {
    if (typeof answer !== "number" || this.#answers.has(answer)) return;
    if (this.#answers.size >= this.#maxExports) {
      throw tooMany("call results kept", this.#maxExports);
    }
  }

  /** Keeps the outcome of the other end's call `answer` for its pipelined calls. */
  keepAnswer(answer: number, outcome: Promise<unknown>): void {
    outcome.catch(() => {});
    this.#answers.set(answer, outcome);
  }

  /**
   * The proxy of the other end's export `id`: the live one, or a new one
   * from `make`. Each time counts one more reference received.
   */
  import(id: number, make: () => object): object {
    const existing = this.#imports.get(id);
    const alive = existing?.proxy.deref();
    if (existing !== undefined && alive !== undefined) {
      existing.received++;
      return alive;
    }
    const proxy = make();
    this.#imports.set(id, { proxy: new WeakRef(proxy), received: (existing?.received ?? 0) + 1 });
    this.#finalizer.register(proxy, id, proxy);
    return proxy;
  }

  /** Drops the import `id` of `proxy` now and tells the other end. */
  dropImport(proxy: object, id: number): void {
    this.#finalizer.unregister(proxy);
    const entry = this.#imports.get(id);
    if (entry === undefined) return;
    this.#imports.delete(id);
    this.queueRelease(["ref", id, entry.received]);
  }

  #collected(id: number): void {
    const entry = this.#imports.get(id);
    if (entry === undefined || entry.proxy.deref() !== undefined) return;
    this.#imports.delete(id);
    this.queueRelease(["ref", id, entry.received]);
  }

  /** Queues a release for the other end. */
  queueRelease(entry: ReleaseEntry): void {
    if (this.#closed) return;
    this.#releases.push(entry);
    // A full batch goes at once: a caller whose loop never lets a timer run
    // (calls awaited over an in-memory pair settle on microtasks alone)
    // would otherwise fill the other end's tables with what it dropped.
    if (this.#releases.length >= this.#releaseBatch) return this.#flush();
    if (this.#flushing) return;
    this.#flushing = true;
    // Releases are batched: one notification for all that a turn dropped.
    setTimeout(() => {
      this.#flushing = false;
      this.#flush();
    }, 0);
  }

  #flush(): void {
    const entries = this.#releases;
    this.#releases = [];
    if (entries.length === 0 || this.#closed) return;
    this.#send(entries);
  }

  /**
   * Applies the other end's `$/release` entries. Malformed ones go to
   * `onError` and are skipped; unknown ids are ignored.
   */
  release(entries: readonly unknown[], onError: (error: unknown) => void): void {
    for (const entry of entries) {
      if (!Array.isArray(entry) || entry.length !== 3 || typeof entry[1] !== "number") {
        onError(invalidParams("A $/release entry is [kind, id, count]"));
        continue;
      }
      const [kind, id, count] = entry;
      if (kind === "answer") {
        this.#answers.delete(id);
      } else if (kind === "ref") {
        this.#drop(id, typeof count === "number" && count > 0 ? count : 1);
      }
    }
  }

  // Drops `count` references to export `id`; the last one forgets it.
  #drop(id: number, count: number): void {
    const exported = this.#exports.get(id);
    if (exported === undefined) return;
    exported.count -= count;
    if (exported.count <= 0) {
      this.#exports.delete(id);
      this.#exportIds.delete(exported.value);
    }
  }

  /** Drops everything: exports (each shown to `onExport` first), answers, imports, queued releases. */
  close(onExport?: (value: unknown) => void): void {
    this.#closed = true;
    if (onExport !== undefined) { for (const { value } of this.#exports.values()) onExport(value); }
    this.#exports.clear();
    this.#exportIds.clear();
    this.#answers.clear();
    this.#imports.clear();
    this.#releases = [];
  }
}
