/**
 * `deno task test`'s runner: runs `deno test` with the given arguments, then
 * ends with a short list of the peers whose tests were ignored because the
 * machine lacks them (see `tests/_needs.ts`) and the one `apt-get` line that
 * brings them all. The exit code is `deno test`'s own.
 *
 * ```sh
 * deno run --allow-run --allow-read --allow-env --allow-write=/tmp tools/run_tests.ts --allow-all tests/
 * ```
 *
 * @module
 */

import { DOC_EXAMPLES_NEED, needs, type Peer, PEERS } from "../tests/_needs.ts";

/** The file name `tests/_needs.ts` gives a peer's marker. */
function markerName(peer: string): string {
  return peer.replace(/[^\w.-]/g, "_");
}

/**
 * The peers whose tests a `deno test` process ignored, read from the
 * markers it left (one per peer, written when the first test was ignored).
 */
function ignoredBy(pid: number): Peer[] {
  const dir = `/tmp/parley-needs-${pid}`;
  const markers = new Set<string>();
  try {
    for (const entry of Deno.readDirSync(dir)) markers.add(entry.name);
    Deno.removeSync(dir, { recursive: true });
  } catch {
    // No marker directory: nothing was ignored.
  }
  return (Object.keys(PEERS) as Peer[]).filter((peer) => markers.has(markerName(peer)));
}

const docIgnored = new Set<Peer>();
const leftOut = Object.entries(DOC_EXAMPLES_NEED).filter(([, peer]) => {
  if (!needs(peer)) return false;
  docIgnored.add(peer);
  return true;
}).map(([file]) => file);

const child = new Deno.Command(Deno.execPath(), {
  args: ["test", ...(leftOut.length > 0 ? [`--ignore=${leftOut.join(",")}`] : []), ...Deno.args],
  stdin: "inherit",
  stdout: "inherit",
  stderr: "inherit",
}).spawn();
const { code } = await child.status;

const ignored = [...new Set([...ignoredBy(child.pid), ...docIgnored])];
if (ignored.length > 0) {
  const packages = [...new Set(ignored.map((peer) => PEERS[peer].debian))];
  console.log(
    `\nIgnored for want of a peer on this machine (the tests that need it did not run):`,
  );
  for (const peer of ignored) {
    console.log(`  ${peer.padEnd(20)} Debian package ${PEERS[peer].debian}`);
  }
  if (leftOut.length > 0) console.log(`  (with the doc examples of ${leftOut.join(", ")})`);
  console.log(`To run them: apt-get install ${packages.join(" ")}`);
}
Deno.exit(code);
