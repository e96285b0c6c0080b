/**
 * Fuzzes one pair: starts its calculator, sends the inputs of a seeded run
 * in batches, a few connections at a time, and checks the oracles — the
 * process never exits, every connection is answered or closed within the
 * bound, and after each batch the good client gets `add(1, 2) = 3` on a
 * fresh connection. Peak RSS is read from the kernel's high-water mark.
 *
 * @module
 */

import { DEFAULT_LIMITS } from "../../rpc/limits.ts";
import type { Input, InputKind } from "./_inputs.ts";
import type { Pair } from "./_pairs.ts";
import { inputSeed } from "./_prng.ts";
import { type Outcome, probe } from "./_probe.ts";
import { type FuzzServer, startServer } from "./_server.ts";

/** How to run. */
export interface RunOptions {
  /** How many inputs. */
  readonly inputs: number;
  /** The run's seed; input `i` has the seed `inputSeed(seed, i)`. */
  readonly seed: number;
  /** The index of the first input (to replay a batch of a long run); 0 by default. */
  readonly first?: number;
  /** Connections at once. */
  readonly concurrency: number;
  /** Inputs between two good-client checks. */
  readonly batch: number;
  /** How long a connection may go without a reply or a close. */
  readonly hangMs: number;
  /** Replay these input seeds instead of a seeded run. */
  readonly replay?: readonly number[];
  /**
   * After each input, wait up to this many ms for an exit, so that an exit
   * is pinned on the input that caused it (for replays); 0 by default.
   */
  readonly pause?: number;
  /** After an exit, start the server again and go on (the long run); else stop there. */
  readonly restart: boolean;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** When an input was sent, relative to a failure. */
export type InputWhen = "hung" | "in flight" | "ended just before";

/** An input, as a failure names it. */
export interface InputReport {
  /** The seed that makes it again. */
  readonly seed: number;
  /** What sort of input. */
  readonly kind: InputKind;
  /** What was done. */
  readonly label: string;
  /** When it was sent. */
  readonly when: InputWhen;
}

/** An oracle that failed, with what reproduces it. */
export interface Failure {
  /** The oracle that failed. */
  readonly oracle: "process exit" | "hang" | "good client";
  /** The inputs involved: the one that hung, those in flight at an exit (and just before). */
  readonly inputs: readonly InputReport[];
  /** The indexes of the batch before a failed check, `[first, last]`. */
  readonly batch?: readonly [number, number];
  /** What happened. */
  readonly detail: string;
}

/** What a run found. */
export interface PairReport {
  /** The pair's name. */
  readonly pair: string;
  /** The run's seed. */
  readonly seed: number;
  /** How many inputs were sent. */
  readonly inputs: number;
  /** How many times the server exited. */
  readonly exits: number;
  /** The exits by the error the server printed last (`exit code N` when none). */
  readonly exitCauses: Readonly<Record<string, number>>;
  /** How many connections got neither a reply nor a close in time. */
  readonly hangs: number;
  /** How many good-client checks failed with the server alive. */
  readonly goodClientFailures: number;
  /** How the connections ended. */
  readonly outcomes: Readonly<Record<Outcome, number>>;
  /** How many inputs of each kind were sent. */
  readonly kinds: Readonly<Partial<Record<InputKind, number>>>;
  /** The server's resident memory after its first good call. */
  readonly baselineRss: number;
  /** The highest VmHWM of the server (of every server, after restarts). */
  readonly peakRss: number;
  /** (peak − baseline) / concurrency: what one connection cost at most, on average. */
  readonly peakPerConnection: number;
  /** The frame limit the calculator runs with (it has no flag for it: the default). */
  readonly frameLimit: number;
  /** The first failures (at most 20). */
  readonly failures: readonly Failure[];
  /** How long the run took. */
  readonly ms: number;
}

const MAX_REPORTED_FAILURES = 20;
/** How long the good client may take, connecting included. */
const CHECK_MS = 10_000;
/** How often the server's memory is read during a batch. */
const SAMPLE_MS = 250;
/** How many of the last ended inputs an exit's report names. */
const RECENT = 4;

/**
 * Runs the fuzzing of one pair.
 *
 * @param pair the pair
 * @param options counts, seed, bounds
 * @returns the report; the oracles failed when `failures` is not empty
 *
 * @example
 * ```ts ignore
 * import { fuzzPair } from "./_run.ts";
 * import { pairByName } from "./_pairs.ts";
 * const report = await fuzzPair(pairByName("jsonrpc-ws"), {
 *   inputs: 100, seed: 1, concurrency: 4, batch: 50, hangMs: 5000, restart: false,
 * });
 * console.log(report.failures);
 * ```
 */
export async function fuzzPair(pair: Pair, options: RunOptions): Promise<PairReport> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const first = options.first ?? 0;
  const seeds = options.replay ??
    Array.from({ length: options.inputs }, (_, i) => inputSeed(options.seed, first + i));
  const active = new Set<Input>();
  // The inputs whose connections ended last: an exit is seen some time after
  // the bytes that caused it, and that connection may be over by then.
  const recent: Input[] = [];
  let atExit: ReturnType<typeof describe>[] = [];
  const onExit = () => {
    atExit = [
      ...[...active].map((input) => describe(input, "in flight")),
      ...recent.toReversed().map((input) => describe(input, "ended just before")),
    ];
  };
  const failures: Failure[] = [];
  const outcomes: Record<Outcome, number> = { replied: 0, closed: 0, hang: 0, refused: 0 };
  const kinds: Partial<Record<InputKind, number>> = {};
  const exitCauses: Record<string, number> = {};
  let exits = 0, hangs = 0, goodClientFailures = 0, sent = 0;
  const fail = (failure: Failure) => {
    if (failures.length < MAX_REPORTED_FAILURES) failures.push(failure);
  };
  const describe = (input: Input, when: InputWhen) => ({
    seed: input.seed,
    kind: input.kind,
    label: input.label,
    when,
  });

