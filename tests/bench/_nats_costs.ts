/**
 * What `nats_bench.ts` measures of each way through NATS: calls per second
 * with a number in flight, and the CPU each process of the run spent per
 * call (the client's from `process.cpuUsage()`, the broker's and the
 * responders' from Linux's /proc): whether the cores, and whose, are the
 * limit.
 *
 * @module
 */

import process from "node:process";
import { drive } from "./_harness.ts";
import { cpuSeconds } from "./_proc_cpu.ts";

/** Calls per second, and µs of CPU per call in each process. */
export interface Costed {
  /** Calls per second. */
  readonly rate: number;
  /** The calling process. */
  readonly clientCpu: number;
  /** nats-server. */
  readonly brokerCpu: number;
  /** The responders (workers) together. */
  readonly workersCpu: number;
}

/**
 * Drives `call` with `depth` in flight, and reads the CPU of every process.
 *
 * @param workers the responders' process ids
 * @param brokerPid nats-server's process id
 * @param depth calls in flight
 * @param call makes one call
 * @returns the rate and the CPU per call
 */
export async function costed(
  workers: readonly number[],
  brokerPid: number,
  depth: number,
  call: () => Promise<unknown>,
): Promise<Costed> {
  const used = async () => {
    const each = await Promise.all(workers.map(cpuSeconds));
    return each.reduce((sum, seconds) => sum + seconds, 0);
  };
  const [workersBefore, brokerBefore] = await Promise.all([used(), cpuSeconds(brokerPid)]);
  const clientBefore = process.cpuUsage();
  let calls = 0;
  const rate = await drive(depth, () => (calls++, call()));
  const client = process.cpuUsage(clientBefore);
  const [workersAfter, brokerAfter] = await Promise.all([used(), cpuSeconds(brokerPid)]);
  return {
    rate,
    clientCpu: (client.user + client.system) / calls,
    brokerCpu: ((brokerAfter - brokerBefore) * 1e6) / calls,
    workersCpu: ((workersAfter - workersBefore) * 1e6) / calls,
  };
}
