/**
 * A process's memory, for the tests that bound it (Linux). Read through
 * `cat`: Deno asks for --allow-all to read /proc directly, and the test task
 * grants only --allow-run, --allow-read of the tree and the rest it needs.
 */

import assert from "node:assert/strict";

/** A process's resident memory now and at its peak, in bytes. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const output = new Deno.Command("cat", { args: [`/proc/${pid}/status`] }).outputSync();
  assert.equal(output.code, 0, `cannot read /proc/${pid}/status: is the process gone?`);
  const status = new TextDecoder().decode(output.stdout);
  const kib = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status);
    assert.ok(match, `no ${field} in /proc/${pid}/status`);
    return Number(match[1]) * 1024;
  };
  return { rss: kib("VmRSS"), peak: kib("VmHWM") };
}