  let server: FuzzServer = await startServer(pair.args, onExit);
  try {
    await checkWithin(pair, server.url); // before any input: the pair itself works
  } catch (error) {
    await server.stop();
    throw new Error(`${pair.name}: the good client fails before any input`, { cause: error });
  }
  const baselineRss = (await server.memory())?.rss ?? 0;
  let peakRss = baselineRss;
  const notePeak = async () => {
    peakRss = Math.max(peakRss, (await server.memory())?.peak ?? 0);
  };
  // Sampled during batches too: a server that exits takes its high-water mark with it.
  let sampling: Promise<void> | undefined;
  const sampler = setInterval(() => {
    sampling ??= notePeak().finally(() => sampling = undefined);
  }, SAMPLE_MS);

  // Records the exit of the current server; starts another when asked to.
  const afterExit = async (): Promise<boolean> => {
    const status = server.exit()!;
    exits++;
    const cause = /^error: .*$/m.exec(server.stderrTail())?.[0] ?? `exit code ${status.code}`;
    exitCauses[cause] = (exitCauses[cause] ?? 0) + 1;
    fail({
      oracle: "process exit",
      inputs: atExit,
      detail: `exit code ${status.code}${
        status.signal ? ` (${status.signal})` : ""
      }; stderr ends:\n${server.stderrTail()}`,
    });
    log(`${pair.name}: the server exited (code ${status.code})`);
    if (!options.restart) return false;
    await server.stop();
    server = await startServer(pair.args, onExit);
    return true;
  };

