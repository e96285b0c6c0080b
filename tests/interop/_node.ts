/**
 * The Node-side interop peers (tests/interop/node: a connect-es client and
 * server, a grpc-js benchmark), installed outside the repository so that
 * `deno check`, `deno lint` and `deno fmt` never meet a node_modules.
 *
 * The peers are copied to `/tmp/parley-node-peers-<hash>/`, where `<hash>` is
 * the first 12 hex digits of the SHA-256 of package-lock.json, and installed
 * there once with `npm ci`. A marker file records a finished install; a lock
 * file created with `createNew` keeps two tests from installing at once. The
 * `.mjs` files are copied again on every call, so that edits show up.
 *
 * @module
 */

import assert from "node:assert/strict";
import { formatOutput, run } from "./_process.ts";

/** The peers' sources in the repository. */
const SOURCE_DIR = new URL("./node/", import.meta.url).pathname;

/**
 * A directory holding the contract's calculator.proto, for the peers'
 * `--proto-dir`: the repository's own copy in examples/calculator (the same
 * file as /work/shared/interop/calculator.proto), so that a fresh clone works.
 */
export const CALCULATOR_PROTO_DIR: string = new URL("../../examples/calculator/", import.meta.url)
  .pathname;

/** Written after a successful `npm ci`. */
const MARKER = ".parley-installed";
/** Held while `npm ci` runs. */
const LOCK = ".parley-installing";
/** How long `npm ci` may take. */
const INSTALL_TIMEOUT_MS = 300_000;
/** How long to wait for another process's install before giving up. */
const WAIT_TIMEOUT_MS = INSTALL_TIMEOUT_MS + 60_000;
/** A lock older than this is left over from a process that died; it is removed. */
const STALE_LOCK_MS = INSTALL_TIMEOUT_MS + 30_000;
const POLL_MS = 250;

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Copies a file by writing a temporary file and renaming it over the target. */
async function copyAtomically(from: string, to: string): Promise<void> {
  const temporary = `${to}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.copyFile(from, temporary);
    await Deno.rename(temporary, to);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}

/** Runs `npm ci` in `dir`, at most INSTALL_TIMEOUT_MS; throws with npm's output. */
async function npmCi(dir: string): Promise<void> {
  const args = ["ci", "--no-audit", "--no-fund", "--ignore-scripts"];
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("npm", {
      args,
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(INSTALL_TIMEOUT_MS),
    }).output();
  } catch (error) {
    throw new Error(`npm ${args.join(" ")} in ${dir} could not run: ${error}`, { cause: error });
  }
  if (!output.success) {
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    const how = output.signal
      ? `was killed (${output.signal}; the limit is ${INSTALL_TIMEOUT_MS} ms)`
      : `failed with exit code ${output.code}`;
    throw new Error(
      `npm ${args.join(" ")} in ${dir} ${how}\n--- stdout ---\n${
        text(output.stdout)
      }\n--- stderr ---\n${text(output.stderr)}`,
    );
  }
}

/** Tries to take the install lock; false if another process holds it. */
async function tryLock(path: string): Promise<boolean> {
  try {
    const file = await Deno.open(path, { write: true, createNew: true });
    await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
    file.close();
    return true;
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  // Held: remove it if it is left over from a process that died mid-install.
  const info = await Deno.stat(path).catch(() => undefined);
  const age = info?.mtime ? Date.now() - info.mtime.getTime() : 0;
  if (age > STALE_LOCK_MS) await Deno.remove(path).catch(() => {});
  return false;
}

/** Installs the dependencies in `dir` once, whoever gets there first. */
async function ensureInstalled(dir: string): Promise<void> {
  const marker = `${dir}/${MARKER}`;
  const lock = `${dir}/${LOCK}`;
  const deadline = Date.now() + WAIT_TIMEOUT_MS;
  while (!(await exists(marker))) {
    if (await tryLock(lock)) {
      try {
        // Another process may have finished between our check and our lock.
        if (!(await exists(marker))) {
          await npmCi(dir);
          await Deno.writeTextFile(marker, `${new Date().toISOString()}\n`);
        }
      } finally {
        await Deno.remove(lock).catch(() => {});
      }
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `gave up after ${WAIT_TIMEOUT_MS} ms waiting for another install in ${dir} (lock ${lock})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Makes sure the Node peers are installed and returns the directory to run
 * them from, e.g. `node DIR/connect_server.mjs --proto-dir PROTO_DIR`. Pass
 * `--proto-dir` (such as {@linkcode CALCULATOR_PROTO_DIR}): from their copy
 * in /tmp the peers cannot find the contract by their own location.
 *
 * The first call for a given package-lock.json runs `npm ci` (npm must be on
 * the PATH, and the registry reachable); later calls only refresh the `.mjs`
 * files. Safe to call from tests running in parallel.
 *
 * @returns the absolute path of `/tmp/parley-node-peers-<hash>`
 * @throws {Error} when `npm ci` fails or times out (with npm's output), or when
 * another process's install does not finish in time
 */
export async function nodePeers(): Promise<string> {
  const lockFile = await Deno.readFile(`${SOURCE_DIR}package-lock.json`);
  const dir = `/tmp/parley-node-peers-${(await sha256Hex(lockFile)).slice(0, 12)}`;
  await Deno.mkdir(dir, { recursive: true });
  const sources = ["package.json", "package-lock.json"];
  for await (const entry of Deno.readDir(SOURCE_DIR)) {
    if (entry.isFile && entry.name.endsWith(".mjs")) sources.push(entry.name);
  }
  for (const name of sources) {
    await copyAtomically(`${SOURCE_DIR}${name}`, `${dir}/${name}`);
  }
  await ensureInstalled(dir);
  return dir;
}

/**
 * Runs one of the Node peers (`script`, such as `grpc_web_client.mjs`) with
 * `args` and `--proto-dir` {@linkcode CALCULATOR_PROTO_DIR}, asserts that it
 * exited 0, and returns the JSON line it printed.
 *
 * @param script the peer's file name in tests/interop/node
 * @param args its arguments before `--proto-dir`
 * @returns what it printed, parsed
 */
export async function nodePeerJson(script: string, ...args: string[]): Promise<
  // deno-lint-ignore no-explicit-any
  any
> {
  const dir = await nodePeers();
  const peer = await run("node", {
    args: [`${dir}/${script}`, ...args, "--proto-dir", CALCULATOR_PROTO_DIR],
    timeout: 60_000,
  });
  assert.equal(peer.code, 0, `${script} failed\n${formatOutput(peer)}`);
  return JSON.parse(peer.stdout);
}
