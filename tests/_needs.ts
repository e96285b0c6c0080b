/**
 * Ignores tests whose peer program or Python module is absent, so that the
 * README's test command passes on a machine with only Node and npm. Each
 * missing peer is reported once, with the Debian package that brings it.
 * `PARLEY_REQUIRE_PEERS=1` (CI) ignores nothing, so a missing peer fails;
 * `PARLEY_PRETEND_MISSING=nvim,py:msgpack` makes peers look absent, to test
 * this very mechanism.
 *
 * @example Ignore a test without Neovim
 * ```ts
 * import { needs } from "./_needs.ts";
 *
 * Deno.test("talks to nvim", { ignore: needs("nvim") }, () => {});
 * ```
 *
 * @module
 */

import { DEBIAN_PYTHON } from "./interop/_process.ts";

/** How a peer is found: a program on the PATH or a module of DEBIAN_PYTHON. */
interface PeerInfo {
  readonly program?: string;
  readonly module?: string;
  /** The Debian package that installs it. */
  readonly debian: string;
}

/** Every peer a test may need; `py:` names are Python modules. */
export const PEERS = {
  "python3": { program: "python3", debian: "python3" },
  "py:msgpack": { module: "msgpack", debian: "python3-msgpack" },
  "py:websockets": { module: "websockets", debian: "python3-websockets" },
  "py:google.protobuf": { module: "google.protobuf", debian: "python3-protobuf" },
  "py:thrift": { module: "thrift", debian: "python3-thrift" },
  "py:grpc": { module: "grpc", debian: "python3-grpcio" },
  "py:rpyc": { module: "rpyc", debian: "python3-rpyc" },
  "protoc": { program: "protoc", debian: "protobuf-compiler" },
  "thrift": { program: "thrift", debian: "thrift-compiler" },
  "nvim": { program: "nvim", debian: "neovim" },
  "nats-server": { program: "nats-server", debian: "nats-server" },
  "chromium": { program: "chromium", debian: "chromium" },
  "supervisord": { program: "supervisord", debian: "supervisor" },
} as const satisfies Record<string, PeerInfo>;

/** The name of a known peer. */
export type Peer = keyof typeof PEERS;

/**
 * Source files whose JSDoc examples (run by `--doc`) need a peer: a doc
 * example cannot ignore itself, so `deno task test`'s runner
 * (tools/run_tests.ts) leaves the file out instead. `tests/needs_test.ts`
 * checks every example that starts a nats-server is listed.
 */
export const DOC_EXAMPLES_NEED: Readonly<Record<string, Peer>> = {
  "protocols/nats/connection.ts": "nats-server",
  "protocols/nats/mod.ts": "nats-server",
  "rpc/transports/nats.ts": "nats-server",
  "rpc/transports/nats/_replies.ts": "nats-server",
  "rpc/transports/nats/_wire.ts": "nats-server",
  "rpc/transports/nats/client.ts": "nats-server",
  "rpc/transports/nats/core.ts": "nats-server",
  "rpc/transports/nats/natsjs.ts": "nats-server",
  "testing/nats_server.ts": "nats-server",
};

/**
 * Whether `program` is an executable file in a directory of the PATH.
 *
 * @example
 * ```ts
 * import { onPath } from "./_needs.ts";
 *
 * console.log(onPath("sh"));
 * ```
 */