  let next = 0; // the index in `seeds` of the next input to send
  const worker = async (end: number) => {
    while (next < end && server.exit() === undefined) {
      const input = pair.input(seeds[next++]!, server.port);
      active.add(input);
      const result = await probe(server.port, input, options.hangMs);
      active.delete(input);
      recent.push(input);
      if (recent.length > RECENT) recent.shift();
      sent++;
      outcomes[result.outcome]++;
      kinds[input.kind] = (kinds[input.kind] ?? 0) + 1;
      if (result.outcome === "hang") {
        hangs++;
        fail({ oracle: "hang", inputs: [describe(input, "hung")], detail: result.detail ?? "" });
      }
      if (options.pause) await exitWithin(server, options.pause);
    }
  };

  try {
    let batches = 0;
    while (next < seeds.length) {
      const start = next;
      const end = Math.min(seeds.length, start + options.batch);
      await Promise.all(Array.from({ length: options.concurrency }, () => worker(end)));
      // Let an exit that is under way be seen before the check.
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (server.exit() !== undefined) {
        // The inputs not sent yet go to the next server, if there is one.
        if (await afterExit()) continue;
        break;
      }
      await notePeak();
      try {
        await checkWithin(pair, server.url);
      } catch (error) {
        // A refused connection may be the exit, not seen yet: wait for it a little.
        await exitWithin(server, 1000);
        if (server.exit() !== undefined) {
          if (await afterExit()) continue;
          break;
        }
        goodClientFailures++;
        fail({
          oracle: "good client",
          inputs: [],
          batch: [first + start, first + end - 1],
          detail: `add(1, 2) failed: ${error}`,
        });
      }
      if (++batches % 10 === 0) log(`${pair.name}: ${sent} inputs, peak RSS ${mib(peakRss)}`);
    }
    await notePeak();
  } finally {
    clearInterval(sampler);
    await sampling;
    await server.stop();
  }
  return {
    pair: pair.name,
    seed: options.seed,
    inputs: sent,
    exits,
    exitCauses,
    hangs,
    goodClientFailures,
    outcomes,
    kinds,
    baselineRss,
    peakRss,
    peakPerConnection: Math.max(0, peakRss - baselineRss) / options.concurrency,
    frameLimit: DEFAULT_LIMITS.maxFrameSize,
    failures,
    ms: performance.now() - started,
  };
}

/**
 * Runs the good client, at most CHECK_MS: its calls have a timeout, but not
 * every client bounds its connecting (a WebSocket that is never upgraded).
 */
async function checkWithin(pair: Pair, url: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${CHECK_MS} ms, connecting included`)),
      CHECK_MS,
    );
  });
  try {
    await Promise.race([pair.check(url), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for the server's exit, at most `ms` (the timer does not outlive the wait). */
async function exitWithin(server: FuzzServer, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([server.exited, new Promise((resolve) => timer = setTimeout(resolve, ms))]);
  clearTimeout(timer);
}

/** Bytes as MiB, one decimal. */
export function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/**
 * A report's failures as text: for each, the oracle, what happened and the
 * inputs with their seeds, and how to replay them.
 *
 * @param report what {@linkcode fuzzPair} returned
 * @returns the text, empty when nothing failed
 */
export function formatFailures(report: PairReport): string {
  return report.failures.map((failure) => {
    const inputs = failure.inputs.map((input) =>
      `    ${input.when}: seed ${input.seed} (${input.kind}): ${input.label}`
    ).join("\n");
    const replay = failure.batch !== undefined
      ? `\n  after inputs ${failure.batch[0]}..${
        failure.batch[1]
      }; replay: deno task fuzz --pair ${report.pair} --seed ${report.seed} --first ${
        failure.batch[0]
      } --inputs ${failure.batch[1] - failure.batch[0] + 1}`
      : failure.inputs.length === 0
      ? ""
      : `\n  replay: deno task fuzz --pair ${report.pair} --replay ${
        failure.inputs.map((input) => input.seed).join(",")
      }`;
    return `${report.pair}: ${failure.oracle}: ${failure.detail}\n${inputs}${replay}`;
  }).join("\n\n");
}
