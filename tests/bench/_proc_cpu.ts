/**
 * The CPU another process has used, for the benchmarks that put a cost per
 * call on each process of a run (`nats_bench.ts`: the client, the broker,
 * the workers).
 *
 * @module
 */

/**
 * CPU seconds a process has used so far, from Linux's /proc (read by `cat`:
 * Deno lets only --allow-all read another process's /proc files); NaN
 * elsewhere.
 *
 * @param pid the process
 * @returns its user + system CPU seconds, to 10 ms
 */
export async function cpuSeconds(pid: number): Promise<number> {
  try {
    const { stdout } = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`] }).output();
    const fields = new TextDecoder().decode(stdout).split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in ticks of 10 ms
  } catch {
    return NaN;
  }
}
