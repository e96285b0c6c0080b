/**
 * parley drives Python through Python's own RPyC protocol:
 *
 * ```sh
 * deno task example:rpyc
 * ```
 *
 * It starts Python's `rpyc_classic` server on a free port and, from
 * TypeScript, through `connectRpycClassic`:
 *
 * 1. lists a directory through Python's `os` (`conn.modules.os.listdir(".")`);
 * 2. sorts the names with Python's `sorted(names, key=…)`, the key a
 *    TypeScript function that Python calls back over the same connection;
 * 3. defines a Python function with `execute` and calls it with another
 *    TypeScript function;
 * 4. releases every reference and shows both counts going to 0: Python's
 *    objects held here, and TypeScript functions held by Python;
 * 5. stops the Python process by its PID.
 *
 * Needs `python3` with RPyC (Debian: `apt-get install python3-rpyc`); without
 * it, says so and exits 0. Classic mode is remote code execution by design:
 * the server listens on 127.0.0.1 only (see docs/rpyc.md).
 *
 * @module
 */

import {
  connectRpycClassic,
  kw,
  netrefOf,
  type RemoteObject,
  type RpycSession,
} from "../rpc/transports/rpyc.ts";

const PYTHON = (() => {
  try {
    Deno.statSync("/usr/bin/python3");
    return "/usr/bin/python3"; // Debian's, whose python3-rpyc this needs
  } catch {
    return "python3";
  }
})();

async function hasRpyc(): Promise<boolean> {
  try {
    const probe = new Deno.Command(PYTHON, {
      args: ["-c", "import rpyc"],
      stdout: "null",
      stderr: "null",
    });
    return (await probe.output()).success;
  } catch {
    return false; // no python3 at all
  }
}

if (!await hasRpyc()) {
  console.log(
    "Skipped: this example needs python3 with RPyC (Debian: apt-get install python3-rpyc).",
  );
  Deno.exit(0);
}

// `rpyc_classic -p 0` binds a free port and logs "server started on [HOST]:PORT" on stderr.
const python = new Deno.Command(PYTHON, {
  args: [
    "-c",
    "from rpyc.cli.rpyc_classic import main; main()",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
  ],
  stdin: "null",
  stdout: "null",
  stderr: "piped",
}).spawn();
const log = python.stderr.pipeThrough(new TextDecoderStream()).getReader();

async function startedPort(): Promise<number | undefined> {
  let text = "";
  const deadline = setTimeout(() => log.cancel(), 15_000);
  try {
    for (;;) {
      const { value, done } = await log.read();
      if (done) return undefined;
      text += value;
      const port = text.match(/server started on \[[^\]]+\]:(\d+)/)?.[1];
      if (port !== undefined) return Number(port);
    }
  } finally {
    clearTimeout(deadline);
  }
}

// Waits (bounded) until Python has given back every TypeScript function it held.
async function allGivenBack(session: RpycSession): Promise<void> {
  for (let i = 0; i < 100 && session.liveLocalObjects > 0; i++) await session.ping();
}

const port = await startedPort();
try {
  if (port === undefined) {
    console.error("rpyc_classic did not start.");
    Deno.exitCode = 1;
  } else {
    console.log(`Python's rpyc_classic (pid ${python.pid}) serves 127.0.0.1:${port}`);
    const conn = await connectRpycClassic({ hostname: "127.0.0.1", port });
    const { session } = conn;
    {
      await using builtins = await conn.builtins as RemoteObject;
      await using os = await conn.modules.os as RemoteObject;
      await using listing = await os.listdir!(".") as RemoteObject; // a Python list: a netref
      const names = await builtins.tuple!(listing) as readonly string[]; // a tuple: values
      console.log(`os.listdir(".") has ${names.length} entries, such as`, names.slice(0, 3));

      let calls = 0;
      let lent = 0;
      const key = (name: string): number => { // Python calls this back, once per name
        calls++;
        lent = session.liveLocalObjects;
        return name.length;
      };
      await using sorted = await builtins.sorted!(listing, kw({ key })) as RemoteObject;
      const shortest = await builtins.tuple!(sorted) as readonly string[];
      console.log(
        `sorted(names, key=<TypeScript function>): Python held ${lent} TypeScript function`,
        `and called it back ${calls} times;`,
        `shortest first:`,
        shortest.slice(0, 3),
      );

      await conn.execute("def twice(f, x):\n    return f(f(x))");
      const twice = await conn.eval("twice") as RemoteObject;
      await using _twice = twice;
      console.log(
        "twice(lambda x: x * 3, 7) with a TypeScript lambda =",
        await twice((x: number) => x * 3, 7),
      );
      await conn.execute("del twice");
      console.log(
        `while in use: ${session.liveNetrefs} Python objects held here,`,
        `${session.liveLocalObjects} TypeScript functions held by Python`,
      );
    }
    await allGivenBack(session);
    await netrefOf(conn.root)!.release(); // the root, last
    console.log(
      `released: ${session.liveNetrefs} Python objects held here,`,
      `${session.liveLocalObjects} TypeScript functions held by Python`,
    );
    await conn.close();
  }
} finally {
  python.kill("SIGTERM"); // by its PID: the process this example started
  await log.cancel().catch(() => {});
  const status = await python.status;
  console.log(`stopped rpyc_classic (pid ${python.pid}, ${status.signal ?? status.code})`);
}