export function onPath(program: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    try {
      const info = Deno.statSync(`${dir}/${program}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return true;
    } catch {
      // Not in this directory.
    }
  }
  return false;
}

let missingModules: Set<string> | undefined;

/** The known Python modules DEBIAN_PYTHON cannot import, asked in one process. */
function pythonMissing(): Set<string> {
  if (missingModules) return missingModules;
  const modules: string[] = Object.values(PEERS as Record<string, PeerInfo>)
    .flatMap((p) => p.module ? [p.module] : []);
  const script = `import importlib, sys
for m in sys.argv[1:]:
    try:
        importlib.import_module(m)
    except Exception:
        print(m)`;
  try {
    const out = new Deno.Command(DEBIAN_PYTHON, {
      args: ["-c", script, ...modules],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    missingModules = out.success
      ? new Set(new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== ""))
      : new Set(modules);
  } catch {
    // No Python at all: every module is missing.
    missingModules = new Set(modules);
  }
  return missingModules;
}

/**
 * Whether `peer` is present (ignoring `PARLEY_PRETEND_MISSING`).
 *
 * @example
 * ```ts
 * import { present } from "./_needs.ts";
 *
 * console.log(present("nvim"));
 * ```
 */
export function present(peer: Peer): boolean {
  const info: PeerInfo = PEERS[peer];
  if (info.module) return !pythonMissing().has(info.module);
  return onPath(info.program ?? peer);
}

/**
 * Prints the missing-peer line once per test run: test files run as
 * workers of one process, so a marker file named after that process tells
 * the others that the line is out.
 */
function reportOnce(peer: Peer): void {
  const dir = `/tmp/parley-needs-${Deno.pid}`;
  try {
    Deno.mkdirSync(dir, { recursive: true });
    Deno.writeTextFileSync(`${dir}/${peer.replace(/[^\w.-]/g, "_")}`, "", { createNew: true });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return;
    // Without a marker (no /tmp), report per file rather than never.
  }
  const { debian } = PEERS[peer];
  console.error(
    `ignored: tests needing ${peer} (Debian package ${debian}: apt-get install ${debian})`,
  );
}

const reported = new Set<Peer>();

/**
 * The `ignore` value for a test that needs `peers`: true when one of them is
 * missing (and `PARLEY_REQUIRE_PEERS` is not `1`), after printing one line
 * per missing peer to stderr.
 *
 * @example
 * ```ts
 * import { needs } from "./_needs.ts";
 *
 * Deno.test({ name: "msgpack peer", ignore: needs("python3", "py:msgpack"), fn() {} });
 * ```
 *
 * @param peers the programs and Python modules the test runs
 * @returns whether to ignore the test
 */
export function needs(...peers: Peer[]): boolean {
  if (Deno.env.get("PARLEY_REQUIRE_PEERS") === "1") return false;
  const pretend = (Deno.env.get("PARLEY_PRETEND_MISSING") ?? "").split(",");
  let ignore = false;
  for (const peer of peers) {
    if (!pretend.includes(peer) && present(peer)) continue;
    ignore = true;
    if (!reported.has(peer)) {
      reported.add(peer);
      reportOnce(peer);
    }
  }
  return ignore;
}

/** `Deno.test`'s two common forms, for {@linkcode testNeeding}. */
export interface PeerTest {
  /** A test named `name`. */
  (name: string, fn: (t: Deno.TestContext) => void | Promise<void>): void;
  /** A test from a full definition; its own `ignore` still counts. */
  (definition: Deno.TestDefinition): void;
}

/**
 * `Deno.test` for a file whose tests all need `peers`: each is ignored when
 * {@linkcode needs} says so, keeping the test bodies untouched.
 *
 * @example
 * ```ts
 * import { testNeeding } from "./_needs.ts";
 *
 * // At the top of a test file whose every test runs nvim; then
 * // test("talks to nvim", async () => {...}) replaces Deno.test. (Not called
 * // here: a documentation example is itself a test, and tests do not nest.)
 * const test = testNeeding("nvim");
 * console.log(typeof test); // "function"
 * ```
 *
 * @param peers the programs and Python modules every test of the file runs
 * @returns a function used like `Deno.test`
 */
export function testNeeding(...peers: Peer[]): PeerTest {
  const ignore = needs(...peers);
  return (
    first: string | Deno.TestDefinition,
    fn?: (t: Deno.TestContext) => void | Promise<void>,
  ): void => {
    if (typeof first === "string") {
      if (!fn) throw new TypeError(`test ${first} has no function`);
      Deno.test({ name: first, ignore, fn });
    } else {
      Deno.test({ ...first, ignore: ignore || (first.ignore ?? false) });
    }
  };
}
